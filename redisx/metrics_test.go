package redisx

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// TestCollector: the mode gauge follows the Limiter, with the account and
// region labels.
func TestCollector(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	o := testOptions(t, srv, ratelimit.Limit{}, map[string]ratelimit.Limit{"A": {Rate: 10, Burst: 5}})
	l := newTestLimiter(t, o)
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(l.Collector()); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if _, err := l.Try(context.Background(), ratelimit.Request{Op: "A"}); err != nil {
		t.Fatal(err)
	}
	gauge := func(name string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatalf("Gather: %v", err)
		}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			m := mf.GetMetric()[0]
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["account"] != o.Account || labels["region"] != "eu-west-2" {
				t.Errorf("%s labels: %v", name, labels)
			}
			if m.Gauge != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
		t.Fatalf("metric %s not gathered", name)
		return 0
	}
	if got := gauge("tollgate_redis_shared_mode"); got != 1 {
		t.Errorf("shared mode gauge: got %v want 1", got)
	}
	if got := gauge("tollgate_redis_round_trips_total"); got < 1 {
		t.Errorf("round trips: got %v want >= 1", got)
	}
	srv.Kill()
	_, _ = l.Try(context.Background(), ratelimit.Request{Op: "A"})
	if got := gauge("tollgate_redis_shared_mode"); got != 0 {
		t.Errorf("shared mode gauge with Redis killed: got %v want 0", got)
	}
	if got := gauge("tollgate_redis_live_workers"); got != 1 {
		t.Errorf("live workers: got %v want 1", got)
	}
}
