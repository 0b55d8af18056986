package poller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/poller"
	"github.com/tollgatehq/tollgate/redisx"
)

// TestSharedAcrossProcesses: three pollers (three processes' worth) sharing
// one real Redis make one poll per interval together, not three.
func TestSharedAcrossProcesses(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	var calls atomic.Int64
	call := func(ctx context.Context, op string, in json.RawMessage) (json.RawMessage, error) {
		n := calls.Add(1)
		return fmt.Appendf(nil, `{"MetricResults":[{"Collections":[{"Metric":{"Name":"AGENTS_AVAILABLE"},"Value":%d}]}]}`, n), nil
	}
	const interval, run = 400 * time.Millisecond, 4 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	var wg sync.WaitGroup
	var pollers []*poller.Poller
	for range 3 {
		c, err := redisx.NewCache(redisx.Options{URL: srv.URL(), Account: "123456789012", Region: "eu-west-2"}, redisx.CacheOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		p, err := poller.New(poller.Options{Call: call, Shared: c,
			Queries: []poller.Query{{Name: "q", Op: "GetCurrentMetricData", Interval: interval}}})
		if err != nil {
			t.Fatal(err)
		}
		pollers = append(pollers, p)
		wg.Go(func() { _ = p.Run(ctx) })
	}
	wg.Wait()
	want := math.Ceil(run.Seconds() / interval.Seconds())
	if got := float64(calls.Load()); math.Abs(got-want) > 1 {
		t.Errorf("calls by 3 processes in %v at %v: got %v want %v ± 1", run, interval, got, want)
	}
	// Every process saw the values, not just the one that polled.
	for i, p := range pollers {
		s, _ := p.Snapshot("q", time.Now())
		if s.Value == nil || len(s.History) < int(want)/2 {
			t.Errorf("process %d: value %s, %d points of history", i, s.Value, len(s.History))
		}
	}
}
