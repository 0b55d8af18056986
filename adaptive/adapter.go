package adaptive

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// AdapterOptions configures an Adapter. The zero value means: learner
// defaults, seeds read from the wrapped limiter, dithering on, real time, a
// randomly seeded dither, no account learning.
type AdapterOptions struct {
	// Learner tunes every learner.
	Learner Options

	// Seed returns the published limit of op, the learner's starting
	// point. nil means the wrapped limiter's limit for op at first use (the
	// quota table it was built from). An op whose seed is the zero Limit
	// (unlimited) is not learned.
	Seed func(op string) ratelimit.Limit

	// Account, when its Rate is positive, also learns an account-wide
	// limit (the wrapped limiter's "" bucket) seeded with it. See the
	// package documentation for how throttles are attributed to it.
	Account ratelimit.Limit

	// Dither spreads the sends of a contended operation: after admission,
	// Wait sleeps a uniform random fraction, up to Dither, of one interval
	// (1/rate). 0 means 1 (a full interval); negative turns it off. Paced
	// clients that share a bucket otherwise lock into phase, and the
	// throttles then land on whoever happens to be late instead of on
	// each client in proportion to its rate, which is what lets a crowd of
	// learners converge to fair shares; a client paced at exactly the
	// quota can even lock every other caller out without ever being
	// throttled itself. An operation is dithered while its learner is
	// young (the first 100 seed-rate calls' time, when a crowd starts) or
	// contended (throttled and under its ceiling), so that a lone client
	// settled at the quota is paced exactly.
	Dither float64

	// RandSeed seeds the dither (0 means a random seed).
	RandSeed uint64

	// Now is the clock; nil means time.Now. In a testing/synctest bubble,
	// time.Now is the bubble's clock.
	Now func() time.Time
}

// Adapter couples learners to a limiter. It is a ratelimit.Limiter (it wraps
// another Limiter, primes new operations with a cold limit and dithers the
// sends of contended operations) and a governor.Observer (every attempt feeds
// the operation's learner, and a changed limit is set on the wrapped
// limiter). Use the same value as both the governor's limiter and its
// observer:
//
//	a := adaptive.NewAdapter(ratelimit.NewHierarchy(ratelimit.HierarchyOptions{}), adaptive.AdapterOptions{})
//	g := governor.New(a, governor.Options{Observer: a})
//
// It is safe for concurrent use. Locking: mu guards the learner map, every
// learner and the random source; it is held while the wrapped limiter's
// SetLimit runs (so limits are applied in the order they were learned) and
// never while waiting.
type Adapter struct {
	inner  ratelimit.Limiter
	o      AdapterOptions
	now    func() time.Time
	dither float64

	mu       sync.Mutex
	learners map[string]*Learner // nil value: op not learned (unlimited)
	account  *Learner
	rnd      *rand.Rand
}

var (
	_ ratelimit.Limiter = (*Adapter)(nil)
	_ governor.Observer = (*Adapter)(nil)
)

// NewAdapter returns an Adapter around inner.
func NewAdapter(inner ratelimit.Limiter, o AdapterOptions) *Adapter {
	a := &Adapter{inner: inner, o: o, now: o.Now, dither: o.Dither, learners: map[string]*Learner{}}
	if a.now == nil {
		a.now = time.Now
	}
	switch {
	case a.dither == 0:
		a.dither = 1
	case a.dither < 0:
		a.dither = 0
	}
	seed := o.RandSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	a.rnd = rand.New(rand.NewPCG(seed, 0x7011))
	if o.Account.Rate > 0 {
		a.account = NewLearner(o.Account, o.Learner)
		inner.SetLimit("", a.account.Limit(a.now()))
	}
	return a
}

// Inner returns the wrapped limiter.
func (a *Adapter) Inner() ratelimit.Limiter { return a.inner }

// Prime creates the learners of ops now and sets their cold limits on the
// wrapped limiter, before any call. Operations are otherwise primed at their
// first admission.
func (a *Adapter) Prime(ops ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, op := range ops {
		a.learnerLocked(op)
	}
}

// learnerLocked returns op's learner, creating and priming it on first use;
// nil if op is not learned. Requires mu held.
func (a *Adapter) learnerLocked(op string) *Learner {
	if op == "" {
		return a.account
	}
	l, seen := a.learners[op]
	if seen {
		return l
	}
	var seed ratelimit.Limit
	if a.o.Seed != nil {
		seed = a.o.Seed(op)
	} else {
		seed = a.inner.Limit(op)
	}
	if seed.Rate > 0 && !seed.Unlimited() {
		l = NewLearner(seed, a.o.Learner)
		a.inner.SetLimit(op, l.Limit(a.now()))
	}
	a.learners[op] = l
	return l
}

