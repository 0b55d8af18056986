package awssdk_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// loadResult counts what the server answered.
type loadResult struct{ ok, throttled, failedOps int64 }

// runLoad runs 50 goroutines sharing client against a server bucket of rate
// 10/s, burst 10, for 10 s of fake time, each calling DescribeUser in a
// tight loop.
func runLoad(t *testing.T, govern func(o *connect.Options)) loadResult {
	const (
		workers = 50
		window  = 10 * time.Second
	)
	var res loadResult
	bucket := newGCRA(10, 10)
	srv := newServer(func(w http.ResponseWriter, _ *http.Request, _ int) {
		if !bucket.allow(time.Now()) {
			atomic.AddInt64(&res.throttled, 1)
			reply(w, 429, map[string]string{"X-Amzn-ErrorType": "ThrottlingException"}, `{"message":"Rate exceeded"}`)
			return
		}
		atomic.AddInt64(&res.ok, 1)
		reply(w, 200, nil, `{"User":{"Id":"u-1"}}`)
	})
	opts := []func(*connect.Options){endpoint}
	if govern != nil {
		opts = append(opts, govern)
	}
	// Responses take 20 ms to come back (the server counts at send time):
	// without any latency, fake time would never advance for a client
	// whose every call fails at once.
	client := connect.NewFromConfig(testConfigLatency(srv, 20*time.Millisecond), opts...)
	ctx, cancel := context.WithTimeout(context.Background(), window)
	defer cancel()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				err := calls["DescribeUser"](ctx, client)
				if errors.Is(err, governor.ErrDeadline) {
					return // no admission possible before the window ends
				}
				if err != nil && ctx.Err() == nil {
					atomic.AddInt64(&res.failedOps, 1)
				}
			}
		})
	}
	wg.Wait()
	return res
}

// TestSharedClientUnderServerBucket: 50 goroutines share one governed
// client; the governor's DescribeUser bucket is seeded with the server's
// rate and burst. Over 10 s the server can admit 10 + 10×10 = 110 calls:
// successes must be within 2% of that, and 429s under 1% of successes.
func TestSharedClientUnderServerBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{
			Ops: map[string]ratelimit.Limit{"DescribeUser": {Rate: 10, Burst: 10}},
		})
		g := governor.New(lim, governor.Options{Rand: rand.NewPCG(1, 2)})
		res := runLoad(t, awssdk.Govern(g))
		t.Logf("governed: %d successes, %d 429s, %d failed operations (not counting the deadline)", res.ok, res.throttled, res.failedOps)
		const want = 110.0
		if d := float64(res.ok) - want; d > 0.02*want || d < -0.02*want {
			t.Errorf("got %d successes want within 2%% of %v", res.ok, want)
		}
		if float64(res.throttled) >= 0.01*float64(res.ok) {
			t.Errorf("got %d 429s for %d successes want under 1%%", res.throttled, res.ok)
		}
	})
}

// TestSharedClientBaseline runs the same load through the SDK's default
// retryer for comparison (logged, not asserted: its jitter is not seeded).
// It makes some 20,000 requests, so it runs only when
// TOLLGATE_BASELINE=1.
func TestSharedClientBaseline(t *testing.T) {
	if os.Getenv("TOLLGATE_BASELINE") != "1" {
		t.Skip("set TOLLGATE_BASELINE=1 to measure the SDK's default retryer under the same load")
	}
	synctest.Test(t, func(t *testing.T) {
		res := runLoad(t, nil)
		t.Logf("SDK standard retryer: %d successes, %d 429s, %d failed operations", res.ok, res.throttled, res.failedOps)
	})
}
