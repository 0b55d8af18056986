package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/poller"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

// Dashboards strategies.
const (
	// DashboardsDirect: every viewer calls GetCurrentMetricData itself
	// with the SDK's adaptive retry mode, as wallboards do today.
	DashboardsDirect = "direct"
	// DashboardsTollgate: one poller polls through a governor into the
	// cache; every viewer reads the cache.
	DashboardsTollgate = "tollgate"
)

// DashboardsOptions configure RunDashboards. The zero value is the issue's
// run: 200 viewers refreshing every second for a minute, both strategies.
type DashboardsOptions struct {
	Viewers    int           // default 200
	Refresh    time.Duration // each viewer's refresh period; default 1s
	Duration   time.Duration // default 1m
	Interval   time.Duration // the poller's interval (tollgate); default Refresh
	Seed       int64
	Strategies []string // default both
}

func (o DashboardsOptions) withDefaults() (DashboardsOptions, error) {
	if o.Viewers == 0 {
		o.Viewers = 200
	}
	if o.Refresh == 0 {
		o.Refresh = time.Second
	}
	if o.Duration == 0 {
		o.Duration = time.Minute
	}
	if o.Interval == 0 {
		o.Interval = o.Refresh
	}
	if len(o.Strategies) == 0 {
		o.Strategies = []string{DashboardsDirect, DashboardsTollgate}
	}
	switch {
	case o.Viewers < 1 || o.Viewers > 5000:
		return o, fmt.Errorf("viewers must be 1-5000, got %d", o.Viewers)
	case o.Refresh < 10*time.Millisecond, o.Interval < poller.MinInterval:
		return o, fmt.Errorf("refresh must be at least 10ms and interval at least %v", poller.MinInterval)
	case o.Duration < time.Second || o.Duration > time.Hour:
		return o, fmt.Errorf("duration must be between 1s and 1h, got %v", o.Duration)
	}
	for _, s := range o.Strategies {
		if s != DashboardsDirect && s != DashboardsTollgate {
			return o, fmt.Errorf("strategy %q: want %s or %s", s, DashboardsDirect, DashboardsTollgate)
		}
	}
	return o, nil
}

// DashboardsResult is one strategy's run.
type DashboardsResult struct {
	Strategy       string        `json:"strategy"`
	Viewers        int           `json:"viewers"`
	Duration       time.Duration `json:"duration"`
	ConnectCalls   int64         `json:"connect_calls"` // GetCurrentMetricData requests at the simulator
	CallsPerMinute float64       `json:"calls_per_minute"`
	Throttled      int64         `json:"throttled"` // 429s the simulator sent
	Views          int64         `json:"views"`     // viewer refreshes
	StaleP50       time.Duration `json:"stale_p50"` // age of the data a viewer showed
	StaleP99       time.Duration `json:"stale_p99"`
}

// RunDashboards runs the dashboards scenario for each strategy against a
// fresh simulator over loopback HTTP, with the published quotas (5/s, burst
// 8 for GetCurrentMetricData). The tollgate strategy reads the poller's
// cache in process: the HTTP path of serve in front of it is measured by
// internal/server's viewer tests.
func RunDashboards(ctx context.Context, o DashboardsOptions) ([]DashboardsResult, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	var out []DashboardsResult
	for _, s := range o.Strategies {
		r, err := runDashboards(ctx, o, s)
		if err != nil {
			return out, fmt.Errorf("dashboards/%s: %w", s, err)
		}
		out = append(out, r)
	}
	return out, nil
}

var dashboardInput = &connect.GetCurrentMetricDataInput{
	InstanceId: aws.String(sim.DefaultInstanceID),
	Filters:    &types.Filters{Queues: []string{sim.DefaultQueueID}, Channels: []types.Channel{types.ChannelVoice}},
	CurrentMetrics: []types.CurrentMetric{{Name: types.CurrentMetricNameAgentsAvailable, Unit: types.UnitCount},
		{Name: types.CurrentMetricNameContactsInQueue, Unit: types.UnitCount}},
}

