package redisx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// ErrClosed is returned by a Limiter's methods after Close.
var ErrClosed = errors.New("redisx: limiter closed")

// Mode says where a Limiter's admission decisions are made.
type Mode int32

const (
	// ModeShared: decisions are made in Redis, shared by every worker.
	ModeShared Mode = iota
	// ModeFallback: Redis is unreachable or slow; decisions are made in
	// local buckets at the shared rate divided by the live workers.
	ModeFallback
)

func (m Mode) String() string {
	switch m {
	case ModeShared:
		return "shared"
	case ModeFallback:
		return "fallback"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Limiter is a ratelimit.Limiter whose buckets live in Redis, shared by
// every process (worker) of an account and Region. See the package
// documentation for the design.
//
// Locking: one mutex, mu, guards the per-operation state, the account
// state and the wait queue. It is never held across a Redis round trip,
// except once per return from fallback mode (the debit, bounded by
// Options.Timeout). Methods whose names end in Locked require mu held.
type Limiter struct {
	o     Options
	rdb   atomic.Pointer[clientRef] // see client
	own   bool                      // the client was dialed by New and is closed by Close
	keys  keyspace
	table *quotas.Table

	mode        atomic.Int32
	workers     atomic.Int64 // live workers, last counted
	stats       counters
	closeOnce   sync.Once
	done        chan struct{} // closed by Close
	kick        chan struct{} // wakes the dispatcher
	probe       chan struct{} // wakes the health loop
	wg          sync.WaitGroup
	modeChanged chan Mode // serializes OnModeChange calls

	mu          sync.Mutex
	closed      bool
	acct        acctState
	ops         map[string]*opState
	q           *ratelimit.WaitQueue[*waiter]
	sharedSince time.Time // when shared mode last began
}

// acctState is the account bucket as this process knows it. Guarded by mu.
type acctState struct {
	base   ratelimit.Limit // as set (zero = unlimited)
	tokens float64         // shared tokens at seenAt
	seenAt time.Time
	fb     ratelimit.Bucket // the fallback bucket, when fbOn
	fbOn   bool
	// blockRank is the rank of the first waiter the account held back in
	// the last dispatch pass (noBlock if none), and retryAt when it may go.
	blockRank int
	retryAt   time.Time
}

// opState is one operation as this process knows it. The operation ""
// stands for requests that draw from the account bucket only. Guarded by
// mu.
type opState struct {
	name string
	def  ratelimit.Limit // configured (Options.Ops or the table)
	base ratelimit.Limit // current limit as set, here or by another worker

	tokens float64 // shared tokens at seenAt
	seenAt time.Time

	leaseTok float64   // leased tokens not yet spent
	leaseExp time.Time // when they expire
	refund   float64   // expired leased tokens to give back on the next round trip
	fetching chan struct{}
	dem      demand

	fb   ratelimit.Bucket // the fallback bucket, when fbOn
	fbOn bool

	pendingLimit *ratelimit.Limit // a SetLimit that did not reach Redis

	blockRank int // see acctState.blockRank
	retryAt   time.Time
	resvUntil time.Time // the slot of this process's latest reservation
}

type counters struct {
	roundTrips, redisErrors, leaseAdmits, localAdmits, sharedAdmits, refusals atomic.Uint64
	fallbacks, recoveries, leasedTokens                                       atomic.Uint64
}

// Stats are counters since New.
type Stats struct {
	RoundTrips   uint64 // admission scripts run in Redis
	RedisErrors  uint64 // commands that failed or timed out
	SharedAdmits uint64 // admissions decided in Redis
	LeaseAdmits  uint64 // admissions served from a local lease
	LocalAdmits  uint64 // admissions decided locally in fallback mode
	Refusals     uint64 // Try refusals (and Wait polls that had to wait)
	LeasedTokens uint64 // tokens leased beyond requests' costs (rounded down)
	Fallbacks    uint64 // switches to fallback mode
	Recoveries   uint64 // returns to shared mode
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// New returns a Limiter for o.Account and o.Region. It validates o, dials
// Redis (unless o.Client is set), records a first heartbeat and starts the
// background heartbeat and dispatcher goroutines; Close stops them. If
// Redis cannot be reached, New still succeeds and the Limiter starts in
// fallback mode.
func New(o Options) (*Limiter, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	l := &Limiter{
		o:           o,
		keys:        newKeyspace(o.KeyPrefix, o.Account, o.Region),
		done:        make(chan struct{}),
		kick:        make(chan struct{}, 1),
		probe:       make(chan struct{}, 1),
		modeChanged: make(chan Mode, 16),
		ops:         make(map[string]*opState),
		q:           ratelimit.NewWaitQueue[*waiter](o.Aging),
	}
	if c := o.Client; c != nil {
		l.rdb.Store(&clientRef{c})
	} else {
		c, err := dial(o)
		if err != nil {
			return nil, err
		}
		l.rdb.Store(&clientRef{c})
		l.own = true
	}
	if o.Table == nil {
		l.table = quotas.Default()
	} else {
		l.table = o.Table.Clone()
	}
	if o.WorkerID == "" {
		l.o.WorkerID = defaultWorkerID()
	}
	l.acct = acctState{base: o.AccountLimit, blockRank: noBlock}
	l.workers.Store(int64(o.AssumedWorkers))
	l.sharedSince = time.Now()

	// First heartbeat: learn the fleet size before the first decision.
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	n, err := l.beat(ctx, l.client())
	cancel()
	if err != nil {
		l.mu.Lock()
		l.enterFallbackLocked(err)
		l.mu.Unlock()
	} else {
		l.workers.Store(n)
	}
	l.wg.Add(3)
	go l.healthLoop()
	go l.dispatchLoop()
	go l.notifyLoop()
	return l, nil
}

func defaultWorkerID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Close stops the background goroutines, fails queued waiters with
// ErrClosed, gives unused leased tokens back, removes this worker from the
// heartbeat set and closes the Redis client if New dialed it.
func (l *Limiter) Close() error {
	var err error
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.failAllLocked(ErrClosed)
		l.mu.Unlock()
		close(l.done)
		l.wg.Wait()
		if l.Mode() == ModeShared {
			ctx, cancel := context.WithTimeout(context.Background(), 4*l.o.Timeout)
			l.returnLeases(ctx)
			_ = l.client().ZRem(ctx, l.keys.workers(), l.o.WorkerID).Err()
			cancel()
		}
		if l.own {
			err = l.client().Close()
		}
	})
	return err
}

// clientRef holds the current Redis client.
type clientRef struct{ c redis.UniversalClient }

// client returns the current Redis client. A client dialed by New is
// replaced when Redis comes back after an outage: go-redis's pool, after
// as many failed dials as its size, re-dials only once a second, which
// would delay the return to shared mode.
func (l *Limiter) client() redis.UniversalClient { return l.rdb.Load().c }

// Mode returns where decisions are made now.
func (l *Limiter) Mode() Mode { return Mode(l.mode.Load()) }

// LiveWorkers returns the number of workers seen in the heartbeat set
// within Options.LiveWindow, as last counted.
func (l *Limiter) LiveWorkers() int { return int(l.workers.Load()) }

// WorkerID returns this worker's name in the heartbeat set.
func (l *Limiter) WorkerID() string { return l.o.WorkerID }

// Stats returns the counters since New.
func (l *Limiter) Stats() Stats {
	s := &l.stats
	return Stats{
		RoundTrips: s.roundTrips.Load(), RedisErrors: s.redisErrors.Load(),
		SharedAdmits: s.sharedAdmits.Load(), LeaseAdmits: s.leaseAdmits.Load(), LocalAdmits: s.localAdmits.Load(),
		Refusals: s.refusals.Load(), LeasedTokens: s.leasedTokens.Load(),
		Fallbacks: s.fallbacks.Load(), Recoveries: s.recoveries.Load(),
	}
}

// configured returns op's limit from Options.Ops or the table.
func (l *Limiter) configured(op string) ratelimit.Limit {
	if lim, ok := l.o.Ops[op]; ok {
		return lim
	}
	a, _ := l.table.API(op)
	return ratelimit.Limit{Rate: a.Rate, Burst: float64(a.Burst)}
}

// opLocked returns op's state, creating it on first use. Requires mu held.
func (l *Limiter) opLocked(op string) *opState {
	if s, ok := l.ops[op]; ok {
		return s
	}
	s := &opState{name: op, blockRank: noBlock}
	if op != "" {
		s.def = l.configured(op)
		s.base = s.def
	}
	l.ops[op] = s
	if l.Mode() == ModeFallback {
		l.initFallbackLocked(s, time.Now())
	}
	return s
}

// Try admits req now or not at all. It is refused while a waiter of this
// process that ranks ahead of it is queued on the same operation or held
// back by the account. The error is non-nil for an invalid cost,
// ErrExceedsBurst, a canceled ctx or ErrClosed; an unreachable Redis is
// not an error (the decision is made locally).
func (l *Limiter) Try(ctx context.Context, req ratelimit.Request) (ratelimit.Decision, error) {
	cost, err := req.Tokens()
	if err != nil {
		return ratelimit.Decision{}, err
	}
	if err := ctx.Err(); err != nil {
		return ratelimit.Decision{}, fmt.Errorf("redisx: try %s: %w", req.Op, err)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ratelimit.Decision{}, ErrClosed
	}
	st := l.opLocked(req.Op)
	if now := time.Now(); l.blockedLocked(st, req.Priority, now) {
		d := ratelimit.Decision{RetryIn: l.estimateLocked(st, cost, req.Priority, now)}
		l.mu.Unlock()
		l.stats.refusals.Add(1)
		return d, nil
	}
	l.mu.Unlock()
	d, err := l.decide(ctx, st, cost)
	if err == nil && !d.OK {
		l.stats.refusals.Add(1)
	}
	return d, err
}

// Wait blocks until req is admitted, ctx ends, or it is clear the wait
// would outlast ctx's deadline (then it returns at once with an error
// wrapping ratelimit.ErrWouldExceedDeadline). Waiters of this process are
// served highest class first, FIFO within a class, with aging; waiters of
// different processes compete through the shared buckets.
func (l *Limiter) Wait(ctx context.Context, req ratelimit.Request) error {
	cost, err := req.Tokens()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisx: wait %s: %w", req.Op, err)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	st := l.opLocked(req.Op)
	now := time.Now()
	blocked := l.blockedLocked(st, req.Priority, now)
	l.mu.Unlock()
	dl, hasDL := ctx.Deadline()
	if !blocked {
		d, err := l.decide(ctx, st, cost)
		if err != nil {
			return err
		}
		if d.OK {
			return nil
		}
		if hasDL && (d.RetryIn == ratelimit.InfDuration || now.Add(d.RetryIn).After(dl)) {
			return fmt.Errorf("redisx: wait %s: needs %v, deadline in %v: %w", req.Op, d.RetryIn, time.Until(dl), ratelimit.ErrWouldExceedDeadline)
		}
	}
	w := &waiter{st: st, cost: cost, prio: req.Priority, ready: make(chan struct{}), deadline: dl, hasDL: hasDL}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if blocked && hasDL {
		if est := l.estimateLocked(st, cost, req.Priority, now); now.Add(est).After(dl) {
			l.mu.Unlock()
			return fmt.Errorf("redisx: wait %s: needs at least %v behind queued waiters, deadline in %v: %w", req.Op, est, time.Until(dl), ratelimit.ErrWouldExceedDeadline)
		}
	}
	l.enqueueLocked(w, time.Now())
	l.mu.Unlock()
	l.wake()

	select {
	case <-w.ready:
		return w.err
	case <-ctx.Done():
	}
	l.mu.Lock()
	switch {
	case w.granted:
		// Admitted as ctx ended: keep the tokens for the next caller.
		l.keepLocked(st, cost, time.Now())
	case w.scheduled && !w.done:
		// A reservation for a slot still to come: give it back.
		w.timer.Stop()
		w.done = true
		l.cancelGrantLocked(st, cost, time.Hour, time.Now())
	case !w.done:
		l.removeLocked(w)
	}
	l.mu.Unlock()
	l.wake()
	if w.err != nil {
		return w.err
	}
	return fmt.Errorf("redisx: wait %s: %w", req.Op, ctx.Err())
}

// SetLimit changes the limit of op ("" for the account bucket) for every
// worker: the new limit is written to Redis (atomically with a refill of
// the bucket at the old limit) and read by every admission script. Tokens
// already earned are kept up to the new burst; a zero Limit means
// unlimited. If Redis is unreachable the change applies locally at once
// and is written when Redis is back; that is not an error. The error is
// ErrClosed after Close, or wraps ctx's error when ctx ended before the
// change was made.
func (l *Limiter) SetLimit(ctx context.Context, op string, lim ratelimit.Limit) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisx: set limit %s: %w", op, err)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	now := time.Now()
	var st *opState
	if op == "" {
		l.acct.base = lim
		if l.acct.fbOn {
			l.acct.fb.SetLimit(now, l.localLimit(lim))
		}
	} else {
		st = l.opLocked(op)
		st.base = lim
		if st.fbOn {
			st.fb.SetLimit(now, l.localLimit(lim))
		}
	}
	shared := l.Mode() == ModeShared
	l.mu.Unlock()
	defer l.wake()
	if !shared {
		l.mu.Lock()
		l.pendLimitLocked(op, lim)
		l.mu.Unlock()
		return nil
	}
	// The write is bounded by Options.Timeout, not by ctx: a limit that
	// has applied locally must reach the fleet (or be kept pending).
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.o.Timeout)
	defer cancel()
	err := l.writeLimit(wctx, op, lim)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.stats.redisErrors.Add(1)
		l.pendLimitLocked(op, lim)
		l.enterFallbackLocked(err)
		return nil
	}
	l.opLocked(op).pendingLimit = nil // superseded
	return nil
}

