package server

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgatehq/tollgate/internal/api"
)

// TestPoolMetrics: the pools' figures as Prometheus series, read at scrape
// time; a pool out of rotation is tollgate_pool_healthy 0 (the alarm).
func TestPoolMetrics(t *testing.T) {
	stats := []api.PoolStats{
		{Name: "east", Account: "111111111111", Region: "us-east-1", Delivered: 40, Throttled: 2, InFlight: 3, Failed: 1, Healthy: true, Health: "ok", CallsInProgress: 5},
		{Name: "west", Account: "222222222222", Region: "us-west-2", Delivered: 7, Failed: 6, Health: "out: AccessDeniedException, back in 4s"},
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(poolCollector{func() []api.PoolStats { return stats }})
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			got[f.GetName()+"/"+m.GetLabel()[0].GetValue()] = v
		}
	}
	for i, s := range []struct {
		series string
		want   float64
	}{
		{"tollgate_pool_healthy/east", 1}, {"tollgate_pool_healthy/west", 0},
		{"tollgate_pool_delivered_total/east", 40}, {"tollgate_pool_delivered_total/west", 7},
		{"tollgate_pool_throttled_total/east", 2}, {"tollgate_pool_throttled_total/west", 0},
		{"tollgate_pool_in_flight/east", 3}, {"tollgate_pool_in_flight/west", 0},
		{"tollgate_pool_failed_total/west", 6}, {"tollgate_pool_calls_in_progress/east", 5},
	} {
		if v, ok := got[s.series]; !ok || v != s.want {
			t.Errorf("step %d %s: got %v (present %v) want %v", i, s.series, v, ok, s.want)
		}
	}
	empty := prometheus.NewRegistry()
	empty.MustRegister(poolCollector{func() []api.PoolStats { return nil }})
	if fams, _ := empty.Gather(); len(fams) != 0 {
		t.Errorf("no pools: %d families", len(fams))
	}
}
