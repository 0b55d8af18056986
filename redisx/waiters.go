package redisx

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// This process's waiters queue in a ratelimit.WaitQueue, the one
// ratelimit.Hierarchy uses: aged waiters (queued longer than Options.Aging)
// oldest first, then each class from PriorityCritical to PriorityLow, FIFO
// within a class. One dispatcher goroutine walks it, asking the shared buckets (or the local
// ones in fallback mode) for each waiter in turn; a waiter that must wait
// holds its operation against the waiters behind it, and one held back by
// the account stops the walk. Waiters of different processes compete only
// through the shared buckets.

// noBlock is the rank meaning "nothing held": after every real rank.
const noBlock = ratelimit.NumClasses

// waiter is one blocked Wait call. Guarded by Limiter.mu.
type waiter struct {
	st        *opState
	cost      float64
	prio      ratelimit.Priority
	rank      int // set by orderedLocked: ratelimit.RankAged or the class
	deadline  time.Time
	hasDL     bool
	ready     chan struct{} // closed when done
	done      bool
	granted   bool
	scheduled bool        // holds a reservation; granted by timer when its slot comes
	timer     *time.Timer // the reservation's timer
	err       error
}

// enqueueLocked queues w. Requires mu held.
func (l *Limiter) enqueueLocked(w *waiter, now time.Time) {
	l.q.Push(now, w.prio, w)
}

// finishLocked marks w done, unlinks it and wakes it. Requires mu held.
func (l *Limiter) finishLocked(w *waiter, granted bool) {
	if w.done {
		return
	}
	l.unlinkLocked(w)
	w.done, w.granted = true, granted
	close(w.ready)
}

// removeLocked drops a pending waiter whose caller gave up. Requires mu
// held.
func (l *Limiter) removeLocked(w *waiter) {
	if w.done {
		return
	}
	l.unlinkLocked(w)
	w.done = true
}

func (l *Limiter) unlinkLocked(w *waiter) { l.q.Remove(w) }

// failAllLocked fails every queued waiter with err. Requires mu held.
func (l *Limiter) failAllLocked(err error) {
	l.q.Walk(time.Now(), func(w *waiter, _ int) (bool, bool) {
		w.err = err
		w.done, w.granted = true, false
		close(w.ready)
		return true, false
	})
}

// orderedLocked returns the queued waiters in service order at now, setting
// their ranks. Requires mu held.
func (l *Limiter) orderedLocked(now time.Time) []*waiter {
	out := make([]*waiter, 0, l.q.Len())
	l.q.Walk(now, func(w *waiter, rank int) (bool, bool) {
		w.rank = rank
		out = append(out, w)
		return false, false
	})
	return out
}

// blockedLocked reports whether a queued waiter ranking ahead of a new
// request of priority p holds st or the account, or this process holds a
// reservation of st whose slot is still to come. Requires mu held.
func (l *Limiter) blockedLocked(st *opState, p ratelimit.Priority, now time.Time) bool {
	if l.Mode() == ModeShared && st.resvUntil.After(now) {
		return true // this process holds a slot still to come: queue behind it
	}
	if l.q.Len() == 0 {
		return false
	}
	if l.acct.blockRank <= p.Class() {
		return true
	}
	for w := range l.q.Ahead(now, p) {
		if w.st == st {
			return true
		}
	}
	return false
}

// estimateLocked is a lower bound on the wait of a request of priority p
// refused because of queued waiters: the time until the one holding the
// bucket may go, plus the cost of the waiters ahead of it at the rate.
// Requires mu held.
func (l *Limiter) estimateLocked(st *opState, cost float64, p ratelimit.Priority, now time.Time) time.Duration {
	d := max(st.retryAt.Sub(now), l.acct.retryAt.Sub(now), st.resvUntil.Sub(now), 0)
	need := cost
	for w := range l.q.Ahead(now, p) {
		if w.st == st {
			need += w.cost
		}
	}
	if r := effRate(st.base); r > 0 {
		d = max(d, ratelimit.DurationFor(need, r))
	}
	return max(d, time.Millisecond)
}

// wake nudges the dispatcher.
func (l *Limiter) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// maxIdlePass bounds the dispatcher's sleep while waiters are queued, so a
// missed wake-up costs at most this long.
const maxIdlePass = 250 * time.Millisecond

func (l *Limiter) dispatchLoop() {
	defer l.wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-l.kick:
		case <-t.C:
		}
		if next := l.pass(); next > 0 {
			t.Reset(next)
		}
	}
}

