package ratelimit

import (
	"math"
	"time"
)

// Inf is the rate of an unlimited bucket: a Limit whose Rate is Inf (or
// +Inf) admits everything and never holds anything back.
const Inf = math.MaxFloat64

// epsilon absorbs float rounding: after waiting exactly the delay DelayN
// reported, the tokens are there even if elapsed×rate rounds a hair low.
const epsilon = 1e-9

// InfDuration is the delay reported when a bucket can never supply the
// requested tokens (a rate of 0 with too few tokens left).
const InfDuration = time.Duration(math.MaxInt64)

// Unlimited reports whether l admits everything: its Rate is Inf.
func (l Limit) Unlimited() bool { return l.Rate >= Inf }

// Bucket is one token bucket with time as a parameter. It holds up to burst
// tokens and refills at rate tokens per second; tokens may go negative after
// ReserveN, which is how a reservation queues for future tokens.
//
// Every method takes the current time; a time earlier than the last one seen
// is treated as that last time (the bucket never runs backwards). A Bucket is
// not safe for concurrent use: callers lock around it (Hierarchy does). The
// zero value is an empty bucket with rate 0; use NewBucket.
type Bucket struct {
	rate   float64   // tokens per second; >= Inf means unlimited
	burst  float64   // capacity
	tokens float64   // tokens at last (negative when reserved ahead)
	last   time.Time // when tokens was computed
}

// NewBucket returns a full bucket with limit l at time now.
func NewBucket(l Limit, now time.Time) Bucket {
	b := Bucket{rate: l.Rate, burst: l.Burst, tokens: l.Burst, last: now}
	if b.rate < 0 || b.rate != b.rate {
		b.rate = 0
	}
	if b.burst < 0 || b.burst != b.burst {
		b.burst, b.tokens = 0, 0
	}
	return b
}

// Limit returns the bucket's rate and burst.
func (b *Bucket) Limit() Limit { return Limit{Rate: b.rate, Burst: b.burst} }

// unlimited reports whether the bucket admits everything.
func (b *Bucket) unlimited() bool { return b.rate >= Inf }

// TokensAt returns the tokens the bucket would hold at now, without changing
// it. The result is negative while reservations are outstanding.
func (b *Bucket) TokensAt(now time.Time) float64 {
	if b.unlimited() {
		return b.burst
	}
	return b.advance(now)
}

// advance returns the tokens at now: tokens + elapsed×rate, capped at burst.
func (b *Bucket) advance(now time.Time) float64 {
	elapsed := now.Sub(b.last)
	if elapsed <= 0 {
		return b.tokens
	}
	t := b.tokens + float64(elapsed)*1e-9*b.rate
	if t > b.burst {
		t = b.burst
	}
	return t
}

// settle moves the bucket to now with t tokens (never moving last backwards).
func (b *Bucket) settle(now time.Time, t float64) {
	b.tokens = t
	if now.After(b.last) {
		b.last = now
	}
}

// AllowN takes n tokens at now if the bucket holds at least n, and reports
// whether it did. It never blocks and never takes part of n.
func (b *Bucket) AllowN(now time.Time, n float64) bool {
	if b.rate >= Inf {
		return true
	}
	// advance and settle inlined: this is the hot path.
	t := b.tokens
	elapsed := now.Sub(b.last)
	if elapsed > 0 {
		t += float64(elapsed) * 1e-9 * b.rate
		if t > b.burst {
			t = b.burst
		}
	}
	if t+epsilon < n {
		return false
	}
	b.tokens = t - n
	if elapsed > 0 {
		b.last = now
	}
	return true
}

// ReserveN takes n tokens at now even if that leaves the bucket negative, and
// returns how long the caller must wait before acting. ok is false, and
// nothing is taken, when n exceeds the burst or the bucket can never refill
// enough (rate 0).
func (b *Bucket) ReserveN(now time.Time, n float64) (ok bool, delay time.Duration) {
	if b.rate >= Inf {
		return true, 0
	}
	if n > b.burst {
		return false, InfDuration
	}
	t := b.advance(now) - n
	if t < 0 {
		if b.rate <= 0 {
			return false, InfDuration
		}
		delay = DurationFor(-t, b.rate)
	}
	b.settle(now, t)
	return true, delay
}

// DelayN returns how long from now until the bucket holds n tokens, without
// taking them: 0 if it already does, InfDuration if it never will.
func (b *Bucket) DelayN(now time.Time, n float64) time.Duration {
	if n > b.burst && !b.unlimited() {
		return InfDuration
	}
	return b.timeFor(now, n)
}

// timeFor is how long from now until n more tokens than are missing have
// been earned, counting tokens taken along the way (n may exceed burst).
func (b *Bucket) timeFor(now time.Time, n float64) time.Duration {
	if b.unlimited() {
		return 0
	}
	t := b.advance(now)
	if t+epsilon >= n {
		return 0
	}
	if b.rate <= 0 {
		return InfDuration
	}
	return DurationFor(n-t, b.rate)
}

// ReturnN gives n tokens back at now (a cancelled reservation or an unused
// admission), capped at the burst.
func (b *Bucket) ReturnN(now time.Time, n float64) {
	if b.rate >= Inf {
		return
	}
	t := b.advance(now) + n
	if t > b.burst {
		t = b.burst
	}
	b.settle(now, t)
}

// TakeN takes n tokens at now unconditionally: the bucket goes negative
// when it holds fewer. Callers decide first (with DelayN, say); a worker's
// local share of a shared bucket uses it to admit a request whose cost
// exceeds its share of the burst.
func (b *Bucket) TakeN(now time.Time, n float64) {
	if b.rate >= Inf {
		return
	}
	b.settle(now, b.advance(now)-n)
}

// SetLimit changes the rate and burst at now. Tokens earned before now are
// kept (capped at the new burst); raising the burst does not add tokens,
// except that a bucket leaving the unlimited state starts full.
func (b *Bucket) SetLimit(now time.Time, l Limit) {
	wasUnlimited := b.rate >= Inf
	t := b.advance(now)
	nb := NewBucket(l, now)
	if wasUnlimited {
		t = nb.burst
	}
	if t > nb.burst {
		t = nb.burst
	}
	nb.tokens = t
	if b.last.After(now) {
		nb.last = b.last
	}
	*b = nb
}

// DurationFor is the time to earn tokens at rate tokens per second, rounded
// up to the next nanosecond so that the tokens are really there after it (a
// millionth of a nanosecond of float noise is ignored rather than rounded
// up); InfDuration when it does not fit a Duration.
func DurationFor(tokens, rate float64) time.Duration {
	ns := math.Ceil(tokens/rate*1e9 - 1e-6)
	if ns >= math.MaxInt64 {
		return InfDuration
	}
	return time.Duration(ns)
}
