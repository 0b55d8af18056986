package server_test

import (
	"context"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/internal/config"
	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/sim"
)

// TestTwoServesShareOnePoll: two serve processes sharing one Redis, each
// with viewers, together poll once per interval, not twice.
// TOLLGATE_VIEW_SECONDS lengthens the run (the figure: 60 s).
func TestTwoServesShareOnePoll(t *testing.T) {
	rs := redisenv.Start(t, redisenv.Options{})
	seconds := envInt("TOLLGATE_VIEW_SECONDS", 5)
	simSrv, err := sim.New(sim.Options{Seed: 11, MetricDrift: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	const interval = time.Second
	shared := func(c *config.Config) {
		withPoll(interval)(c)
		c.Limits.RedisURL = rs.URL()
		c.Limits.Account = "123456789012"
	}
	_, a := startServe(t, simSrv, shared)
	_, b := startServe(t, simSrv, shared)
	start := time.Now()
	before := simSrv.Stats().Operations["GetCurrentMetricData"].Requests
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds)*time.Second)
	defer cancel()
	var reads, failures atomic.Int64
	var wg sync.WaitGroup
	for i := range 100 {
		base := a
		if i%2 == 1 {
			base = b
		}
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/metrics", nil)
				req.Header.Set("Authorization", "Bearer "+testToken)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failures.Add(1)
					}
					return
				}
				res.Body.Close()
				reads.Add(1)
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
	<-ctx.Done()
	calls := simSrv.Stats().Operations["GetCurrentMetricData"].Requests - before
	elapsed := time.Since(start)
	wg.Wait()
	want := math.Ceil(float64(seconds) / interval.Seconds())
	t.Logf("two serves sharing Redis, %d reads in %v: GetCurrentMetricData at the simulator %d (ceil = %v)", reads.Load(), elapsed.Round(time.Millisecond), calls, want)
	if math.Abs(float64(calls)-want) > 1 {
		t.Errorf("Connect calls by two serves: got %d want %v ± 1 (not double)", calls, want)
	}
	if failures.Load() > 0 {
		t.Errorf("%d reads failed", failures.Load())
	}
}