// pipeline is how far ahead of its slot a process may reserve for its
// next waiter on an operation. With one reservation at a time per process
// (at quota rates a slot is tens of milliseconds apart) the processes of a
// fleet take turns; the small overlap keeps one process at a high rate from
// losing a round trip per token.
const pipeline = 5 * time.Millisecond

// maxReserve is the longest reservation for a waiter without a deadline.
const maxReserve = time.Hour

// pass serves the queue once and returns how long until the next pass (0:
// the queue is empty). In shared mode the waiter at the head of each
// operation reserves its tokens in Redis (one round trip, no polling; the
// fleet is served in the order reservations arrive) and is released when
// its slot comes; in fallback mode the local buckets are polled.
func (l *Limiter) pass() time.Duration {
	l.mu.Lock()
	if l.closed || l.q.Len() == 0 {
		l.acct.blockRank = noBlock
		l.mu.Unlock()
		return 0
	}
	order := l.orderedLocked(time.Now())
	l.mu.Unlock()

	next := maxIdlePass
	held := map[*opState]bool{}
	acctRank := noBlock
	for _, w := range order {
		now := time.Now()
		l.mu.Lock()
		skip := w.done || w.scheduled || held[w.st]
		shared := l.Mode() == ModeShared
		if !skip && shared {
			if ahead := w.st.resvUntil.Sub(now); ahead > pipeline {
				// This process already holds the next slot of this
				// operation: wait for it before reserving another.
				held[w.st] = true
				next = min(next, ahead-pipeline)
				skip = true
			}
		}
		l.mu.Unlock()
		if skip {
			continue
		}
		maxWait := time.Duration(-1)
		if shared {
			maxWait = maxReserve
			if w.hasDL {
				maxWait = max(time.Until(w.deadline), 0)
			}
		}
		v, err := l.admit(context.Background(), w.st, w.cost, maxWait)
		now = time.Now()
		l.mu.Lock()
		if w.done {
			// The caller gave up while we asked: give back what we got.
			if err == nil && v.ok {
				l.cancelGrantLocked(w.st, w.cost, v.wait, now)
			}
			l.mu.Unlock()
			continue
		}
		switch {
		case err != nil:
			w.err = err
			l.finishLocked(w, false)
		case v.ok && v.wait <= 0:
			l.finishLocked(w, true)
		case v.ok:
			w.st.resvUntil = now.Add(v.wait)
			l.scheduleLocked(w, v.wait, now)
			if ahead := v.wait - pipeline; ahead > 0 {
				held[w.st] = true
				next = min(next, ahead)
			}
		case w.hasDL && (v.retryIn == ratelimit.InfDuration || now.Add(v.retryIn).After(w.deadline)):
			w.err = fmt.Errorf("redisx: wait %s: needs %v, deadline in %v: %w", w.st.name, v.retryIn, w.deadline.Sub(now), ratelimit.ErrWouldExceedDeadline)
			l.finishLocked(w, false)
		default:
			held[w.st] = true
			w.st.retryAt = now.Add(v.retryIn)
			next = min(next, v.retryIn)
			if v.blocker&blockAccount != 0 {
				acctRank = w.rank
				l.acct.retryAt = w.st.retryAt
			}
		}
		l.mu.Unlock()
		if acctRank != noBlock {
			break
		}
	}
	l.mu.Lock()
	l.acct.blockRank = acctRank
	empty := l.q.Len() == 0
	l.mu.Unlock()
	if empty {
		return 0
	}
	return max(next, 50*time.Microsecond)
}

// scheduleLocked takes w off the queue and grants it after wait, when its
// reserved slot comes. Requires mu held.
func (l *Limiter) scheduleLocked(w *waiter, wait time.Duration, now time.Time) {
	l.unlinkLocked(w)
	w.scheduled = true
	w.timer = time.AfterFunc(wait, func() {
		l.mu.Lock()
		if !w.done {
			w.done, w.granted = true, true
			close(w.ready)
		}
		l.mu.Unlock()
	})
}

// cancelGrantLocked undoes a grant whose caller is gone: tokens granted
// now stay with this process for its next caller; a reservation for later
// is given back to the shared buckets. Requires mu held.
func (l *Limiter) cancelGrantLocked(st *opState, cost float64, wait time.Duration, now time.Time) {
	if wait <= 0 {
		l.keepLocked(st, cost, now)
		return
	}
	adj := l.refundAdjustmentsLocked(st, cost)
	if l.closed {
		return
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), l.o.Timeout)
		defer cancel()
		_ = l.adjust(ctx, adj)
	}()
}
