package poller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tollgatehq/tollgate/poller"
)

// ExampleFit shows the start-up check: 3 polls a second of
// GetCurrentMetricData do not fit in half of its 5/s quota.
func ExampleFit() {
	rate := func(op string) (float64, bool) { return 5, op == "GetCurrentMetricData" }
	err := poller.Fit([]poller.Query{
		{Name: "queues", Op: "GetCurrentMetricData", Interval: time.Second},
		{Name: "wallboard", Op: "GetCurrentMetricData", Interval: 500 * time.Millisecond},
	}, 0, rate)
	fmt.Println(err)
	// Output:
	// poll query "wallboard" (GetCurrentMetricData every 500ms) does not fit in 50% of the GetCurrentMetricData quota of 5/s (2.5/s) with the other queries on it: the smallest interval that fits is 670ms
}

// ExamplePoller polls one query once and reads it from the cache.
func ExamplePoller() {
	call := func(ctx context.Context, op string, in json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"MetricResults":[{"Collections":[{"Metric":{"Name":"AGENTS_AVAILABLE"},"Value":7}]}]}`), nil
	}
	p, err := poller.New(poller.Options{Call: call, Queries: []poller.Query{
		{Name: "agents", Op: "GetCurrentMetricData", Interval: 5 * time.Second, Input: json.RawMessage(`{"InstanceId":"i"}`)},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = p.Refresh(context.Background(), "agents")
	s, _ := p.Snapshot("agents", time.Now())
	fmt.Println(s.Name, s.Numbers["AGENTS_AVAILABLE"], s.Stale)
	// Output: agents 7 false
}
