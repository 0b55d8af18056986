package adaptive

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// AdapterOptions configures an Adapter. The zero value means: learner
// defaults, seeds read from the wrapped limiter, dithering on, real time, a
// randomly seeded dither, no account learning, learners kept in this
// process (a MemoryStore).
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
	// time.Now is the bubble's clock. Processes sharing a Store must have
	// clocks that agree to a few milliseconds (NTP does).
	Now func() time.Time

	// Store keeps the learners; nil means a new MemoryStore (this process
	// only). A shared Store (redisx.NewLearnerStore) runs one learner per
	// operation for every process of a fleet; wrap the shared limiter
	// (redisx.Limiter) with it, so that the limit the fleet's learner sets
	// applies to the fleet's shared buckets:
	//
	//	rl, _ := redisx.New(redisx.Options{URL: url, Account: acct, Region: region})
	//	a := adaptive.NewAdapter(rl, adaptive.AdapterOptions{Store: redisx.NewLearnerStore(rl)})
	Store Store
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
// The learners live in AdapterOptions.Store; each observation is one
// Store.Update. It is safe for concurrent use. Locking: mu guards the entry
// map, the random source and every entry's view; it is never held across a
// store update or a call into the wrapped limiter. Each entry's upd mutex
// serializes that bucket's store updates with the SetLimit that applies
// their result, so limits reach the wrapped limiter in the order this
// process learned them.
type Adapter struct {
	inner     ratelimit.Limiter
	o         AdapterOptions
	store     Store
	now       func() time.Time
	dither    float64
	storeErrs atomic.Uint64

	mu      sync.Mutex
	entries map[string]*entry // by operation
	account *entry            // nil: the account is not learned
	rnd     *rand.Rand
}

// entry is one learned bucket (an operation, or the account with key "").
type entry struct {
	key  string
	upd  sync.Mutex      // see Adapter
	seed ratelimit.Limit // guarded by Adapter.mu; the zero Limit: not learned
	view view            // guarded by Adapter.mu
}

// view is what dithering needs of a learner, as of its last update.
type view struct {
	rate      float64
	contended bool
	young     time.Time // young before this instant (zero: not seen yet)
	seen      bool
}

func viewOf(l *Learner) view {
	v := view{rate: l.rate, contended: l.Contended(), seen: !l.firstSeen.IsZero()}
	if v.seen {
		v.young = l.firstSeen.Add(time.Duration(coldSeedCalls / l.seed.Rate * float64(time.Second)))
	}
	return v
}

var (
	_ ratelimit.Limiter = (*Adapter)(nil)
	_ governor.Observer = (*Adapter)(nil)
)

// NewAdapter returns an Adapter around inner. With AdapterOptions.Account
// set it primes the account's learner at once (see Prime).
func NewAdapter(inner ratelimit.Limiter, o AdapterOptions) *Adapter {
	a := &Adapter{inner: inner, o: o, store: o.Store, now: o.Now, dither: o.Dither, entries: map[string]*entry{}}
	if a.store == nil {
		a.store = NewMemoryStore()
	}
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
	if o.Account.Rate > 0 && !o.Account.Unlimited() {
		a.account = &entry{key: "", seed: o.Account}
		a.prime(context.Background(), a.account)
	}
	return a
}

// Inner returns the wrapped limiter.
func (a *Adapter) Inner() ratelimit.Limiter { return a.inner }

// Store returns the store that keeps the learners.
func (a *Adapter) Store() Store { return a.store }

// StoreErrors returns how many store updates have failed since NewAdapter.
// An observation whose update failed is lost; admission goes on at the
// limits last set.
func (a *Adapter) StoreErrors() uint64 { return a.storeErrs.Load() }

// Prime creates the learners of ops now and sets their limits on the
// wrapped limiter (a new learner's cold limit, or the learned limit a
// shared store already holds), before any call. Operations are otherwise
// primed at their first admission.
func (a *Adapter) Prime(ops ...string) {
	for _, op := range ops {
		a.entryFor(op)
	}
}