// Try admits req now or not at all (no dithering).
func (a *Adapter) Try(ctx context.Context, req ratelimit.Request) (ratelimit.Decision, error) {
	a.mu.Lock()
	a.learnerLocked(req.Op)
	a.mu.Unlock()
	return a.inner.Try(ctx, req)
}

// Wait waits in the wrapped limiter, then, if the operation is contended,
// sleeps the dither.
func (a *Adapter) Wait(ctx context.Context, req ratelimit.Request) error {
	a.mu.Lock()
	a.learnerLocked(req.Op)
	a.mu.Unlock()
	if err := a.inner.Wait(ctx, req); err != nil {
		return err
	}
	d := a.ditherFor(req.Op)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		// The token is spent; the caller gives up anyway.
		return ctx.Err()
	}
}

// ditherFor returns the random delay for a send of op, 0 if op is not
// contended.
func (a *Adapter) ditherFor(op string) time.Duration {
	if a.dither == 0 {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.learners[op]
	if l == nil || !(l.Contended() || l.Young(a.now())) {
		return 0
	}
	r := l.Rate(a.now())
	if r <= 0 {
		return 0
	}
	return time.Duration(a.rnd.Float64() * a.dither / r * float64(time.Second))
}

// SetLimit sets op's limit on the wrapped limiter and re-seeds op's learner
// with it (a quota synced from Service Quotas, an operator's override). The
// zero Limit (unlimited) stops learning op.
func (a *Adapter) SetLimit(op string, l ratelimit.Limit) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if op == "" {
		a.account = nil
		if l.Rate > 0 && !l.Unlimited() {
			a.account = NewLearner(l, a.o.Learner)
		}
	} else if l.Rate > 0 && !l.Unlimited() {
		a.learners[op] = NewLearner(l, a.o.Learner)
	} else {
		a.learners[op] = nil
	}
	a.inner.SetLimit(op, l)
}

// Limit returns op's current limit on the wrapped limiter.
func (a *Adapter) Limit(op string) ratelimit.Limit { return a.inner.Limit(op) }

// Snapshot is the state of one learner.
type Snapshot struct {
	Op      string
	Seed    ratelimit.Limit
	Limit   ratelimit.Limit
	Ceiling float64
	Knee    float64
}

// Snapshot returns the state of op's learner ("" for the account), ok false
// if op is not learned.
func (a *Adapter) Snapshot(op string) (Snapshot, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.learners[op]
	if op == "" {
		l = a.account
	}
	if l == nil {
		return Snapshot{}, false
	}
	return Snapshot{Op: op, Seed: l.Seed(), Limit: l.Limit(a.now()), Ceiling: l.Ceiling(), Knee: l.Knee()}, true
}

// ObserveAttempt feeds one attempt to its operation's learner and applies a
// changed limit.
func (a *Adapter) ObserveAttempt(at governor.Attempt) {
	out := OutcomeOf(at)
	if out.Kind == Ignored {
		return
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.learnerLocked(at.Op)
	acct := a.account
	if acct != nil && out.Kind == Throttled && (l == nil || !l.Saturated(now)) {
		// The operation was not using its own limit, so its own bucket
		// is unlikely to be the empty one: count it against the account.
		if acct.Observe(now, out) {
			a.inner.SetLimit("", acct.Limit(now))
		}
		return
	}
	if acct != nil && out.Kind == Accepted && acct.Observe(now, out) {
		a.inner.SetLimit("", acct.Limit(now))
	}
	if l != nil && l.Observe(now, out) {
		a.inner.SetLimit(at.Op, l.Limit(now))
	}
}

// ObserveOutcome does nothing: every attempt was already observed.
func (a *Adapter) ObserveOutcome(governor.Outcome) {}

// OutcomeOf maps a governed attempt to what it tells a learner: success and
// every answer but a rate throttle took a token (Accepted); a rate throttle
// is Throttled; a canceled attempt or one without an HTTP answer (connection
// refused, reset before a status) is Ignored.
func OutcomeOf(at governor.Attempt) Outcome {
	o := Outcome{Sent: at.Start}
	switch {
	case at.Err == nil:
		o.Kind = Accepted
	case at.Info.Class == awserr.ClassRateThrottle:
		o.Kind = Throttled
		o.RetryAfter = at.Info.RetryAfter
	case at.Info.Class == awserr.ClassCanceled, at.Info.Status == 0:
		o.Kind = Ignored
	default:
		o.Kind = Accepted
	}
	return o
}
