package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/api"
)

// poolCollector exports the quota pools' figures (app.PoolStats) at scrape
// time. tollgate_pool_healthy == 0 is the alarm: the pool is out of
// rotation and its work flows to the others.
type poolCollector struct{ stats func() []api.PoolStats }

var (
	poolHealthyDesc   = prometheus.NewDesc("tollgate_pool_healthy", "1 while the quota pool is in rotation, 0 while it is out (alarm on 0).", []string{"pool"}, nil)
	poolDeliveredDesc = prometheus.NewDesc("tollgate_pool_delivered_total", "Jobs delivered (succeeded) on the quota pool.", []string{"pool"}, nil)
	poolThrottledDesc = prometheus.NewDesc("tollgate_pool_throttled_total", "Calls the quota pool's account answered with a throttle.", []string{"pool"}, nil)
	poolFailedDesc    = prometheus.NewDesc("tollgate_pool_failed_total", "Attempts that failed on the quota pool (definite failures and unknown outcomes).", []string{"pool"}, nil)
	poolInFlightDesc  = prometheus.NewDesc("tollgate_pool_in_flight", "Jobs on their way to the quota pool.", []string{"pool"}, nil)
	poolCallsDesc     = prometheus.NewDesc("tollgate_pool_calls_in_progress", "Contacts started on the quota pool whose end is not known yet.", []string{"pool"}, nil)
)

// poolObserver counts one pool's attempts by class
// (tollgate_pool_attempts_total{pool,class}).
func (m *metrics) poolObserver(pool string) governor.Observer {
	return governor.ObserverFuncs{Attempt: func(a governor.Attempt) {
		class := "ok"
		if a.Err != nil {
			class = a.Info.Class.String()
		}
		m.pools.WithLabelValues(pool, class).Inc()
	}}
}

// watchPools adds the pools' series when the app has pools.
func (m *metrics) watchPools(stats func() []api.PoolStats) {
	m.reg.MustRegister(poolCollector{stats})
}

// Describe implements prometheus.Collector.
func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolHealthyDesc, poolDeliveredDesc, poolThrottledDesc, poolFailedDesc, poolInFlightDesc, poolCallsDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.stats() {
		healthy := 0.0
		if p.Healthy {
			healthy = 1
		}
		ch <- prometheus.MustNewConstMetric(poolHealthyDesc, prometheus.GaugeValue, healthy, p.Name)
		ch <- prometheus.MustNewConstMetric(poolDeliveredDesc, prometheus.CounterValue, float64(p.Delivered), p.Name)
		ch <- prometheus.MustNewConstMetric(poolThrottledDesc, prometheus.CounterValue, float64(p.Throttled), p.Name)
		ch <- prometheus.MustNewConstMetric(poolFailedDesc, prometheus.CounterValue, float64(p.Failed), p.Name)
		ch <- prometheus.MustNewConstMetric(poolInFlightDesc, prometheus.GaugeValue, float64(p.InFlight), p.Name)
		ch <- prometheus.MustNewConstMetric(poolCallsDesc, prometheus.GaugeValue, float64(p.CallsInProgress), p.Name)
	}
}