// entryFor returns op's entry, creating and priming it on first use; nil
// for op "" when the account is not learned. An entry whose seed is the
// zero Limit is not learned.
func (a *Adapter) entryFor(op string) *entry {
	a.mu.Lock()
	if op == "" {
		e := a.account
		a.mu.Unlock()
		return e
	}
	if e, ok := a.entries[op]; ok {
		a.mu.Unlock()
		return e
	}
	e := &entry{key: op}
	a.entries[op] = e
	// Prime under e.upd, taken before mu is released, so that nobody
	// updates e before its seed is known and its limit set.
	e.upd.Lock()
	a.mu.Unlock()
	defer e.upd.Unlock()
	var seed ratelimit.Limit
	if a.o.Seed != nil {
		seed = a.o.Seed(op)
	} else {
		seed = a.inner.Limit(op)
	}
	if !(seed.Rate > 0) || seed.Unlimited() {
		return e
	}
	a.mu.Lock()
	e.seed = seed
	a.mu.Unlock()
	a.primeLocked(context.Background(), e, seed)
	return e
}

// prime takes e.upd and primes e.
func (a *Adapter) prime(ctx context.Context, e *entry) {
	e.upd.Lock()
	defer e.upd.Unlock()
	a.mu.Lock()
	seed := e.seed
	a.mu.Unlock()
	a.primeLocked(ctx, e, seed)
}

// primeLocked creates e's learner in the store unless it is there, and sets
// its limit on the wrapped limiter. Requires e.upd held.
func (a *Adapter) primeLocked(ctx context.Context, e *entry, seed ratelimit.Limit) {
	now := a.now()
	var lim ratelimit.Limit
	var v view
	err := a.store.Update(ctx, e.key, func(cur *Learner) (*Learner, bool) {
		if cur != nil {
			lim, v = cur.Limit(now), viewOf(cur)
			return cur, false
		}
		n := NewLearner(seed, a.o.Learner)
		lim, v = n.Limit(now), viewOf(n)
		return n, true
	})
	if err != nil {
		a.storeErrs.Add(1)
		return
	}
	a.setView(e, v)
	_ = a.inner.SetLimit(ctx, e.key, lim)
}

func (a *Adapter) setView(e *entry, v view) {
	a.mu.Lock()
	e.view = v
	a.mu.Unlock()
}

// learned reports whether e has a learner. Requires mu held.
func (e *entry) learned() bool { return e != nil && e.seed.Rate > 0 }

// Try admits req now or not at all (no dithering).
func (a *Adapter) Try(ctx context.Context, req ratelimit.Request) (ratelimit.Decision, error) {
	a.entryFor(req.Op)
	return a.inner.Try(ctx, req)
}

// Wait waits in the wrapped limiter, then, if the operation is contended,
// sleeps the dither.
func (a *Adapter) Wait(ctx context.Context, req ratelimit.Request) error {
	e := a.entryFor(req.Op)
	if err := a.inner.Wait(ctx, req); err != nil {
		return err
	}
	d := a.ditherFor(e)
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

// ditherFor returns the random delay for a send on e, 0 if e is not
// contended.
func (a *Adapter) ditherFor(e *entry) time.Duration {
	if a.dither == 0 || e == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	v := e.view
	if !e.learned() || !(v.contended || !v.seen || a.now().Before(v.young)) {
		return 0
	}
	if v.rate <= 0 {
		return 0
	}
	return time.Duration(a.rnd.Float64() * a.dither / v.rate * float64(time.Second))
}

// SetLimit sets op's limit on the wrapped limiter and re-seeds op's learner
// with it (a quota synced from Service Quotas, an operator's override): the
// stored learner is replaced, for every process sharing the store. The
// zero Limit (unlimited) stops learning op in this process and deletes the
// stored learner. The error is the wrapped limiter's, or the store's.
func (a *Adapter) SetLimit(ctx context.Context, op string, l ratelimit.Limit) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("adaptive: set limit %s: %w", op, err)
	}
	learn := l.Rate > 0 && !l.Unlimited()
	a.mu.Lock()
	var e *entry
	if op == "" {
		if a.account == nil && learn {
			a.account = &entry{key: ""}
		}
		e = a.account
	} else {
		e = a.entries[op]
		if e == nil {
			e = &entry{key: op}
			a.entries[op] = e
		}
	}
	a.mu.Unlock()
	if e == nil {
		return a.inner.SetLimit(ctx, op, l)
	}
	e.upd.Lock()
	defer e.upd.Unlock()
	var v view
	err := a.store.Update(ctx, op, func(*Learner) (*Learner, bool) {
		if !learn {
			return nil, true
		}
		n := NewLearner(l, a.o.Learner)
		v = viewOf(n)
		return n, true
	})
	a.mu.Lock()
	if learn {
		e.seed, e.view = l, v
	} else {
		e.seed, e.view = ratelimit.Limit{}, view{}
	}
	a.mu.Unlock()
	if err != nil {
		a.storeErrs.Add(1)
	}
	return errors.Join(a.inner.SetLimit(ctx, op, l), err)
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

