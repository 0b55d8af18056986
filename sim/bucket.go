package sim

import (
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// bucket is one of the server-side limiters AWS describes for Connect (per
// account and Region, per operation): a ratelimit.Bucket behind a mutex,
// because requests arrive concurrently. The token arithmetic is
// ratelimit's; this type only locks and adapts the results.
type bucket struct {
	mu sync.Mutex
	b  ratelimit.Bucket // requires mu held
}

func newBucket(rate float64, burst int, now time.Time) *bucket {
	return &bucket{b: ratelimit.NewBucket(ratelimit.Limit{Rate: rate, Burst: float64(burst)}, now)}
}

// take removes one token if available at now. Otherwise it reports how long
// until one is (an hour when the bucket never refills).
func (b *bucket) take(now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.AllowN(now, 1) {
		return true, 0
	}
	wait := b.b.DelayN(now, 1)
	if wait == ratelimit.InfDuration {
		wait = time.Hour
	}
	return false, wait
}

// refund returns one token taken at now (capped at burst).
func (b *bucket) refund(now time.Time) {
	b.mu.Lock()
	b.b.ReturnN(now, 1)
	b.mu.Unlock()
}

// set changes rate and burst at now, keeping the tokens already earned
// (capped at the new burst).
func (b *bucket) set(now time.Time, rate float64, burst int) {
	b.mu.Lock()
	b.b.SetLimit(now, ratelimit.Limit{Rate: rate, Burst: float64(burst)})
	b.mu.Unlock()
}

// snapshot returns rate, burst and the tokens available at now.
func (b *bucket) snapshot(now time.Time) (rate float64, burst int, tokens float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.b.Limit()
	return l.Rate, int(l.Burst), b.b.TokensAt(now)
}
