package dispatch

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/campaigns"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// Pool is one account's (and Region's) share of the work: its own Connect
// client, admission and calls-in-progress budget. Options.Pools lists them.
type Pool struct {
	Name     string // unique, [a-z0-9-]
	Account  string // 12 digits (for logs, stats and the derived ClientToken)
	Region   string
	Instance string     // the pool's Connect instance id
	AWS      aws.Config // the pool's credentials and Region
	// Endpoint and CampaignsEndpoint override the Connect and Outbound
	// Campaigns endpoints; empty means the Region's (CampaignsEndpoint
	// empty: Endpoint when set).
	Endpoint, CampaignsEndpoint string
	Governor                    *governor.Governor // the pool's own admission (own buckets); required
	CallBudget                  *callbudget.Budget // nil = no call pacing in this pool
	Weight                      float64            // >0; default 1: ties and headroom are scaled by it
	// IDs maps an input member name ("ContactFlowId", "QueueId",
	// "SourcePhoneNumber", "CampaignId") to logical name → this pool's id.
	IDs    map[string]map[string]string
	Dialer Dialer // nil = campaigns client from AWS/CampaignsEndpoint
}

// PoolStats are one pool's counters since New, for Dispatcher.PoolStats.
type PoolStats struct {
	Name, Account, Region, Instance string
	Delivered                       int64 // calls that succeeded on the pool (a dial request counts one)
	Throttled                       int64 // requests the pool's account throttled (429 rate throttles, retries included)
	InFlight                        int64 // jobs routed to the pool whose call has not returned
	Failed                          int64 // pool failures: credentials refused, 5xx, timeouts, resets, concurrency quota full
	Healthy                         bool  // in rotation (false while out, and while its probe runs)
	// Health is "ok", or "out: <reason>, back in <dur>" ("probing: <reason>"
	// while its probe job runs).
	Health          string
	CallsInProgress int64 // contacts started on the pool whose end is not known yet
}

// Pool defaults.
const (
	DefaultPoolFailures   = 3
	DefaultPoolBackoff    = time.Second
	DefaultPoolMaxBackoff = time.Minute
)

// pool is a Pool at run time. Its counters are atomic; its health has its
// own mutex.
type pool struct {
	Pool
	connect *connect.Client
	dialer  Dialer
	health  health

	pending                     atomic.Int64 // routed, call not returned
	delivered, throttled, fails atomic.Int64
}

// poolNameOK: 1–64 characters of [a-z0-9-].
func poolNameOK(s string) bool {
	return s != "" && queue.CheckPool(s) == nil
}

// newPools builds the pools of o (already defaulted).
func newPools(o Options) ([]*pool, error) {
	seen := map[string]bool{}
	byAcct := map[[2]string]string{} // account and Region → pool
	out := make([]*pool, 0, len(o.Pools))
	for i, cfg := range o.Pools {
		at := fmt.Sprintf("dispatch: Pools[%d] (%q)", i, cfg.Name)
		switch {
		case !poolNameOK(cfg.Name):
			return nil, fmt.Errorf("%s: Name must be 1–64 characters of a-z 0-9 -", at)
		case seen[cfg.Name]:
			return nil, fmt.Errorf("%s: Name is used by another pool", at)
		case cfg.Governor == nil:
			return nil, fmt.Errorf("%s: Governor is required", at)
		case cfg.Instance == "":
			return nil, fmt.Errorf("%s: Instance is required", at)
		case cfg.Weight < 0:
			return nil, fmt.Errorf("%s: Weight must be > 0, got %v", at, cfg.Weight)
		}
		if other, ok := byAcct[[2]string{cfg.Account, cfg.Region}]; ok && cfg.Account != "" {
			return nil, fmt.Errorf("%s: Account and Region are pool %q's too (one pool per account and Region: they share its quotas)", at, other)
		}
		byAcct[[2]string{cfg.Account, cfg.Region}] = cfg.Name
		seen[cfg.Name] = true
		if cfg.Weight == 0 {
			cfg.Weight = 1
		}
		p := &pool{Pool: cfg}
		aw := cfg.AWS.Copy()
		var hc aws.HTTPClient = aw.HTTPClient
		if hc == nil {
			hc = awshttp.NewBuildableClient()
		}
		aw.HTTPClient = trackingClient{next: hc, p: p}
		opts := []func(*connect.Options){awssdk.Govern(cfg.Governor)}
		if cfg.Endpoint != "" {
			opts = append(opts, func(co *connect.Options) { co.BaseEndpoint = aws.String(cfg.Endpoint) })
		}
		p.connect = connect.NewFromConfig(aw, opts...)
		p.dialer = cfg.Dialer
		if p.dialer == nil {
			ce := cfg.CampaignsEndpoint
			if ce == "" {
				ce = cfg.Endpoint
			}
			p.dialer = campaigns.New(aw, campaigns.Options{Endpoint: ce})
		}
		p.health.init(o.PoolFailures, o.PoolBackoff, o.PoolMaxBackoff)
		out = append(out, p)
	}
	return out, nil
}

