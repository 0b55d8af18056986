package ratelimit

import (
	"fmt"
	"time"
)

// dispatchLocked serves queued waiters at now, in the WaitQueue's rank
// order (aged waiters oldest first, then each class from PriorityCritical
// to PriorityLow, FIFO within a class). A waiter is granted when its
// operation's bucket and the account's both hold its cost. A waiter that
// cannot go holds its operation's bucket against every waiter behind it; if
// the account is short it holds the account against everyone behind it and
// the walk stops. Waiters whose operation bucket is held by someone ahead
// are skipped, so one operation's empty bucket does not stall others.
//
// It records what is held (acctBlock, opState.blockEpoch/blockRank) for
// TryAt and arms the timer for the earliest moment a blocked waiter could
// go. Requires mu held.
func (h *Hierarchy) dispatchLocked(now time.Time) {
	h.epoch++
	h.acctBlock = noBlock
	if h.q.Len() == 0 {
		if h.timer != nil {
			h.timer.Stop()
		}
		return
	}
	next := InfDuration
	h.q.Walk(now, func(w *waiter, rank int) (remove, stop bool) {
		return h.visitLocked(now, w, rank, &next)
	})
	if h.q.Len() == 0 || next == InfDuration {
		if h.timer != nil {
			h.timer.Stop()
		}
		return
	}
	if next <= 0 {
		next = 1 // a rounding hair: look again a nanosecond later
	}
	if h.timer == nil {
		h.timer = time.AfterFunc(next, h.onTimer)
	} else {
		h.timer.Reset(next)
	}
}

// visitLocked examines one waiter during dispatch: grant it or fail it
// (done: drop it from the queue), or record what it holds. stop is true
// when the account is held, so no later waiter can go. Requires mu held.
func (h *Hierarchy) visitLocked(now time.Time, w *waiter, rank int, next *time.Duration) (done, stop bool) {
	if w.done {
		return true, false
	}
	op := w.op
	if err := h.fitsLocked(op, w.cost); err != nil {
		// A limit was lowered below this waiter's cost: it can never go.
		w.err = fmt.Errorf("ratelimit: wait: %w", err)
		h.finishLocked(w, false)
		return true, false
	}
	if op != nil && op.blockEpoch == h.epoch {
		return false, false // an earlier waiter holds this operation's bucket
	}
	var ot, at float64
	opOK, acctOK := true, true
	if op != nil && !op.b.unlimited() {
		ot = op.b.advance(now)
		opOK = ot+epsilon >= w.cost
	}
	if !h.acct.unlimited() {
		at = h.acct.advance(now)
		acctOK = at+epsilon >= w.cost
	}
	if opOK && acctOK {
		if op != nil && !op.b.unlimited() {
			op.b.settle(now, ot-w.cost)
		}
		if !h.acct.unlimited() {
			h.acct.settle(now, at-w.cost)
		}
		h.finishLocked(w, true)
		return true, false
	}
	var d time.Duration
	if !opOK {
		d = op.b.timeFor(now, w.cost)
		op.blockEpoch, op.blockRank = h.epoch, rank
	}
	if !acctOK {
		if ad := h.acct.timeFor(now, w.cost); ad > d {
			d = ad
		}
	}
	if d < *next {
		*next = d
	}
	if !acctOK {
		h.acctBlock = rank
		return false, true
	}
	return false, false
}

// finishLocked marks w done and wakes it. Requires mu held.
func (h *Hierarchy) finishLocked(w *waiter, granted bool) {
	w.done, w.granted = true, granted
	close(w.ready)
}

// onTimer is the timer callback: dispatch at the current time.
func (h *Hierarchy) onTimer() {
	h.mu.Lock()
	h.dispatchLocked(h.now())
	h.mu.Unlock()
}
