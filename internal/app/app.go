package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/contactevents"
	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/poller"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
)

// Options are what New needs besides the configuration. The zero value is
// usable: real AWS through the default credential chain, the queue the
// configuration selects, logs discarded, nobody watching.
type Options struct {
	// Logger receives the process's log; nil discards it.
	Logger *slog.Logger
	// AWS, when set, is used instead of config.LoadDefaultConfig (tests and
	// the demo pass static credentials and an in-process HTTP client).
	AWS *aws.Config
	// Queue, when set, is used instead of the configured backend. Close
	// closes it.
	Queue queue.Queue
	// Hooks let a front end (the HTTP server's metrics) watch the parts.
	Hooks Hooks
	// LookupEnv reads the environment variables a pool's
	// credentials.secret_env names; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// lookupEnv returns o.LookupEnv or os.LookupEnv.
func (o Options) lookupEnv() func(string) (string, bool) {
	if o.LookupEnv != nil {
		return o.LookupEnv
	}
	return os.LookupEnv
}

// Hooks are the observers a front end attaches to the parts New builds.
// Every field may be nil.
type Hooks struct {
	// Attempt sees every governed attempt (before the limiter's own
	// observer).
	Attempt governor.Observer
	// Outcome sees every job the dispatcher settles.
	Outcome func(dispatch.Outcome)
	// Registerer receives the parts' own Prometheus collectors (the Redis
	// limiter's).
	Registerer prometheus.Registerer
	// PoolAttempt, with quota pools, returns an observer for the pool
	// named (it sees that pool's attempts, after Attempt, which sees every
	// pool's): the front end's per-pool series. nil: none.
	PoolAttempt func(pool string) governor.Observer
}

// App is one tollgate process built from a validated configuration: the
// AWS configuration, the quota table, the queue, the admission (limiter and
// learner), the governor and the dispatcher. Front ends (the HTTP API of
// internal/server; later the gateway) sit on top of it; Run runs its
// background services; Close releases what New opened.
type App struct {
	Config config.Config
	Log    *slog.Logger
	AWS    aws.Config
	// Quotas is the quota table with the quota file's overrides, before
	// rate_scale and burst_headroom (Admission.Table has those applied).
	Quotas     *quotas.Table
	Queue      queue.Queue
	Admission  *Admission
	Governor   *governor.Governor
	Dispatcher *dispatch.Dispatcher
	// Pools are the quota pools (the pools section; pools.go), nil for a
	// single account. With pools, AWS, Quotas, Admission, Governor and
	// CallBudget above are the first pool's.
	Pools []*Pool
	// CallBudget paces StartOutboundVoiceContact on calls in progress;
	// nil when dispatch.call_pacing is off.
	CallBudget *callbudget.Budget

	events *contactevents.Consumer // dispatch.contact_events_queue; nil when unset

	quotas *quotaWatch // limits.quota_sync (quotasync.go); nil when off

	// Poller polls the poll section's queries; nil when there are none.
	Poller    *poller.Poller
	closePoll func() error
}

// New validates cfg and builds the process: it loads the AWS configuration
// (checking the credentials now, so a missing one fails the start, not
// every job), the quota table with the quota file's overrides, opens the
// queue, builds the admission, the governor and the dispatcher. Nothing
// runs until Run. On error everything opened is closed again.
func New(ctx context.Context, cfg config.Config, o Options) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Pools) > 0 {
		return newPools(ctx, cfg, o, log)
	}
	a := &App{Config: cfg, Log: log}
	var err error
	if a.AWS, err = loadAWS(ctx, cfg, o.AWS, log); err != nil {
		return nil, err
	}
	table, err := quotaTable(cfg.Limits, a.AWS.Region)
	if err != nil {
		return nil, err
	}
	a.Quotas = table
	a.Queue = o.Queue
	if a.Queue == nil {
		if a.Queue, err = openQueue(ctx, cfg, a.AWS); err != nil {
			return nil, err
		}
	}
	a.Admission, err = NewAdmission(AdmissionOptions{
		Limits:     cfg.Limits,
		Table:      table,
		Region:     a.AWS.Region,
		Logger:     log,
		Registerer: o.Hooks.Registerer,
	})
	if err != nil {
		a.Queue.Close()
		return nil, err
	}
	if a.Poller, a.closePoll, err = newPoller(cfg, a.AWS.Region, a.Admission.Table, a.connectCaller, log); err != nil {
		_ = a.Admission.Close()
		a.Queue.Close()
		return nil, err
	}
	a.quotas = newQuotaWatch(cfg, a.AWS, a.Admission.Limiter, log, o.Hooks.Registerer)
	a.Governor = a.Admission.NewGovernor(governor.Options{
		MaxAttempts: cfg.Dispatch.MaxAttempts,
		MaxElapsed:  cfg.Dispatch.CallTimeout,
		Observer:    governor.Observers(o.Hooks.Attempt, pollObserver(a.Poller), a.quotas.observer()),
	})
	if a.events, err = newContactEvents(ctx, cfg, a.AWS, log); err != nil {
		_ = a.closePoll()
		_ = a.Admission.Close()
		a.Queue.Close()
		return nil, err
	}
	a.CallBudget = callBudget(cfg, table)
	dopts := a.dispatchOptions(o)
	voiceOptions(&dopts, cfg, a.CallBudget)
	a.Dispatcher, err = dispatch.New(dopts)
	if err != nil {
		_ = a.closePoll()
		_ = a.Admission.Close()
		a.Queue.Close()
		return nil, err
	}
	a.quotas.watchCalls(a.CallBudget, a.Dispatcher.Connect())
	return a, nil
}