// token is the ClientToken of job on p: derived from the pool's account
// and instance and the job's own token (queue.DeriveToken), so pools never
// share a token and every redelivery to the same pool carries the same one
// (36 characters: it fits every Connect ClientToken and a dial request's).
func (p *pool) token(job queue.Job) string {
	return queue.DeriveToken(p.Account, p.Instance, job.ClientToken)
}

// PoolStats returns each pool's counters and health, in Options.Pools
// order; nil with a single pool (Options.Pools empty).
func (d *Dispatcher) PoolStats() []PoolStats {
	if d.pools == nil {
		return nil
	}
	now := time.Now()
	active := map[*pool]int64{}
	c := d.contacts
	c.mu.Lock()
	for _, t := range c.m {
		if t.end == nil && t.pool != nil {
			active[t.pool]++
		}
	}
	c.mu.Unlock()
	out := make([]PoolStats, len(d.pools))
	for i, p := range d.pools {
		healthy, desc := p.health.describe(now)
		out[i] = PoolStats{
			Name: p.Name, Account: p.Account, Region: p.Region, Instance: p.Instance,
			Delivered: p.delivered.Load(), Throttled: p.throttled.Load(), InFlight: p.pending.Load(),
			Failed: p.fails.Load(), Healthy: healthy, Health: desc, CallsInProgress: active[p],
		}
	}
	return out
}

// attemptLog notes, for one governed call, whether any attempt's outcome
// is unknown (awserr.OutcomeUnknown): the request may have reached Connect
// and no answer was read. probe says the call is its pool's probe.
type attemptLog struct {
	unknown atomic.Bool
	probe   bool
}

type attemptLogKey struct{}

func withAttemptLog(ctx context.Context, probe bool) (context.Context, *attemptLog) {
	l := &attemptLog{probe: probe}
	return context.WithValue(ctx, attemptLogKey{}, l), l
}

// poolOutError stops a job's request that was routed to a pool, and
// admitted there, after the pool went out of rotation: it is not sent, and
// the job goes back to be routed again. Its error code makes it a
// non-retryable, definite failure for the governor.
type poolOutError struct{ pool string }

func (e *poolOutError) Error() string {
	return "pool " + e.pool + " went out of rotation before the request was sent"
}

// ErrorCode is the code the governor classifies (unknown: not retried).
func (e *poolOutError) ErrorCode() string { return "TollgatePoolOutOfRotation" }

// trackingClient is a pool's HTTP client: it records every attempt whose
// outcome is unknown in the call's attemptLog (the governor may retry a
// timed-out attempt and end on a throttle; the job is still pinned), and
// counts the pool's rate throttles, retried or not.
type trackingClient struct {
	next aws.HTTPClient
	p    *pool
}

func (c trackingClient) Do(r *http.Request) (*http.Response, error) {
	l, ok := r.Context().Value(attemptLogKey{}).(*attemptLog)
	if ok && !l.probe && c.p.health.isOut() {
		return nil, &poolOutError{pool: c.p.Name}
	}
	res, err := c.next.Do(r)
	if ok {
		if err != nil {
			if awserr.OutcomeUnknown("", err) {
				l.unknown.Store(true)
			}
		} else if awserr.StatusOutcomeUnknown(res.StatusCode) {
			l.unknown.Store(true)
		}
	}
	if err == nil && res.StatusCode == http.StatusTooManyRequests {
		code := awserr.SanitizeCode(res.Header.Get("X-Amzn-Errortype"))
		if code == "" || awserr.ClassifyCode("", code, res.StatusCode).Class == awserr.ClassRateThrottle {
			c.p.throttled.Add(1)
		}
	}
	return res, err
}

// estimator returns the limiter's read-only view of its tokens, looking
// through wrappers that expose their inner limiter (adaptive.Adapter).
func estimator(l ratelimit.Limiter) ratelimit.Estimator {
	for range 4 {
		if e, ok := l.(ratelimit.Estimator); ok {
			return e
		}
		in, ok := l.(interface{ Inner() ratelimit.Limiter })
		if !ok {
			return nil
		}
		l = in.Inner()
	}
	return nil
}

// sortedNames is for messages.
func sortedNames(ps []*pool) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	sort.Strings(out)
	return out
}
