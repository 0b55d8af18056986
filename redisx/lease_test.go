package redisx

import (
	"context"
	"sync"
	"testing"
	"time"

	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// TestLeaseBounds runs three workers of four busy goroutines each against
// one operation at 20000/s burst 2000, a rate one round trip per admission
// cannot reach on a small machine. Leasing must carry most admissions
// without a round trip, and no window may exceed the bucket's allowance
// (rate×w + burst) by more than one burst.
func TestLeaseBounds(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	const rate, burst = 20000.0, 2000.0
	o := testOptions(t, srv, ratelimit.Limit{}, map[string]ratelimit.Limit{"A": {Rate: rate, Burst: burst}})
	var lims []*Limiter
	for range 3 {
		lims = append(lims, newTestLimiter(t, o))
	}
	rec := &recorder{}
	const run = 1500 * time.Millisecond
	start := time.Now()
	stop := start.Add(run)
	var wg sync.WaitGroup
	for _, l := range lims {
		for range 4 {
			wg.Go(func() {
				for time.Now().Before(stop) {
					d, err := l.Try(context.Background(), ratelimit.Request{Op: "A"})
					if err != nil {
						t.Errorf("Try: %v", err)
						return
					}
					if d.OK {
						rec.add(time.Now())
					} else {
						time.Sleep(min(d.RetryIn, time.Millisecond))
					}
				}
			})
		}
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	var trips, leased, shared uint64
	for _, l := range lims {
		s := l.Stats()
		trips += s.RoundTrips
		leased += s.LeaseAdmits
		shared += s.SharedAdmits
		assertShared(t, l)
	}
	total := rec.count()
	t.Logf("admitted %d in %.2fs (rate×T + burst = %.0f): %d from leases, %d shared, %d round trips",
		total, el, rate*el+burst, leased, shared, trips)
	if leased == 0 || leased < shared {
		t.Errorf("leasing carried %d admissions against %d shared: want most of them", leased, shared)
	}
	checkWindows(t, rec, rate, burst, burst, 50*time.Millisecond, 100*time.Millisecond, 250*time.Millisecond, time.Second, run)
}
