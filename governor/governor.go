package governor

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/backoff"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultMaxAttempts      = 8
	DefaultMaxElapsed       = 2 * time.Minute
	DefaultConcurrencyDelay = 30 * time.Second
)

// Options configures a Governor. The zero value means every default.
type Options struct {
	// MaxAttempts caps the calls made for one Do, the first included.
	// 0 means Backoff.MaxAttempts if that is set, else DefaultMaxAttempts.
	// A negative value (here or in Backoff) means no cap: MaxElapsed and
	// the context's deadline still bound the call.
	MaxAttempts int

	// MaxElapsed caps the time of one Do: no admission wait or backoff is
	// started that would end later than MaxElapsed after Do began. 0 means
	// DefaultMaxElapsed; a negative value means no cap besides the
	// context's deadline.
	MaxElapsed time.Duration

	// Backoff computes the delay before a retry. Its zero value is full
	// jitter with a 1 s base for throttles, 50 ms for transient failures and
	// a 20 s cap.
	Backoff backoff.Options

	// ConcurrencyDelay is the least delay suggested (QuotaError.RetryAfter)
	// when a concurrency quota is full. 0 means DefaultConcurrencyDelay.
	ConcurrencyDelay time.Duration

	// Rand is the source of jitter. nil means the randomly seeded source of
	// math/rand/v2. Give a seeded source (rand.NewPCG(1, 2)) for
	// reproducible runs. It need not be safe for concurrent use.
	Rand rand.Source

	// Observer sees every attempt and outcome. nil means none.
	Observer Observer

	// Classify classifies a failed call. nil means awserr.Classify.
	Classify func(op string, err error) awserr.Info
}

// CallOptions are per-call settings. The zero value means a normal-priority
// call costing one token with the governor's attempt cap.
type CallOptions struct {
	Priority    ratelimit.Priority // class on the shared budget
	Cost        float64            // tokens per attempt; 0 means 1
	MaxAttempts int                // overrides the governor's cap when not 0 (negative: no cap)
}

// Governor runs calls through admission, classification and retry. It is
// safe for concurrent use.
type Governor struct {
	limiter     ratelimit.Limiter
	opts        Options
	maxAttempts int
	classify    func(op string, err error) awserr.Info

	mu  sync.Mutex // guards rnd
	rnd *rand.Rand // nil: use the global source
}

// New returns a Governor admitting calls through l.
func New(l ratelimit.Limiter, o Options) *Governor {
	g := &Governor{limiter: l, opts: o, classify: o.Classify}
	g.maxAttempts = o.MaxAttempts
	if g.maxAttempts == 0 {
		g.maxAttempts = o.Backoff.MaxAttempts
	}
	if g.maxAttempts == 0 {
		g.maxAttempts = DefaultMaxAttempts
	}
	if g.opts.MaxElapsed == 0 {
		g.opts.MaxElapsed = DefaultMaxElapsed
	}
	if g.opts.ConcurrencyDelay <= 0 {
		g.opts.ConcurrencyDelay = DefaultConcurrencyDelay
	}
	if g.classify == nil {
		g.classify = awserr.Classify
	}
	if o.Rand != nil {
		g.rnd = rand.New(o.Rand)
	}
	return g
}

// Limiter returns the limiter the governor admits through.
func (g *Governor) Limiter() ratelimit.Limiter { return g.limiter }

// MaxAttempts returns the governor's attempt cap; negative means none.
func (g *Governor) MaxAttempts() int { return g.maxAttempts }

// Do calls fn for operation op under the governor's policy (see the package
// documentation): admit, call, classify, then back off and retry, or fail.
// It returns nil, fn's classified error (*awserr.Error or
// *awserr.QuotaError), or an *Error saying why retrying stopped.
func (g *Governor) Do(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	return g.DoWith(ctx, op, CallOptions{}, fn)
}

// DoWith is Do with per-call options.
func (g *Governor) DoWith(ctx context.Context, op string, co CallOptions, fn func(ctx context.Context) error) error {
	r := g.Start(op, co)
	for {
		if err := r.Admit(ctx); err != nil {
			return r.Finish(ctx, err)
		}
		s := r.Settle(ctx, fn(ctx))
		if !s.Retry {
			return r.Finish(ctx, s.Err)
		}
		if err := r.Backoff(ctx, s.Delay); err != nil {
			return r.Finish(ctx, err)
		}
	}
}

// uniform returns a uniform random number in [0, 1).
func (g *Governor) uniform() float64 {
	if g.rnd == nil {
		return rand.Float64()
	}
	g.mu.Lock()
	u := g.rnd.Float64()
	g.mu.Unlock()
	return u
}
