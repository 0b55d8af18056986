package dispatch

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// health is a pool's rotation state. A pool with threshold consecutive
// pool failures goes out of rotation for a backoff (base, doubling up to
// max, with jitter); when it has passed one probe job is let through: its
// success puts the pool back, its failure doubles the backoff.
type health struct {
	threshold int
	base, max time.Duration

	mu      sync.Mutex // guards the fields below
	fails   int        // consecutive pool failures
	out     bool
	until   time.Time // out: when a probe may go
	backoff time.Duration
	probing bool // out: the probe job is running
	reason  string
}

func (h *health) init(threshold int, base, max time.Duration) {
	h.threshold, h.base, h.max = threshold, base, max
}

// usable reports whether a job may be routed to the pool at now: it is in
// rotation, or its backoff has passed and no probe runs. When not, wait is
// how long until a probe may go (at least a millisecond).
func (h *health) usable(now time.Time) (ok bool, wait time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case !h.out:
		return true, 0
	case h.probing:
		return false, max(h.backoff, time.Millisecond)
	case !now.Before(h.until):
		return true, 0
	}
	return false, max(h.until.Sub(now), time.Millisecond)
}

// isOut reports whether the pool is out of rotation.
func (h *health) isOut() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.out
}

// take claims the pool for one job at now. probe says the job is the
// pool's probe. It fails when the pool is not usable (another worker took
// the probe).
func (h *health) take(now time.Time) (ok, probe bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case !h.out:
		return true, false
	case h.probing || now.Before(h.until):
		return false, false
	}
	h.probing = true
	return true, true
}

// success records an answer that shows the pool works (any answer but a
// pool failure): the failure count resets; a probe puts the pool back (it
// reports that).
func (h *health) success(probe bool) (back bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fails = 0
	if probe || !h.out {
		back = h.out
		h.out, h.probing, h.backoff, h.reason = false, false, 0, ""
	}
	return back
}

// neutral ends a probe that said nothing (the job was released, or not
// admitted in time): another probe may go.
func (h *health) neutral(probe bool) {
	if !probe {
		return
	}
	h.mu.Lock()
	h.probing = false
	h.mu.Unlock()
}

// failure records a pool failure at now. It reports whether the pool went
// out of rotation (or stayed out after a failed probe).
func (h *health) failure(now time.Time, probe bool, reason string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fails++
	switch {
	case probe:
		h.probing = false
		h.backoff = min(2*h.backoff, h.max)
	case h.out:
		return false // failures of jobs that started before it went out
	case h.fails >= h.threshold:
		h.out = true
		h.backoff = h.base
	default:
		return false
	}
	h.reason = reason
	// Jitter: up to a tenth less, so pools that fail together probe apart.
	j := time.Duration(rand.Int64N(int64(h.backoff/10) + 1))
	h.until = now.Add(h.backoff - j)
	return true
}

// describe returns whether the pool is in rotation and "ok" or
// "out: <reason>, back in <dur>".
func (h *health) describe(now time.Time) (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case !h.out:
		return true, "ok"
	case h.probing:
		return false, "probing: " + h.reason
	}
	return false, fmt.Sprintf("out: %s, back in %v", h.reason, max(h.until.Sub(now), 0).Round(time.Millisecond))
}
