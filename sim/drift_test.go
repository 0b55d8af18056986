package sim

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
)

// TestMetricDrift: with MetricDrift the real-time metrics move from step
// to step, the same way for the same seed, and stay within the instance.
func TestMetricDrift(t *testing.T) {
	read := func(t *testing.T, c *connect.Client) [3]float64 {
		out, err := c.GetCurrentMetricData(t.Context(), &connect.GetCurrentMetricDataInput{InstanceId: aws.String(DefaultInstanceID),
			Filters: &types.Filters{Queues: []string{DefaultQueueID}, Channels: []types.Channel{types.ChannelVoice}},
			CurrentMetrics: []types.CurrentMetric{{Name: types.CurrentMetricNameAgentsAvailable}, {Name: types.CurrentMetricNameContactsInQueue},
				{Name: types.CurrentMetricNameAgentsOnline}}})
		if err != nil {
			t.Fatal(err)
		}
		var v [3]float64
		for i, c := range out.MetricResults[0].Collections {
			v[i] = *c.Value
		}
		return v
	}
	series := func(seed int64) [][3]float64 {
		var out [][3]float64
		synctest.Test(t, func(t *testing.T) {
			s := newServer(t, Options{Seed: seed, MetricDrift: time.Second})
			c := newClient(t, s)
			for range 10 {
				out = append(out, read(t, c))
				time.Sleep(time.Second)
			}
		})
		return out
	}
	a, b, other := series(7), series(7), series(8)
	changes := 0
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("step %d: same seed, different values %v %v", i, a[i], b[i])
		}
		if a[i][0] < 0 || a[i][0] > a[i][2] || a[i][2] != 6 {
			t.Errorf("step %d: available %v of %v online", i, a[i][0], a[i][2])
		}
		if i > 0 && a[i] != a[i-1] {
			changes++
		}
	}
	if changes < 5 {
		t.Errorf("values changed %d times in 10 steps: %v", changes, a)
	}
	if a[3] == other[3] && a[4] == other[4] && a[5] == other[5] {
		t.Errorf("another seed gives the same values: %v", other)
	}
	// Without MetricDrift nothing moves.
	s := newServer(t, Options{Seed: 7})
	if v := read(t, newClient(t, s)); v[1] != 0 || v[0] != 6 {
		t.Errorf("without drift: %v want 6 available, 0 in queue", v)
	}
}
