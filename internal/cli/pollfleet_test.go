package cli

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/sim"
)

// TestTwoServeProcessesPollOnce: two `tollgate serve` processes sharing
// one Redis, each read by viewers, together make one GetCurrentMetricData
// call per interval at the simulator, not two. TOLLGATE_VIEWERS (default
// 100) and TOLLGATE_VIEW_SECONDS (default 5) raise the load.
func TestTwoServeProcessesPollOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	rs := redisenv.Start(t, redisenv.Options{})
	simSrv, err := sim.New(sim.Options{RateScale: 50, Seed: 12, MetricDrift: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(simSrv)
	defer hs.Close()
	const interval = 500 * time.Millisecond
	flags := []string{"--poll-instance", sim.DefaultInstanceID, "--poll-queues", sim.DefaultQueueID, "--poll-interval", interval.String(),
		"--redis-url", rs.URL(), "--account", "123456789012"}
	a := startServe(t, t.TempDir(), hs.URL, flags...)
	b := startServe(t, t.TempDir(), hs.URL, flags...)
	seconds := 5
	if v, err := strconv.Atoi(os.Getenv("TOLLGATE_VIEW_SECONDS")); err == nil && v > 0 {
		seconds = v
	}
	before := simSrv.Stats().Operations["GetCurrentMetricData"].Requests
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds)*time.Second)
	defer cancel()
	var reads, failures atomic.Int64
	var wg sync.WaitGroup
	viewers := 100
	if v, err := strconv.Atoi(os.Getenv("TOLLGATE_VIEWERS")); err == nil && v > 0 {
		viewers = v
	}
	for i := range viewers {
		base := a.url
		if i%2 == 1 {
			base = b.url
		}
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/metrics/queues", nil)
				req.Header.Set("Authorization", "Bearer "+killTestToken)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failures.Add(1)
					}
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					failures.Add(1)
				}
				reads.Add(1)
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	<-ctx.Done()
	calls := simSrv.Stats().Operations["GetCurrentMetricData"].Requests - before
	wg.Wait()
	want := math.Ceil(float64(seconds) / interval.Seconds())
	t.Logf("two serve processes sharing Redis, %d viewers, %d reads in %ds: GetCurrentMetricData at the simulator %d (ceil(%d/%v) = %v)", viewers, reads.Load(), seconds, calls, seconds, interval, want)
	if math.Abs(float64(calls)-want) > 1 {
		t.Errorf("Connect calls by two serve processes: got %d want %v ± 1 (not double)\n%s\n%s", calls, want, a.stderr(), b.stderr())
	}
	if failures.Load() > 0 {
		t.Errorf("%d reads failed", failures.Load())
	}
}
