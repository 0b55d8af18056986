package ratelimit

import (
	"iter"
	"time"
)

// NumClasses is the number of priority classes, PriorityCritical through
// PriorityLow. Class c of a WaitQueue serves Priority(c)+PriorityCritical.
const NumClasses = int(PriorityLow-PriorityCritical) + 1

// RankAged is the rank of an aged waiter: it goes ahead of every class
// (whose ranks are the class indexes 0 to NumClasses-1).
const RankAged = -1

// WaitQueue is the priority wait queue of a limiter: one FIFO per priority
// class, served in rank order. Waiters queued longer than the aging bound
// rank first (RankAged), oldest first, whatever their class; then each
// class from PriorityCritical to PriorityLow, FIFO within a class. Aging
// bounds starvation: a Low waiter under sustained higher-class demand still
// goes after at most the aging bound plus the time to serve what was queued
// ahead of it by then.
//
// WaitQueue holds only the order; the limiter decides, during Walk, whether
// each waiter can go. Time is a parameter: every method that depends on it
// takes now. It is not safe for concurrent use (limiters lock around it),
// and visit functions must not change the queue they walk. T is usually a
// pointer to the limiter's waiter. Both ratelimit.Hierarchy and the Redis
// limiter (package redisx) use it, so one priority policy governs both.
type WaitQueue[T comparable] struct {
	aging time.Duration // <= 0: no aging
	q     [NumClasses][]queued[T]
	n     int
	seq   uint64
}

// queued is one entry of a class FIFO.
type queued[T any] struct {
	v    T
	enq  time.Time
	seq  uint64 // arrival order across classes
	gone bool   // removed during a walk; compacted after it
}

// NewWaitQueue returns an empty queue with the given aging bound: zero
// means DefaultAging, a negative value disables aging (strict priority).
func NewWaitQueue[T comparable](aging time.Duration) *WaitQueue[T] {
	if aging == 0 {
		aging = DefaultAging
	}
	return &WaitQueue[T]{aging: aging}
}

// Aging returns the aging bound; zero or negative means aging is off.
func (q *WaitQueue[T]) Aging() time.Duration { return q.aging }

// Len returns the number of queued waiters.
func (q *WaitQueue[T]) Len() int { return q.n }

// Push queues v at now in p's class, behind every waiter already queued.
func (q *WaitQueue[T]) Push(now time.Time, p Priority, v T) {
	c := p.Class()
	q.q[c] = append(q.q[c], queued[T]{v: v, enq: now, seq: q.seq})
	q.seq++
	q.n++
}

// Remove drops v from the queue and reports whether it was there.
func (q *WaitQueue[T]) Remove(v T) bool {
	for c := range q.q {
		s := q.q[c]
		for i := range s {
			if s[i].v == v && !s[i].gone {
				copy(s[i:], s[i+1:])
				s[len(s)-1] = queued[T]{}
				q.q[c] = s[:len(s)-1]
				q.n--
				return true
			}
		}
	}
	return false
}

// aged reports whether a waiter queued at enq is aged at now.
func (q *WaitQueue[T]) aged(now, enq time.Time) bool {
	return q.aging > 0 && !enq.After(now.Add(-q.aging))
}

// Walk calls visit for the queued waiters in service order at now, with
// each one's rank (RankAged, or its class). visit returns remove to drop
// the waiter from the queue (it was granted or failed) and stop to end the
// walk (no later waiter can go). Walk does not allocate.
func (q *WaitQueue[T]) Walk(now time.Time, visit func(v T, rank int) (remove, stop bool)) {
	var cur [NumClasses]int
	removed, stopped := false, false
	do := func(e *queued[T], rank int) {
		rm, st := visit(e.v, rank)
		if rm {
			e.gone, removed = true, true
		}
		stopped = st
	}
	if q.aging > 0 {
		// Aged waiters are a prefix of each class FIFO: merge the
		// prefixes by arrival.
		for !stopped {
			best := -1
			for c := range NumClasses {
				if cur[c] >= len(q.q[c]) || !q.aged(now, q.q[c][cur[c]].enq) {
					continue
				}
				if best < 0 || q.q[c][cur[c]].seq < q.q[best][cur[best]].seq {
					best = c
				}
			}
			if best < 0 {
				break
			}
			cur[best]++
			do(&q.q[best][cur[best]-1], RankAged)
		}
	}
	for c := 0; c < NumClasses && !stopped; c++ {
		for i := cur[c]; i < len(q.q[c]) && !stopped; i++ {
			do(&q.q[c][i], c)
		}
	}
	if removed {
		q.compact()
	}
}

// compact drops the waiters removed during a walk.
func (q *WaitQueue[T]) compact() {
	for c := range q.q {
		s := q.q[c]
		n := 0
		for _, e := range s {
			if !e.gone {
				s[n] = e
				n++
			}
		}
		clear(s[n:])
		q.n -= len(s) - n
		q.q[c] = s[:n]
	}
}

// Ahead yields, at now, the queued waiters that a new request of priority p
// ranks behind: every waiter of p's class or a higher one, and every aged
// waiter. Limiters refuse a new request while one of these holds its
// bucket, so that polling cannot overtake queued callers.
func (q *WaitQueue[T]) Ahead(now time.Time, p Priority) iter.Seq[T] {
	class := p.Class()
	return func(yield func(T) bool) {
		for c := range q.q {
			for _, e := range q.q[c] {
				if (c <= class || q.aged(now, e.enq)) && !yield(e.v) {
					return
				}
			}
		}
	}
}
