package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgatehq/tollgate/adaptive"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/redisx"
)

// AdmissionOptions say how to build a process's admission: its limiter and
// the observer that must see every attempt made with it. serve builds it
// from its configuration (New); the bench's tollgate strategy builds one per
// caller with the same function, so it measures what serve runs.
type AdmissionOptions struct {
	// Limits are the limits settings (rate_scale, burst_headroom,
	// account_rate/burst, account, adaptive, redis_url). Their zero value
	// is the table as given, no account cap, no learning, no Redis.
	Limits config.Limits
	// Table is the quota table before Limits.RateScale and
	// Limits.BurstHeadroom are applied; nil means quotas.Default().
	Table *quotas.Table
	// Region completes the Redis key (with Limits.Account).
	Region string
	// Adapter tunes the learners when Limits.Adaptive is set (e.g.
	// Learner.Peers, Learner.Lag for a Redis fleet of another size than
	// adaptive.DefaultPeers, and RandSeed).
	Adapter adaptive.AdapterOptions
	// Prime starts these operations' learners at once (else at first use).
	Prime []string
	// Logger receives the limiter's log; nil discards it.
	Logger *slog.Logger
	// Registerer, when set, receives the Redis limiter's collector.
	Registerer prometheus.Registerer
}

// Admission is a built limiter and what goes with it.
type Admission struct {
	// Limiter admits every call: a ratelimit.Hierarchy, the adaptive
	// Adapter around it, or the Redis limiter.
	Limiter ratelimit.Limiter
	// Observer must see every attempt (nil when none is needed): the
	// Adapter feeding its learners, or the Redis limiter lowering the
	// fleet's shared rate.
	Observer governor.Observer
	// Adapter is the adaptive wrapper when Limits.Adaptive is set, else nil.
	Adapter *adaptive.Adapter
	// Shared is the Redis limiter when Limits.RedisURL is set, else nil.
	Shared *redisx.Limiter
	// Table is the quota table the limiter was seeded from (scaled, less
	// the headroom).
	Table *quotas.Table
	// Buckets is the process's own hierarchy (under the Adapter when
	// adaptive); nil when the buckets live in Redis. Its levels are saved
	// and restored across restarts (buckets.go).
	Buckets *ratelimit.Hierarchy
}

// NewAdmission builds the limiter from the limits settings:
//
//   - limits.redis_url: a redisx.Limiter sharing the buckets of the account
//     and Region across every process pointed at the same Redis. Its
//     Prometheus collector joins o.Registerer. With limits.adaptive it is
//     wrapped by an adaptive.Adapter whose learners live in Redis
//     (redisx.LearnerStore): the fleet runs one learner per operation on
//     shared state, and the adapter is the observer.
//   - limits.adaptive: the in-memory Hierarchy wrapped by an
//     adaptive.Adapter, which is also the observer feeding its learners.
//   - otherwise the in-memory Hierarchy, paced at the quota table.
func NewAdmission(o AdmissionOptions) (*Admission, error) {
	l := o.Limits
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := o.Table
	if t == nil {
		t = quotas.Default()
	}
	table := withHeadroom(t.Scale(l.RateScale), l.BurstHeadroom)
	acct := accountLimit(l)
	if l.RedisURL != "" {
		if err := checkRedisAuth(context.Background(), l); err != nil {
			return nil, err
		}
		rl, err := redisx.New(redisx.Options{
			URL:          l.RedisURL,
			Account:      l.Account,
			Region:       o.Region,
			Table:        table,
			AccountLimit: acct,
			Timeout:      l.RedisTimeout,
			Logger:       log,
		})
		if err != nil {
			return nil, fmt.Errorf("limits.redis_url (%s): %w", redisx.RedactURL(l.RedisURL), err)
		}
		if o.Registerer != nil {
			if err := o.Registerer.Register(rl.Collector()); err != nil {
				_ = rl.Close()
				return nil, fmt.Errorf("limits.redis_url: registering metrics: %w", err)
			}
		}
		log.Info("sharing rate limits through Redis", "redis", redisx.RedactURL(l.RedisURL),
			"account", l.Account, "region", o.Region, "mode", rl.Mode().String(), "worker", rl.WorkerID())
		if l.Adaptive {
			ao := o.Adapter
			ao.Learner.Peers = 1 // the fleet shares one learner: one client, not a crowd
			if ao.Learner.Lag == 0 {
				// Each worker has a call admitted ahead: the fleet reacts to
				// a cut about one call per worker late. Its size is not known
				// here; assume the crowd the learner is tuned for.
				ao.Learner.Lag = adaptive.DefaultPeers
			}
			ao.Store = redisx.NewLearnerStore(rl)
			a := adaptive.NewAdapter(rl, ao)
			a.Prime(o.Prime...)
			log.Info("adaptive rate learning on, shared through Redis")
			return &Admission{Limiter: a, Observer: a, Adapter: a, Shared: rl, Table: table}, nil
		}
		return &Admission{Limiter: rl, Shared: rl, Table: table}, nil
	}
	h := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: table, Account: acct})
	if l.Adaptive {
		a := adaptive.NewAdapter(h, o.Adapter)
		a.Prime(o.Prime...)
		log.Info("adaptive rate learning on")
		return &Admission{Limiter: a, Observer: a, Adapter: a, Table: table, Buckets: h}, nil
	}
	return &Admission{Limiter: h, Table: table, Buckets: h}, nil
}

// NewGovernor builds a governor over the admission's limiter. The
// admission's observer is added to o.Observer (after it), so a caller's
// own observer (metrics) never replaces the learner's.
func (a *Admission) NewGovernor(o governor.Options) *governor.Governor {
	o.Observer = governor.Observers(o.Observer, a.Observer)
	return governor.New(a.Limiter, o)
}

// Close closes the Redis limiter, if any: it gives leased tokens back and
// leaves the heartbeat set. Safe to call more than once.
func (a *Admission) Close() error {
	if a == nil || a.Shared == nil {
		return nil
	}
	if err := a.Shared.Close(); err != nil {
		return fmt.Errorf("closing the Redis limiter: %w", err)
	}
	return nil
}

// accountLimit is the account-wide cap of the limits settings, scaled; the
// zero Limit when there is none.
func accountLimit(l config.Limits) ratelimit.Limit {
	if l.AccountRate <= 0 {
		return ratelimit.Limit{}
	}
	scale := l.RateScale
	if scale <= 0 {
		scale = 1
	}
	return ratelimit.Limit{Rate: l.AccountRate * scale, Burst: max(1, l.AccountBurst*scale)}
}

// withHeadroom lowers every listed operation's burst by h (to at least 1).
func withHeadroom(t *quotas.Table, h int) *quotas.Table {
	if h <= 0 {
		return t
	}
	for _, a := range t.APIs() {
		a.Burst = max(1, a.Burst-h)
		_ = t.SetAPI(a)
	}
	return t
}