func runDashboards(ctx context.Context, o DashboardsOptions, strategy string) (DashboardsResult, error) {
	table := quotas.Default()
	srv, err := startServer(table, o.Seed, false, 0)
	if err != nil {
		return DashboardsResult{}, err
	}
	defer srv.close()
	env := Env{Endpoint: srv.url, HTTPClient: srv.client, Quotas: table, RateScale: 1, Seed: o.Seed, Region: "us-east-1"}
	res := DashboardsResult{Strategy: strategy, Viewers: o.Viewers, Duration: o.Duration}

	var sampleFor func(i int, now time.Time, ctx context.Context) (time.Duration, bool)
	var stop func()
	switch strategy {
	case DashboardsDirect:
		clients := make([]*connect.Client, o.Viewers)
		last := make([]time.Time, o.Viewers)
		start := time.Now()
		for i := range clients {
			co := env.ConnectOptions(i)
			co.Retryer = retry.NewAdaptiveMode()
			clients[i] = connect.New(co)
			last[i] = start
		}
		sampleFor = func(i int, now time.Time, ctx context.Context) (time.Duration, bool) {
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if _, err := clients[i].GetCurrentMetricData(cctx, dashboardInput); err == nil {
				last[i] = now
			} else if ctx.Err() != nil {
				return 0, false
			}
			return time.Since(last[i]), true
		}
		stop = func() {}
	case DashboardsTollgate:
		h := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: table})
		g := governor.New(h, governor.Options{})
		co := env.ConnectOptions(0)
		c := connect.New(co, awssdk.Govern(g))
		in, _ := json.Marshal(dashboardInput)
		p, err := poller.New(poller.Options{
			Queries: []poller.Query{{Name: "wallboard", Op: opCurrentMetric, Interval: o.Interval, Input: in}},
			Call: func(ctx context.Context, op string, input json.RawMessage) (json.RawMessage, error) {
				ctx = awssdk.WithCallOptions(ctx, governor.CallOptions{Priority: ratelimit.PriorityLow, MaxAttempts: 3})
				return dispatch.Call(ctx, c, op, input)
			},
			Rate: func(op string) (float64, bool) { a, ok := table.API(op); return a.Rate, ok },
		})
		if err != nil {
			return res, err
		}
		pctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = p.Run(pctx) }()
		stop = func() { cancel(); <-done }
		start := time.Now()
		sampleFor = func(_ int, now time.Time, _ context.Context) (time.Duration, bool) {
			s, _ := p.Snapshot("wallboard", now)
			if s.FetchedAt.IsZero() {
				return now.Sub(start), true
			}
			return now.Sub(s.FetchedAt), true
		}
	}

	rctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var mu sync.Mutex
	var stale []float64
	var views atomic.Int64
	var wg sync.WaitGroup
	for i := range o.Viewers {
		wg.Go(func() {
			// Viewers start spread over one refresh period.
			offset := time.Duration(int64(o.Refresh) * int64(i) / int64(o.Viewers))
			next := time.Now().Add(offset)
			for {
				select {
				case <-rctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				d, ok := sampleFor(i, time.Now(), rctx)
				if !ok {
					return
				}
				views.Add(1)
				mu.Lock()
				stale = append(stale, d.Seconds())
				mu.Unlock()
				next = next.Add(o.Refresh)
				if now := time.Now(); next.Before(now) {
					next = now // a viewer whose call took longer than a refresh
				}
			}
		})
	}
	wg.Wait()
	stop()
	st := srv.sim.Stats().Operations[opCurrentMetric]
	res.ConnectCalls, res.Throttled, res.Views = st.Requests, st.Throttled, views.Load()
	res.CallsPerMinute = float64(st.Requests) / o.Duration.Minutes()
	sort.Float64s(stale)
	res.StaleP50 = time.Duration(percentile(stale, 0.5) * float64(time.Second))
	res.StaleP99 = time.Duration(percentile(stale, 0.99) * float64(time.Second))
	if res.Views == 0 {
		return res, errors.New("no viewer refreshed")
	}
	return res, nil
}

// WriteDashboards writes the results as a text table.
func WriteDashboards(w io.Writer, rs []DashboardsResult) {
	fmt.Fprintf(w, "%-9s %7s %8s %13s %10s %9s %10s %10s\n", "strategy", "viewers", "duration", "connect_calls", "calls/min", "429s", "stale_p50", "stale_p99")
	for _, r := range rs {
		fmt.Fprintf(w, "%-9s %7d %8s %13d %10.1f %9d %10s %10s\n", r.Strategy, r.Viewers, r.Duration, r.ConnectCalls, r.CallsPerMinute, r.Throttled,
			r.StaleP50.Round(time.Millisecond), r.StaleP99.Round(time.Millisecond))
	}
}
