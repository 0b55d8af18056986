package ratelimit

import "time"

// Estimator is implemented by limiters that can say, without taking
// anything, how soon a request could be admitted: *Hierarchy. A wrapper
// that exposes its inner limiter (adaptive.Adapter's Inner) is read
// through it. A dispatcher spreading work over several accounts uses it to
// offer each job to the account that would admit it soonest. The Redis
// limiter does not implement it.
type Estimator interface {
	// Available returns the tokens op could take at now (the lesser of
	// op's bucket and the account's; negative while reservations are
	// outstanding) and the number of calls waiting for admission.
	Available(op string, now time.Time) (tokens float64, waiters int)
}

var _ Estimator = (*Hierarchy)(nil)

// Available implements Estimator.
func (h *Hierarchy) Available(op string, now time.Time) (tokens float64, waiters int) {
	o, a := h.TokensAt(now, op)
	return min(o, a), h.Waiting()
}
