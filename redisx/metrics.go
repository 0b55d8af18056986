package redisx

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns a Prometheus collector for l, to register with the
// caller's registry. Every series carries the account and region labels:
//
//	tollgate_redis_shared_mode          gauge   1 in shared mode, 0 in fallback
//	tollgate_redis_live_workers         gauge   workers seen in the heartbeat set
//	tollgate_redis_round_trips_total    counter admission scripts run
//	tollgate_redis_errors_total         counter Redis commands that failed or timed out
//	tollgate_redis_admissions_total     counter admissions, by source (shared, lease, local)
//	tollgate_redis_leased_tokens_total  counter tokens leased beyond requests' costs
//	tollgate_redis_mode_changes_total   counter switches, by mode entered (fallback, shared)
func (l *Limiter) Collector() prometheus.Collector {
	labels := prometheus.Labels{"account": l.o.Account, "region": l.o.Region}
	d := func(name, help string, variable ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, variable, labels)
	}
	return &collector{
		l:          l,
		mode:       d("tollgate_redis_shared_mode", "1 when admission decisions are shared through Redis, 0 in local fallback."),
		workers:    d("tollgate_redis_live_workers", "Workers seen in the Redis heartbeat set within the live window."),
		trips:      d("tollgate_redis_round_trips_total", "Admission scripts run in Redis."),
		errors:     d("tollgate_redis_errors_total", "Redis commands that failed or timed out."),
		admissions: d("tollgate_redis_admissions_total", "Admissions by where they were decided.", "source"),
		leased:     d("tollgate_redis_leased_tokens_total", "Tokens leased beyond requests' costs."),
		changes:    d("tollgate_redis_mode_changes_total", "Switches between shared and fallback mode, by mode entered.", "mode"),
	}
}

type collector struct {
	l                                                         *Limiter
	mode, workers, trips, errors, admissions, leased, changes *prometheus.Desc
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.mode, c.workers, c.trips, c.errors, c.admissions, c.leased, c.changes} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.l.Stats()
	shared := 0.0
	if c.l.Mode() == ModeShared {
		shared = 1
	}
	g := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	n := func(d *prometheus.Desc, v uint64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), lv...)
	}
	g(c.mode, shared)
	g(c.workers, float64(c.l.LiveWorkers()))
	n(c.trips, s.RoundTrips)
	n(c.errors, s.RedisErrors)
	n(c.admissions, s.SharedAdmits, "shared")
	n(c.admissions, s.LeaseAdmits, "lease")
	n(c.admissions, s.LocalAdmits, "local")
	n(c.leased, s.LeasedTokens)
	n(c.changes, s.Fallbacks, "fallback")
	n(c.changes, s.Recoveries, "shared")
}
