package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/usage"
)

// quotaWatch is the live quota sync (limits.quota_sync) and the per-
// operation quota gauges.
type quotaWatch struct {
	sync     *usage.Sync
	peaks    *usage.SecondPeaks
	sq       usage.InstanceQuotaReader
	interval time.Duration
	log      *slog.Logger
	calls    *callQuotas // the per-instance call budgets; nil without call pacing
}

// newQuotaWatch builds the sync when limits.quota_sync is set: Service
// Quotas at the configured endpoint (the simulator serves it too) or the
// SDK's own resolution (AWS_ENDPOINT_URL_SERVICE_QUOTAS …), the limiter's
// rates set to the applied values times rate_scale, and gauges
// tollgate_quota_{applied_rps,usage_rps,usage_percent}{op} registered with
// reg when it is not nil. It returns nil when the sync is off.
func newQuotaWatch(cfg config.Config, awsCfg aws.Config, l ratelimit.Limiter, log *slog.Logger, reg prometheus.Registerer) *quotaWatch {
	iv := cfg.Limits.QuotaSync
	if iv <= 0 {
		return nil
	}
	c := usage.NewClients(awsCfg, cfg.AWS.Endpoint)
	w := &quotaWatch{
		sync:     usage.NewSync(c.SQ, l, usage.SyncOptions{Interval: iv, RateScale: cfg.Limits.RateScale, Logger: log}),
		peaks:    usage.NewSecondPeaks(),
		sq:       c.SQ,
		interval: iv,
		log:      log,
	}
	if reg != nil {
		if err := reg.Register(w); err != nil {
			log.Warn("quota gauges not registered", "err", err)
		}
	}
	log.Info("quota sync on", "interval", iv.String())
	return w
}

// watchCalls makes the sync keep b (the calls-in-progress budget; nil when
// call pacing is off) at each instance's applied concurrent-active-calls
// quota, asking DescribeInstance for ARNs through c (the governed client).
func (w *quotaWatch) watchCalls(b *callbudget.Budget, c *connect.Client) {
	if w == nil || b == nil {
		return
	}
	w.calls = newCallQuotas(w.sq, c, b, w.interval, w.log)
}

// observer is the governor observer feeding the usage gauges.
func (w *quotaWatch) observer() governor.Observer {
	if w == nil {
		return nil
	}
	return w.peaks
}

// run refreshes until ctx ends.
func (w *quotaWatch) run(ctx context.Context) {
	if w == nil {
		return
	}
	if w.calls != nil {
		done := make(chan struct{})
		go func() { defer close(done); w.calls.run(ctx) }()
		defer func() { <-done }()
	}
	_ = w.sync.Run(ctx)
}

var (
	descApplied = prometheus.NewDesc("tollgate_quota_applied_rps", "Applied Service Quotas rate quota of the operation (requests/s).", []string{"op", "code"}, nil)
	descUsage   = prometheus.NewDesc("tollgate_quota_usage_rps", "Calls this server made in the last complete minute (average requests/s).", []string{"op"}, nil)
	descPercent = prometheus.NewDesc("tollgate_quota_usage_percent", "tollgate_quota_usage_rps as a percent of the applied quota.", []string{"op"}, nil)
)

// Describe implements prometheus.Collector.
func (w *quotaWatch) Describe(ch chan<- *prometheus.Desc) {
	ch <- descApplied
	ch <- descUsage
	ch <- descPercent
}

// Collect implements prometheus.Collector.
func (w *quotaWatch) Collect(ch chan<- prometheus.Metric) {
	q := w.sync.Quotas()
	for op, qq := range q {
		ch <- prometheus.MustNewConstMetric(descApplied, prometheus.GaugeValue, qq.Applied, op, qq.Code)
	}
	for op, r := range w.peaks.Rates(time.Now()) {
		ch <- prometheus.MustNewConstMetric(descUsage, prometheus.GaugeValue, r.LastMinute, op)
		if qq, ok := q[op]; ok && qq.Applied > 0 {
			ch <- prometheus.MustNewConstMetric(descPercent, prometheus.GaugeValue, r.LastMinute/qq.Applied*100, op)
		}
	}
}
