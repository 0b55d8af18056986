package ratelimit

import (
	"container/heap"
	"context"
	"sync"
)

// Shares orders the callers of one budget by weight: start-time fair
// queueing (SFQ) in front of a Limiter. Callers of the same operation enter
// one at a time, in order of priority class and then of virtual start
// time, where each caller's tags advance by 1/weight per request. So under
// contention, callers with weights 2 and 1 are admitted 2:1 whatever their
// request rates, and an idle caller banks at most Credit turns (its start
// is never earlier than the current virtual time less Credit).
//
// The virtual time is the start tag of the last turn granted, not its
// finish tag: a caller that comes back while the current round is still
// being served (a closed-loop client with one request at a time, whose own
// SDK takes longer between calls than its peers') joins that round instead
// of the next one. With finish tags (self-clocked fair queueing) such a
// caller is pushed one whole round back each time it is not already queued
// when the round starts, and gets half the turns of a quicker peer.
//
//	release, err := shares.Enter(ctx, op, "dialer", 2, PriorityNormal)
//	if err != nil { return err }
//	err = limiter.Wait(ctx, Request{Op: op})
//	release()
//
// Shares decides only the order; the tokens still come from the Limiter,
// so the rates, the account bucket and the Redis sharing are unchanged.
// Between operations there is no ordering: each keeps its own queue. A
// zero Shares is ready to use and safe for concurrent use.
//
// Slots lets that many callers of one operation hold a turn at once (0
// means 1): a turn is held while waiting in the Limiter, so with Slots
// above 1 uncontended callers do not hand the turn over one by one, while
// under contention the order in which callers reach the Limiter's queue is
// still the weighted one (the Limiter serves its queue in order).
type Shares struct {
	Slots int
	// Credit is how far, in turns of a weight-1 caller, a caller may fall
	// behind the virtual time and still catch up (0: not at all). A caller
	// that arrives late (a process whose SDK took longer to start, a
	// Lambda's cold start) while others spend the bucket's burst is
	// admitted first until it has had as many turns as they (at most
	// Credit more than the current round); an idle caller banks at most
	// Credit turns.
	Credit float64

	mu  sync.Mutex // guards ops
	ops map[string]*shareQueue
}

// shareQueue is the queue of one operation. Requires Shares.mu held.
type shareQueue struct {
	vtime  float64            // virtual time: start tag of the last granted entry
	last   map[string]float64 // caller → finish tag of its last request
	q      shareHeap
	busy   int // entries holding a turn (between grant and release)
	seq    uint64
	refcnt int
}

type shareEntry struct {
	start    float64 // virtual start tag: the order within a class
	class    int
	seq      uint64
	idx      int
	granted  chan struct{}
	isGrant  bool
	released bool
}

type shareHeap []*shareEntry

func (h shareHeap) Len() int { return len(h) }
func (h shareHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.class != b.class {
		return a.class < b.class
	}
	if a.start != b.start {
		return a.start < b.start
	}
	return a.seq < b.seq
}
func (h shareHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].idx = i; h[j].idx = j }
func (h *shareHeap) Push(x any)   { e := x.(*shareEntry); e.idx = len(*h); *h = append(*h, e) }
func (h *shareHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	e.idx = -1
	return e
}

// Enter waits until it is caller's turn on op, given its weight (≤ 0
// means 1) and priority class, and returns the function that ends the
// turn (call it once admission is over, successful or not). If ctx ends
// first it leaves the queue and returns ctx.Err().
func (s *Shares) Enter(ctx context.Context, op, caller string, weight float64, p Priority) (release func(), err error) {
	if weight <= 0 {
		weight = 1
	}
	s.mu.Lock()
	if s.ops == nil {
		s.ops = map[string]*shareQueue{}
	}
	sq := s.ops[op]
	if sq == nil {
		sq = &shareQueue{last: map[string]float64{}}
		s.ops[op] = sq
	}
	sq.refcnt++
	start := max(sq.vtime-s.Credit, sq.last[caller])
	e := &shareEntry{start: start, class: p.Class(), seq: sq.seq}
	sq.seq++
	sq.last[caller] = start + 1/weight
	if sq.busy < s.slots() && sq.q.Len() == 0 {
		// A free slot and nobody waiting: the turn is this caller's at once.
		sq.busy++
		e.isGrant = true
		sq.vtime = max(sq.vtime, e.start)
		s.mu.Unlock()
		return func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if !e.released {
				e.released = true
				sq.busy--
				s.doneLocked(op, sq)
			}
		}, nil
	}
	e.granted = make(chan struct{})
	heap.Push(&sq.q, e)
	s.grantLocked(sq)
	s.mu.Unlock()

	rel := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if e.released {
			return
		}
		e.released = true
		sq.busy--
		s.doneLocked(op, sq)
	}
	select {
	case <-e.granted:
		return rel, nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.isGrant { // granted in the meantime: give the turn back
		e.released = true
		sq.busy--
	} else {
		heap.Remove(&sq.q, e.idx)
	}
	s.doneLocked(op, sq)
	return nil, ctx.Err()
}

// Return gives back caller's last turn on op (of the given weight, ≤ 0
// means 1): its next Enter gets the tag the returned turn had. Call it when
// the turn was spent on an attempt the service refused (a throttle) and the
// request is about to be retried, so that a retry keeps the caller's place
// rather than costing it a round.
func (s *Shares) Return(op, caller string, weight float64) {
	if weight <= 0 {
		weight = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sq := s.ops[op]; sq != nil {
		if v, ok := sq.last[caller]; ok {
			sq.last[caller] = v - 1/weight
		}
	}
}

// maxIdleQueues bounds the idle operation queues Shares keeps.
const maxIdleQueues = 1024

func (s *Shares) slots() int { return max(s.Slots, 1) }

// grantLocked gives turns to the queue's head while slots are free.
// Requires mu held.
func (s *Shares) grantLocked(sq *shareQueue) {
	for sq.busy < s.slots() && sq.q.Len() > 0 {
		e := heap.Pop(&sq.q).(*shareEntry)
		sq.busy++
		e.isGrant = true
		sq.vtime = max(sq.vtime, e.start)
		close(e.granted)
	}
}

// doneLocked ends one entry's life and grants the next turn. An idle
// operation's queue is kept, so that its callers' tags outlive the moments
// when nobody waits (a burst admits everyone at once; forgetting then would
// forget who had the burst), unless more than maxIdleQueues operations are
// held. Requires mu held.
func (s *Shares) doneLocked(op string, sq *shareQueue) {
	sq.refcnt--
	s.grantLocked(sq)
	if sq.refcnt == 0 && len(s.ops) > maxIdleQueues {
		delete(s.ops, op)
	}
}