// pendLimitLocked remembers a limit to write when Redis is back. Requires
// mu held.
func (l *Limiter) pendLimitLocked(op string, lim ratelimit.Limit) {
	st := l.opLocked(op)
	v := lim
	st.pendingLimit = &v
}

// writeLimit runs the setlimit script.
func (l *Limiter) writeLimit(ctx context.Context, op string, lim ratelimit.Limit) error {
	key := l.keys.account()
	var def ratelimit.Limit
	if op == "" {
		def = l.o.AccountLimit
	} else {
		key = l.keys.op(op)
		def = l.configured(op)
	}
	dr, db := limitArgs(def)
	nr, nb := limitArgs(lim)
	return setLimitScript.Run(ctx, l.client(), []string{key, l.keys.limits()},
		op, dr, db, nr, nb, l.o.LimitTTL.Milliseconds()).Err()
}

// Limit returns the current limit of op ("" for the account bucket): the
// last one set here or, as last reported by Redis, by another worker. The
// zero Limit means unlimited.
func (l *Limiter) Limit(op string) ratelimit.Limit {
	l.mu.Lock()
	defer l.mu.Unlock()
	if op == "" {
		return l.acct.base
	}
	return l.opLocked(op).base
}

// unlimited reports whether l means "no limit": the zero Limit or an
// infinite rate.
func unlimited(l ratelimit.Limit) bool {
	return (l.Rate == 0 && l.Burst == 0) || l.Rate >= ratelimit.Inf || math.IsInf(l.Rate, 1)
}

// effRate is the rate of l, -1 when unlimited.
func effRate(l ratelimit.Limit) float64 {
	if unlimited(l) {
		return -1
	}
	return l.Rate
}

// limitArgs renders l as script arguments ("-1" rate for unlimited).
func limitArgs(l ratelimit.Limit) (rate, burst string) {
	if unlimited(l) {
		return "-1", "-1"
	}
	return fmtF(l.Rate), fmtF(l.Burst)
}

func fmtF(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
