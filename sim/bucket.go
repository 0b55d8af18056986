package sim

import (
	"sync"
	"time"
)

// bucket is a token bucket: capacity burst, refilled continuously at rate
// tokens per second, starting full. It is the server-side limiter AWS
// describes for Connect (per account and Region, per operation).
type bucket struct {
	mu     sync.Mutex
	rate   float64   // requires mu held
	burst  float64   // requires mu held
	tokens float64   // requires mu held
	last   time.Time // requires mu held
}

func newBucket(rate float64, burst int, now time.Time) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// refill requires mu held.
func (b *bucket) refill(now time.Time) {
	if now.After(b.last) {
		b.tokens += b.rate * now.Sub(b.last).Seconds()
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
		b.last = now
	}
}

// take removes one token if available at now. Otherwise it reports how long
// until one is.
func (b *bucket) take(now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	// The epsilon absorbs float rounding of many small refills.
	if b.tokens >= 1-1e-9 {
		b.tokens--
		return true, 0
	}
	if b.rate <= 0 {
		return false, time.Hour
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// takeN removes up to n tokens and returns how many it took.
func (b *bucket) takeN(now time.Time, n int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	got := 0
	for got < n && b.tokens >= 1-1e-9 {
		b.tokens--
		got++
	}
	return got
}

// refund returns one token taken at now (capped at burst).
func (b *bucket) refund() {
	b.mu.Lock()
	b.tokens++
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	b.mu.Unlock()
}

// set changes rate and burst at now, keeping the tokens already earned
// (capped at the new burst).
func (b *bucket) set(now time.Time, rate float64, burst int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	b.rate, b.burst = rate, float64(burst)
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
}

// snapshot returns rate, burst and the tokens available at now.
func (b *bucket) snapshot(now time.Time) (rate float64, burst int, tokens float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	return b.rate, int(b.burst), b.tokens
}
