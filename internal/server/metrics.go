package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/queue"
)

// metrics are the server's Prometheus series, in a registry of its own.
type metrics struct {
	reg       *prometheus.Registry
	submitted *prometheus.CounterVec
	outcomes  *prometheus.CounterVec
	alarms    *prometheus.CounterVec
	attempts  *prometheus.CounterVec
	pools     *prometheus.CounterVec // attempts per quota pool (pools.go)
	wait      *prometheus.HistogramVec
	latency   *prometheus.HistogramVec
	requests  *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_jobs_submitted_total", Help: "Jobs accepted by POST /v1/jobs.",
		}, []string{"op"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_dispatch_outcomes_total", Help: "Settled jobs by operation, result (succeeded, requeued, dead, released, lost) and reason.",
		}, []string{"op", "result", "reason"}),
		alarms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_dispatch_alarms_total", Help: "Alarm events: hard quotas met (a quota increase is needed).",
		}, []string{"op", "kind"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_governor_attempts_total", Help: "Calls made through the governor by operation and outcome class (ok, rate-throttle, …).",
		}, []string{"op", "class"}),
		pools: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_pool_attempts_total", Help: "Calls made through the governor per quota pool and outcome class (ok, rate-throttle, …).",
		}, []string{"pool", "class"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tollgate_governor_admission_wait_seconds", Help: "Time an attempt waited for a token.",
			Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"op"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tollgate_governor_call_latency_seconds", Help: "Latency of one attempt (the upstream call).",
			Buckets: prometheus.DefBuckets,
		}, []string{"op"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_http_requests_total", Help: "API requests by route and status code.",
		}, []string{"route", "code"}),
	}
	m.reg.MustRegister(m.submitted, m.outcomes, m.alarms, m.attempts, m.pools, m.wait, m.latency, m.requests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watchQueue adds the queue's statistics, read at scrape time.
func (m *metrics) watchQueue(q queue.Queue) { m.reg.MustRegister(queueCollector{q}) }

// observeOutcome is the dispatcher's Observer.
func (m *metrics) observeOutcome(o dispatch.Outcome) {
	reason := o.Reason
	if o.Result == dispatch.ResultSucceeded {
		reason = ""
	}
	if len(reason) > 40 {
		reason = reason[:40]
	}
	m.outcomes.WithLabelValues(o.Op, o.Result.String(), reason).Inc()
	if o.Alarm {
		m.alarms.WithLabelValues(o.Op, queue.ReasonHardQuota).Inc()
	}
}

// governorObserver feeds the attempt series.
func (m *metrics) governorObserver() governor.Observer {
	return governor.ObserverFuncs{Attempt: func(a governor.Attempt) {
		class := "ok"
		if a.Err != nil {
			class = a.Info.Class.String()
		}
		m.attempts.WithLabelValues(a.Op, class).Inc()
		m.wait.WithLabelValues(a.Op).Observe(a.Wait.Seconds())
		m.latency.WithLabelValues(a.Op).Observe(a.Latency.Seconds())
	}}
}

// queueCollector reads the queue's statistics at scrape time.
type queueCollector struct{ q queue.Queue }

var (
	queueJobsDesc = prometheus.NewDesc("tollgate_queue_jobs", "Jobs in the queue by state.", []string{"state"}, nil)
	queueAgeDesc  = prometheus.NewDesc("tollgate_queue_oldest_age_seconds", "Age of the oldest unfinished job.", nil, nil)
	queueDeadDesc = prometheus.NewDesc("tollgate_queue_dead_letters", "Dead letters by reason.", []string{"reason"}, nil)
)

func (queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueJobsDesc
	ch <- queueAgeDesc
	ch <- queueDeadDesc
}

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.q.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueJobsDesc, err)
		return
	}
	for state, v := range map[string]int64{"ready": st.Ready, "in_flight": st.InFlight, "delayed": st.Delayed, "dead": st.Dead, "succeeded": st.Succeeded} {
		if v >= 0 {
			ch <- prometheus.MustNewConstMetric(queueJobsDesc, prometheus.GaugeValue, float64(v), state)
		}
	}
	ch <- prometheus.MustNewConstMetric(queueAgeDesc, prometheus.GaugeValue, st.OldestAge.Seconds())
	for reason, v := range st.DeadByReason {
		ch <- prometheus.MustNewConstMetric(queueDeadDesc, prometheus.GaugeValue, float64(v), reason)
	}
}
