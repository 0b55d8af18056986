package ratelimit

import (
	"time"
)

// Reservation is a claim on future tokens made by Hierarchy.Reserve. The
// caller waits Delay (or until At) and then acts, or calls Cancel to give
// the tokens back.
type Reservation struct {
	h        *Hierarchy
	op       *opState
	cost     float64
	ok       bool
	at       time.Time
	delay    time.Duration
	canceled bool // guarded by h.mu
}

// OK reports whether the tokens were reserved. It is false when the cost is
// invalid, exceeds a burst, or a bucket with rate 0 can never supply it.
func (r *Reservation) OK() bool { return r.ok }

// Delay is how long after the reservation was made the caller may act.
func (r *Reservation) Delay() time.Duration { return r.delay }

// At is the time the caller may act.
func (r *Reservation) At() time.Time { return r.at }

// Cancel is shorthand for CancelAt(Now()).
func (r *Reservation) Cancel() {
	if r.ok {
		r.CancelAt(r.h.now())
	}
}

// CancelAt gives the reserved tokens back to both buckets at now (capped at
// their bursts) and lets queued waiters use them. Calls after the first do
// nothing.
func (r *Reservation) CancelAt(now time.Time) {
	if !r.ok {
		return
	}
	h := r.h
	h.mu.Lock()
	if !r.canceled {
		r.canceled = true
		h.giveLocked(now, r.op, r.cost)
		if h.q.Len() > 0 {
			h.dispatchLocked(now)
		}
	}
	h.mu.Unlock()
}

// Reserve takes req's cost from the operation's bucket and the account's at
// now, both or neither, even if that leaves them negative, and returns when
// the caller may act. A reservation is placed ahead of every waiter queued
// by Wait (it does not go through the priority queues); it is the building
// block for callers that schedule work themselves.
func (h *Hierarchy) Reserve(now time.Time, req Request) *Reservation {
	r := &Reservation{h: h}
	cost, err := req.Tokens()
	if err != nil {
		return r
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	op := h.opLocked(req.Op, now)
	if h.fitsLocked(op, cost) != nil {
		return r
	}
	d := h.acct.timeFor(now, cost)
	if op != nil {
		if od := op.b.timeFor(now, cost); od > d {
			d = od
		}
	}
	if d == InfDuration {
		return r
	}
	if op != nil {
		op.b.TakeN(now, cost)
	}
	h.acct.TakeN(now, cost)
	r.op, r.cost, r.ok, r.delay, r.at = op, cost, true, d, now.Add(d)
	return r
}
