package sim

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// collector exposes the simulator's counters to Prometheus at scrape time,
// so the request path pays nothing for metrics.
type collector struct {
	s                                   *Server
	requests, callers, contacts, dupes  *prometheus.Desc
	reorder, active, tokens, rate, dial *prometheus.Desc
}

func newMetricsHandler(s *Server) http.Handler {
	c := &collector{
		s:        s,
		requests: prometheus.NewDesc("tollgate_sim_requests_total", "Connect API requests served, by operation, outcome (accepted, throttled, error) and error code.", []string{"operation", "outcome", "code"}, nil),
		callers:  prometheus.NewDesc("tollgate_sim_caller_requests_total", "Connect API requests served, by caller access key and outcome.", []string{"caller", "outcome"}, nil),
		contacts: prometheus.NewDesc("tollgate_sim_contacts_started_total", "Contacts started (voice, chat, task).", nil, nil),
		dupes:    prometheus.NewDesc("tollgate_sim_duplicate_client_tokens_total", "Requests deduplicated by ClientToken.", nil, nil),
		reorder:  prometheus.NewDesc("tollgate_sim_rejected_reorder_total", "Outbound calls beyond the concurrent-calls quota that got a reorder tone.", nil, nil),
		active:   prometheus.NewDesc("tollgate_sim_active_contacts", "Active contacts by instance and channel.", []string{"instance", "channel"}, nil),
		tokens:   prometheus.NewDesc("tollgate_sim_bucket_tokens", "Tokens available in each operation's bucket.", []string{"operation"}, nil),
		rate:     prometheus.NewDesc("tollgate_sim_bucket_rate", "Refill rate (requests/s) of each operation's bucket.", []string{"operation"}, nil),
		dial:     prometheus.NewDesc("tollgate_sim_dial_requests_total", "PutDialRequestBatch items by outcome.", []string{"outcome"}, nil),
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.StatsLast(1)
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for op, n := range st.Operations {
		if n.Accepted > 0 {
			counter(c.requests, n.Accepted, op, "accepted", "")
		}
		for code, v := range n.ThrottledByCode {
			counter(c.requests, v, op, "throttled", code)
		}
		for code, v := range n.ErrorsByCode {
			counter(c.requests, v, op, "error", code)
		}
	}
	for caller, n := range st.Callers {
		counter(c.callers, n.Accepted, caller, "accepted")
		counter(c.callers, n.Throttled, caller, "throttled")
		counter(c.callers, n.Errors, caller, "error")
	}
	counter(c.contacts, st.ContactsStarted)
	counter(c.dupes, st.DuplicateClientTokens)
	counter(c.reorder, st.RejectedReorder)
	for outcome, v := range st.DialRequests {
		counter(c.dial, v, outcome)
	}
	for id, a := range st.Active {
		ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, float64(a.Calls), id, "VOICE")
		ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, float64(a.Chats), id, "CHAT")
		ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, float64(a.Tasks), id, "TASK")
	}
	for _, q := range c.s.Quotas() {
		ch <- prometheus.MustNewConstMetric(c.tokens, prometheus.GaugeValue, q.Tokens, q.Op)
		ch <- prometheus.MustNewConstMetric(c.rate, prometheus.GaugeValue, q.Rate, q.Op)
	}
}