// dispatchOptions are the dispatcher's options from the configuration and
// the parts built so far (the single account's; newPools adds the pools).
func (a *App) dispatchOptions(o Options) dispatch.Options {
	cfg := a.Config
	return dispatch.Options{
		Queue:             a.Queue,
		Governor:          a.Governor,
		AWS:               a.AWS,
		Endpoint:          cfg.AWS.Endpoint,
		CampaignsEndpoint: cfg.AWS.CampaignsEndpoint,
		Concurrency:       cfg.Dispatch.Concurrency,
		CallTimeout:       cfg.Dispatch.CallTimeout,
		Visibility:        cfg.EffectiveVisibility(),
		MaxBatch:          cfg.Dispatch.MaxBatch,
		ShutdownGrace:     cfg.Dispatch.ShutdownGrace,
		Logger:            a.Log,
		Observer:          o.Hooks.Outcome,
	}
}

// newPools is New with the pools section: every pool gets its AWS
// configuration (credentials retrieved now: an unassumable role or a
// missing secret variable fails the start naming the pool and field), its
// quota table, admission, governor (the same options and observers as the
// single account's) and calls-in-progress budget, and the dispatcher gets
// them all (dispatch.Options.Pools). The App's AWS, Quotas, Admission,
// Governor and CallBudget are the first pool's, for the parts that take
// one (the dashboard's limiter panel, stagger); Pools holds them all.
//
// The queue must be the embedded store (config refuses sqs: pins). The
// contact events queue, when set, is read with the aws section's
// credentials (the default chain, or Options.AWS) in its Region, else the
// first pool's: every account's events arrive on the one queue and the
// dispatcher finds each contact's pool.
func newPools(ctx context.Context, cfg config.Config, o Options, log *slog.Logger) (*App, error) {
	a := &App{Config: cfg, Log: log}
	var err error
	// The poller's observer needs the poller, which needs a pool's table:
	// the governors report to it through this indirection.
	poll := &lateObserver{}
	observer := governor.Observers(o.Hooks.Attempt, poll)
	if a.Pools, err = buildPools(ctx, cfg, o.AWS, o.lookupEnv(), observer, o.Hooks.PoolAttempt, o.Hooks.Registerer, log); err != nil {
		return nil, err
	}
	first := a.Pools[0]
	a.AWS, a.Quotas, a.Admission, a.Governor, a.CallBudget = first.AWS, first.Quotas, first.Admission, first.Governor, first.CallBudget
	fail := func(err error) (*App, error) {
		if a.closePoll != nil {
			_ = a.closePoll()
		}
		_ = closePools(a.Pools)
		if a.Queue != nil && o.Queue == nil {
			a.Queue.Close()
		}
		return nil, err
	}
	if cfg.Dispatch.ContactEventsQueue != "" {
		home := cfg
		if home.AWS.Region == "" {
			home.AWS.Region = first.Config.Region
		}
		if home.AWS.Endpoint == "" {
			home.AWS.Endpoint = cfg.Dispatch.ContactEventsEndpoint // placeholder credentials for an emulator
		}
		eventsAWS, err := loadAWS(ctx, home, o.AWS, log)
		if err != nil {
			return fail(fmt.Errorf("dispatch.contact_events_queue: %w", err))
		}
		if a.events, err = newContactEvents(ctx, cfg, eventsAWS, log); err != nil {
			return fail(err)
		}
	}
	a.Queue = o.Queue
	if a.Queue == nil {
		if a.Queue, err = openQueue(ctx, cfg, a.AWS); err != nil {
			return fail(err)
		}
	}
	if a.Poller, a.closePoll, err = newPoller(cfg, first.Config.Region, first.Admission.Table, a.connectCaller, log); err != nil {
		return fail(err)
	}
	poll.o = pollObserver(a.Poller) // before anything runs: no governor has been called yet
	dopts := a.dispatchOptions(o)
	voiceOptions(&dopts, cfg, nil) // each pool has its own budget
	if err := poolDispatchOptions(&dopts, a.Pools); err != nil {
		return fail(err)
	}
	if a.Dispatcher, err = dispatch.New(dopts); err != nil {
		return fail(err)
	}
	names := make([]string, len(a.Pools))
	for i, p := range a.Pools {
		names[i] = p.Config.Name
	}
	log.Info("delivering across quota pools", "pools", names)
	return a, nil
}

