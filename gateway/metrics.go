package gateway

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the gateway's Prometheus series, per caller (principal) and
// operation.
type metrics struct {
	admitted  *prometheus.CounterVec   // attempts admitted by the limiter
	throttled *prometheus.CounterVec   // upstream rate throttles (429) seen
	responses *prometheus.CounterVec   // answers by class
	rejected  *prometheus.CounterVec   // requests refused before forwarding
	waited    *prometheus.HistogramVec // time spent waiting for admission
	latency   *prometheus.HistogramVec // whole request, as the caller sees it
}

func newMetrics(reg prometheus.Registerer) (*metrics, http.Handler, error) {
	var h http.Handler
	if reg == nil {
		r := prometheus.NewRegistry()
		reg, h = r, promhttp.HandlerFor(r, promhttp.HandlerOpts{})
	} else if g, ok := reg.(prometheus.Gatherer); ok {
		h = promhttp.HandlerFor(g, promhttp.HandlerOpts{})
	} else {
		h = http.NotFoundHandler()
	}
	pl := []string{"principal", "operation"}
	buckets := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &metrics{
		admitted:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_gateway_admitted_total", Help: "Upstream attempts admitted by the limiter, per caller and operation."}, pl),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_gateway_upstream_throttled_total", Help: "Rate throttles (429) answered by the upstream service, per caller and operation."}, pl),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_gateway_responses_total", Help: "Answers to callers by classification (ok, rate-throttle, client-fault, …)."}, append(pl, "class")),
		rejected:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_gateway_rejected_total", Help: "Requests refused before forwarding (signature, access, size), by AWS error code; principal is - when unauthenticated."}, append(pl, "code")),
		waited:    prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tollgate_gateway_admission_wait_seconds", Help: "Time a request waited for admission, all attempts together.", Buckets: buckets}, pl),
		latency:   prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tollgate_gateway_request_duration_seconds", Help: "Time from receiving a verified request to answering it.", Buckets: buckets}, pl),
	}
	for _, c := range []prometheus.Collector{m.admitted, m.throttled, m.responses, m.rejected, m.waited, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, nil, err
		}
	}
	return m, h, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
