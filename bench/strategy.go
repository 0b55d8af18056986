package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/adaptive"
	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/backoff"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
)

// Client is one independent caller (a process) in a run: every goroutine of
// the caller shares it. Do makes one logical call of op with the caller's
// connect client, with whatever retrying the strategy does.
type Client interface {
	Do(ctx context.Context, op string, call func(ctx context.Context, c *connect.Client) error) error
}

// Strategy makes the clients of one run.
type Strategy interface {
	// Client returns the client-th caller of the run (0-based). Each call
	// returns a new, independent caller.
	Client(client int) (Client, error)
	// Close releases what the strategy started for the run.
	Close() error
}

// StrategyFactory builds a strategy for one run.
type StrategyFactory func(env Env) (Strategy, error)

var (
	registryMu sync.Mutex
	registry   = map[string]StrategyFactory{}
	order      []string // registration order, for listings
)

// RegisterStrategy adds a strategy under name, so that a strategy can live in
// another package (tollgate-redis, in redisx) and register itself from an
// init function. It panics if name is empty or already registered.
func RegisterStrategy(name string, f StrategyFactory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if name == "" || f == nil {
		panic("bench: RegisterStrategy: empty name or nil factory")
	}
	if _, dup := registry[name]; dup {
		panic("bench: RegisterStrategy: duplicate strategy " + name)
	}
	registry[name] = f
	order = append(order, name)
}

// Strategies returns the registered strategy names: the built-in ones in
// their canonical order, then the others sorted.
func Strategies() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	var builtin, other []string
	for _, n := range order {
		if isBuiltin(n) {
			builtin = append(builtin, n)
		} else {
			other = append(other, n)
		}
	}
	sort.Strings(other)
	return append(builtin, other...)
}

// LookupStrategy returns the factory registered under name.
func LookupStrategy(name string) (StrategyFactory, bool) {
	registryMu.Lock()
	defer registryMu.Unlock()
	f, ok := registry[name]
	return f, ok
}

// Built-in strategy names.
const (
	StrategyNone        = "none"
	StrategySeed        = "seed"
	StrategySDKStandard = "sdk-standard"
	StrategySDKAdaptive = "sdk-adaptive"
	StrategyTollgate    = "tollgate"
)

func isBuiltin(n string) bool {
	switch n {
	case StrategyTollgate, StrategySDKAdaptive, StrategySeed, StrategySDKStandard, StrategyNone:
		return true
	}
	return false
}

func init() {
	RegisterStrategy(StrategyTollgate, newTollgate)
	RegisterStrategy(StrategySDKAdaptive, sdkStrategy(func() connect.Options {
		return connect.Options{Retryer: retry.NewAdaptiveMode()}
	}))
	RegisterStrategy(StrategySeed, newSeed)
	RegisterStrategy(StrategySDKStandard, sdkStrategy(func() connect.Options {
		return connect.Options{Retryer: retry.NewStandard()}
	}))
	RegisterStrategy(StrategyNone, sdkStrategy(func() connect.Options {
		return connect.Options{RetryMaxAttempts: 1}
	}))
}

// direct is a caller whose retrying, if any, happens inside the SDK client.
type direct struct{ c *connect.Client }

func (d direct) Do(ctx context.Context, _ string, call func(context.Context, *connect.Client) error) error {
	return call(ctx, d.c)
}

// sdkStrategy is a strategy of plain SDK clients; base sets the retry
// options. The retryer is set in the Options struct: RetryMode set in an
// option function is ignored by connect.New (connect-api.md §6.4).
type sdkRun struct {
	env  Env
	base func() connect.Options
}

func sdkStrategy(base func() connect.Options) StrategyFactory {
	return func(env Env) (Strategy, error) { return sdkRun{env: env, base: base}, nil }
}

func (s sdkRun) Client(client int) (Client, error) {
	o := s.env.ConnectOptions(client)
	b := s.base()
	o.Retryer, o.RetryMaxAttempts = b.Retryer, b.RetryMaxAttempts
	return direct{connect.New(o)}, nil
}

func (sdkRun) Close() error { return nil }

// NoRetryClient returns a connect client with the SDK's retries off, for a
// scenario's ungoverned neighbour.
func NoRetryClient(env Env, client int) *connect.Client {
	o := env.ConnectOptions(client)
	o.RetryMaxAttempts = 1
	return connect.New(o)
}

// seed is the hand-written recipe most integrations start from: SDK retries
// off, and a loop around each call with full jitter, 1 s base, 32 s cap, 8
// attempts (backoff.SeedRecipe), retrying throttles and transient failures.
type seedRun struct {
	env  Env
	opts backoff.Options
}