// CheckJob validates a job as POST /v1/jobs does before enqueueing it:
// dispatch.Check for one account; with pools the dispatcher's pool-aware
// check (InstanceId may be left out, logical names are accepted when every
// pool maps them).
func (a *App) CheckJob(j queue.Job, now time.Time) (queue.Job, error) {
	if len(a.Pools) == 0 {
		return dispatch.Check(j, now)
	}
	return a.checkPoolJob(j, now)
}

// PoolStats are the pools' figures (delivered, throttled, in flight,
// health …), in the configuration's order; nil without pools.
func (a *App) PoolStats() []api.PoolStats {
	if len(a.Pools) == 0 {
		return nil
	}
	return a.poolStats()
}

// Run runs the background services (the dispatcher, and the live quota
// sync when limits.quota_sync is set) until ctx ends; the dispatcher then
// lets calls in flight finish for the shutdown grace and releases the rest
// to the queue.
func (a *App) Run(ctx context.Context) error {
	defer a.startBucketSaver(ctx)() // buckets.go: start from the last run's levels
	go a.quotas.run(ctx)
	for _, p := range a.Pools {
		go p.quotas.run(ctx)
	}
	if a.events != nil {
		ectx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); runContactEvents(ectx, a.events, a.Dispatcher) }()
		defer func() { stop(); <-done }()
	}
	if a.Poller != nil {
		pctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = a.Poller.Run(pctx) }()
		defer func() { stop(); <-done }()
	}
	if err := a.Dispatcher.Run(ctx); err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	return nil
}

// Close releases what New opened: the Redis limiter (its leased tokens go
// back) and the queue. Call it after Run returned.
func (a *App) Close() error {
	var errs []error
	if a.closePoll != nil {
		if err := a.closePoll(); err != nil {
			errs = append(errs, fmt.Errorf("closing the poll cache: %w", err))
		}
	}
	if len(a.Pools) > 0 {
		if err := closePools(a.Pools); err != nil {
			a.Log.Warn("closing the limiters", "err", err)
			errs = append(errs, err)
		}
	} else if err := a.Admission.Close(); err != nil {
		a.Log.Warn("closing the limiter", "err", err)
		errs = append(errs, err)
	}
	if err := a.Queue.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the queue: %w", err))
	}
	return errors.Join(errs...)
}
