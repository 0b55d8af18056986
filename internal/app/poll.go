package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/poller"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/redisx"
)

// PollFile is the poller's last values in the data directory.
const PollFile = "poll.json"

// PollAttempts caps the governor's attempts for one page of a poll: a poll
// that cannot get through waits for its next interval instead.
const PollAttempts = 3

// PollCacheTimeout bounds one command of the shared poll cache. A poll can
// wait for Redis far longer than an admission can (redisx's default is
// 50 ms): a command that times out makes this process poll on its own, one
// extra Connect call.
const PollCacheTimeout = time.Second

// pollCallOptions put a poll last on the shared budget, so real work
// always wins.
var pollCallOptions = governor.CallOptions{Priority: ratelimit.PriorityLow, MaxAttempts: PollAttempts}

// newPoller builds the metrics poller of the poll section, or nil when it
// has no queries. call reaches Connect (through the governor, once the app
// is built); table is the scaled quota table the Fit check uses. With
// limits.redis_url the poll goes through a redisx.Cache shared by the
// fleet; the returned close releases it.
func newPoller(cfg config.Config, region string, table *quotas.Table, call poller.Caller, log *slog.Logger) (*poller.Poller, func() error, error) {
	qs := cfg.Poll.EffectiveQueries()
	if len(qs) == 0 {
		return nil, func() error { return nil }, nil
	}
	o := poller.Options{
		Call:      call,
		IsRead:    dispatch.IsRead,
		Share:     cfg.Poll.Share,
		StateFile: filepath.Join(cfg.DataDir, PollFile),
		Logger:    log,
		Rate: func(op string) (float64, bool) {
			a, ok := table.API(op)
			return a.Rate, ok
		},
	}
	for _, q := range qs {
		o.Queries = append(o.Queries, poller.Query{Name: q.Name, Op: q.Op, Interval: q.Interval, Input: q.Input})
	}
	closeFn := func() error { return nil }
	if cfg.Limits.RedisURL != "" {
		c, err := redisx.NewCache(redisx.Options{URL: cfg.Limits.RedisURL, Account: cfg.Limits.Account, Region: region, Logger: log,
			Timeout: PollCacheTimeout},
			redisx.CacheOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("poll (shared cache at limits.redis_url %s): %w", redisx.RedactURL(cfg.Limits.RedisURL), err)
		}
		o.Shared, closeFn = c, c.Close
	}
	p, err := poller.New(o)
	if err != nil {
		_ = closeFn()
		return nil, nil, fmt.Errorf("poll: %w", err)
	}
	return p, closeFn, nil
}

// connectCaller calls Connect through the dispatcher's governed client at
// the poller's priority; with pools, through the governed client of the
// pool whose instance the input names (else the first pool).
func (a *App) connectCaller(ctx context.Context, op string, in json.RawMessage) (json.RawMessage, error) {
	ctx = awssdk.WithCallOptions(ctx, pollCallOptions)
	if len(a.Pools) > 0 {
		// The pool whose instance the query reads, else the first.
		return dispatch.Call(ctx, poolOf(a.Pools, in).connect, op, in)
	}
	return dispatch.Call(ctx, a.Dispatcher.Connect(), op, in)
}

// pollObserver tells the poller about every rate throttle the governor
// meets, whoever the caller, so poll intervals stretch.
func pollObserver(p *poller.Poller) governor.Observer {
	if p == nil {
		return nil
	}
	return governor.ObserverFuncs{Attempt: func(at governor.Attempt) {
		if at.Err != nil && at.Info.Class == awserr.ClassRateThrottle {
			p.Throttled(at.Op, time.Now())
		}
	}}
}