// Snapshot returns the state of op's learner ("" for the account) as the
// store holds it, ok false if op is not learned or the store cannot be
// read.
func (a *Adapter) Snapshot(op string) (Snapshot, bool) {
	a.mu.Lock()
	e := a.entries[op]
	if op == "" {
		e = a.account
	}
	ok := e.learned()
	a.mu.Unlock()
	if !ok {
		return Snapshot{}, false
	}
	now := a.now()
	var s Snapshot
	err := a.store.Update(context.Background(), op, func(cur *Learner) (*Learner, bool) {
		if cur != nil {
			s = Snapshot{Op: op, Seed: cur.Seed(), Limit: cur.Limit(now), Ceiling: cur.Ceiling(), Knee: cur.Knee()}
		}
		return cur, false
	})
	return s, err == nil && s.Seed.Rate > 0
}

// ObserveAttempt feeds one attempt to its operation's learner and applies a
// changed limit. With account learning, a throttle on an operation that
// was not using its own limit counts against the account instead, and
// every accepted attempt feeds the account too.
func (a *Adapter) ObserveAttempt(at governor.Attempt) {
	sig := SignalOf(at)
	if sig.Kind == Ignored {
		return
	}
	now := a.now()
	e := a.entryFor(at.Op)
	a.mu.Lock()
	acct := a.account
	opLearned, acctLearned := e.learned(), acct.learned()
	a.mu.Unlock()
	toAccount := acctLearned
	if opLearned {
		var saturated bool
		a.observe(e, func(l *Learner) bool {
			saturated = l.Saturated(now)
			if acctLearned && sig.Kind == Throttled && !saturated {
				return false
			}
			return true
		}, now, sig)
		if sig.Kind == Throttled && saturated {
			// The operation was using its own limit: its bucket is the
			// likely empty one.
			toAccount = false
		}
	}
	if toAccount {
		a.observe(acct, nil, now, sig)
	}
}

// observe feeds sig to e's learner when gate (nil: always) lets it, and
// applies a changed limit to the wrapped limiter.
func (a *Adapter) observe(e *entry, gate func(*Learner) bool, now time.Time, sig Signal) {
	e.upd.Lock()
	defer e.upd.Unlock()
	a.mu.Lock()
	seed := e.seed
	a.mu.Unlock()
	if seed.Rate <= 0 {
		return // stopped learning meanwhile
	}
	var changed bool
	var lim ratelimit.Limit
	var v view
	ctx := context.Background()
	err := a.store.Update(ctx, e.key, func(cur *Learner) (*Learner, bool) {
		changed = false
		if cur == nil {
			// Deleted or expired in the store: start again from the seed.
			cur = NewLearner(seed, a.o.Learner)
			changed = true
		}
		if gate != nil && !gate(cur) {
			v = viewOf(cur)
			lim = cur.Limit(now)
			return cur, changed
		}
		if cur.Observe(now, sig) {
			changed = true
		}
		lim, v = cur.Limit(now), viewOf(cur)
		return cur, true
	})
	if err != nil {
		a.storeErrs.Add(1)
		return
	}
	a.setView(e, v)
	// Apply the limit when it changed, and also whenever the wrapped
	// limiter holds another one: with a shared store, processes set the
	// limits they learned in no particular order, and a stale one (a
	// process that set it late, or flushed it on leaving fallback mode)
	// would otherwise stand while the learner holds steady.
	if changed || a.inner.Limit(e.key) != lim {
		_ = a.inner.SetLimit(ctx, e.key, lim)
	}
}

// ObserveOutcome does nothing: every attempt was already observed.
func (a *Adapter) ObserveOutcome(governor.Outcome) {}

// SignalOf maps a governed attempt to what it tells a learner: success and
// every answer but a rate throttle took a token (Accepted); a rate throttle
// is Throttled; a canceled attempt or one without an HTTP answer (connection
// refused, reset before a status) is Ignored.
func SignalOf(at governor.Attempt) Signal {
	o := Signal{Sent: at.Start}
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