func newSeed(env Env) (Strategy, error) {
	o := backoff.SeedRecipe()
	o.ThrottleBase = env.Scaled(o.ThrottleBase)
	o.TransientBase = env.Scaled(o.TransientBase)
	o.Cap = env.Scaled(o.Cap)
	return seedRun{env: env, opts: o}, nil
}

func (s seedRun) Client(client int) (Client, error) {
	o := s.env.ConnectOptions(client)
	o.RetryMaxAttempts = 1
	return &seedClient{c: connect.New(o), opts: s.opts, rnd: rand.New(rand.NewPCG(uint64(s.env.Seed), uint64(client)+1))}, nil
}

func (seedRun) Close() error { return nil }

type seedClient struct {
	c    *connect.Client
	opts backoff.Options
	mu   sync.Mutex
	rnd  *rand.Rand
}

func (s *seedClient) uniform() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rnd.Float64()
}

func (s *seedClient) Do(ctx context.Context, op string, call func(context.Context, *connect.Client) error) error {
	var prev time.Duration
	for attempt := 1; ; attempt++ {
		err := call(ctx, s.c)
		if err == nil {
			return nil
		}
		info := awssdk.Classify(op, err)
		if !info.Retryable() || !s.opts.Retry(attempt) {
			return err
		}
		d := s.opts.Delay(attempt, info.Class == awserr.ClassRateThrottle, prev, s.uniform())
		prev = d
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		}
	}
}

// tollgate is what `tollgate serve --adaptive` runs, built by the same
// functions (internal/app: NewAdmission and Admission.NewGovernor). Each
// caller (process) has its own limiter (the operations' buckets inside the
// account's, seeded from the quota table), its own learners and its own
// governor, shared by all of the caller's goroutines; callers do not talk to
// each other. In a fleet the learners are tuned for the fleet's size
// (adaptive.Options.Peers, which a deployment knows: its replica count). The
// governor's backoff is scaled with the run (its base only spaces a retry
// out; the limiter paces it).
type tollgateRun struct {
	env      Env
	mu       sync.Mutex
	adapters map[int]*adaptive.Adapter
}

func newTollgate(env Env) (Strategy, error) {
	return &tollgateRun{env: env, adapters: map[int]*adaptive.Adapter{}}, nil
}

func (t *tollgateRun) Client(client int) (Client, error) {
	var ao adaptive.AdapterOptions
	if t.env.Callers > 1 {
		// A fleet knows its size (its replica count): the learners are
		// tuned for a crowd of that many.
		ao.Learner.Peers = t.env.Callers
	}
	c, a, err := NewTollgateClient(t.env, client, ao)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.adapters[client] = a
	t.mu.Unlock()
	return c, nil
}

func (*tollgateRun) Close() error { return nil }

// NewTollgateClient builds one tollgate caller for env the way serve builds
// its process (app.NewAdmission with limits.adaptive on, then
// Admission.NewGovernor): a ratelimit.Hierarchy seeded from env.Quotas, an
// adaptive.Adapter (primed for env.Ops) as its limiter and observer, a
// governor and a governed connect client. It returns the caller and its
// adapter (to inspect the learners). Strategies in other packages can wrap
// it.
func NewTollgateClient(env Env, client int, ao adaptive.AdapterOptions) (Client, *adaptive.Adapter, error) {
	if ao.RandSeed == 0 {
		ao.RandSeed = uint64(env.Seed)*7919 + uint64(client) + 1
	}
	adm, err := app.NewAdmission(app.AdmissionOptions{
		Limits:  config.Limits{Adaptive: true}, // env.Quotas is already scaled; no headroom
		Table:   env.Quotas,
		Region:  env.Region,
		Adapter: ao,
		Prime:   env.Ops,
	})
	if err != nil {
		return nil, nil, err
	}
	g := adm.NewGovernor(governor.Options{
		Backoff: backoff.Options{
			ThrottleBase:  env.Scaled(backoff.DefaultThrottleBase),
			TransientBase: env.Scaled(backoff.DefaultTransientBase),
			Cap:           env.Scaled(backoff.DefaultCap),
		},
		MaxAttempts: governor.DefaultMaxAttempts,
		MaxElapsed:  -1,
		Rand:        rand.NewPCG(uint64(env.Seed), uint64(client)+101),
	})
	o := env.ConnectOptions(client)
	awssdk.Govern(g)(&o)
	return direct{connect.New(o)}, adm.Adapter, nil
}

// newStrategy builds the named strategy for env.
func newStrategy(name string, env Env) (Strategy, error) {
	f, ok := LookupStrategy(name)
	if !ok {
		return nil, fmt.Errorf("bench: unknown strategy %q (have %v)", name, Strategies())
	}
	return f(env)
}
