package redisx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// epsilon absorbs float rounding in token comparisons.
const epsilon = 1e-9

// decide admits cost tokens of st now or says when to retry. In order: a
// valid local lease serves it; in fallback mode the local buckets decide;
// otherwise one admission script runs in Redis (taking a lease for a busy
// operation). A Redis failure switches to fallback mode and the local
// buckets decide; only a canceled ctx, ErrExceedsBurst and ErrClosed are
// errors.
func (l *Limiter) decide(ctx context.Context, st *opState, cost float64) (ratelimit.Decision, error) {
	v, err := l.admit(ctx, st, cost, -1)
	return ratelimit.Decision{OK: v.ok, RetryIn: v.retryIn}, err
}

// Blockers: which bucket refused an admission.
const (
	blockOp      = 1
	blockAccount = 2
)

// verdict is the outcome of admit.
type verdict struct {
	ok      bool
	wait    time.Duration // when ok: a reservation, act after wait (0: now)
	retryIn time.Duration // when not ok: the earliest the request could go
	blocker int           // when not ok: blockOp|blockAccount
}

// admit is decide, with reservations: when maxWait >= 0 and the shared
// buckets lack the tokens but will have them within maxWait, they are
// reserved (the buckets go negative, queueing later callers behind this
// one across the fleet) and the verdict says how long to wait before
// acting. In fallback mode there are no reservations.
func (l *Limiter) admit(ctx context.Context, st *opState, cost float64, maxWait time.Duration) (verdict, error) {
	l.mu.Lock()
	var now time.Time
	for {
		if l.closed {
			l.mu.Unlock()
			return verdict{}, ErrClosed
		}
		now = time.Now()
		if l.leaseTakeLocked(st, cost, now) {
			l.mu.Unlock()
			l.stats.leaseAdmits.Add(1)
			return verdict{ok: true}, nil
		}
		if l.Mode() == ModeFallback {
			v, err := l.localLocked(st, cost, now)
			l.mu.Unlock()
			return v, err
		}
		if st.fetching == nil {
			break
		}
		// Another goroutine is fetching a lease for this operation: its
		// tokens may serve this request too.
		ch := st.fetching
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return verdict{}, fmt.Errorf("redisx: %s: %w", st.name, ctx.Err())
		}
		l.mu.Lock()
	}
	want := cost + l.leaseExtraLocked(st, cost, now)
	refund := st.refund
	st.refund = 0
	var fetching chan struct{}
	if want > cost {
		fetching = make(chan struct{})
		st.fetching = fetching
	}
	mw := "-1"
	if maxWait >= 0 {
		mw = fmtF(maxWait.Seconds())
	}
	ar, ab := limitArgs(l.acct.base)
	or, ob := limitArgs(st.base)
	l.mu.Unlock()

	rctx, cancel := context.WithTimeout(ctx, l.o.Timeout)
	res, err := admitScript.Run(rctx, l.client(), []string{l.keys.account(), l.keys.op(st.name), l.keys.limits()},
		st.name, fmtF(cost), fmtF(want), ar, ab, or, ob, fmtF(refund), mw).Slice()
	cancel()
	l.stats.roundTrips.Add(1)
	var rep admitReply
	if err == nil {
		rep, err = parseAdmit(res)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if fetching != nil {
		close(fetching)
		st.fetching = nil
	}
	if err != nil {
		if callerDone(ctx) {
			return verdict{}, fmt.Errorf("redisx: %s: %w", st.name, callerErr(ctx))
		}
		l.stats.redisErrors.Add(1)
		l.enterFallbackLocked(err)
		if l.closed {
			return verdict{}, ErrClosed
		}
		return l.localLocked(st, cost, time.Now())
	}
	l.absorbLocked(st, rep, now)
	switch rep.exceeds {
	case 1:
		return verdict{}, fmt.Errorf("redisx: %s: cost %v > burst %v: %w", st.name, cost, rep.opBurst, ratelimit.ErrExceedsBurst)
	case 2:
		return verdict{}, fmt.Errorf("redisx: account: cost %v > burst %v: %w", cost, rep.acctBurst, ratelimit.ErrExceedsBurst)
	}
	if !rep.ok {
		retry := ratelimit.InfDuration
		if rep.retry >= 0 {
			retry = seconds(rep.retry)
		}
		return verdict{retryIn: retry, blocker: int(rep.blocker)}, nil
	}
	l.stats.sharedAdmits.Add(1)
	st.dem.add(now, cost)
	if rep.retry > 0 {
		return verdict{ok: true, wait: seconds(rep.retry)}, nil // a reservation
	}
	if extra := rep.granted - cost; extra > epsilon {
		l.stats.leasedTokens.Add(uint64(extra))
		if st.leaseTok <= 0 || now.After(st.leaseExp) {
			st.refund += math.Max(st.leaseTok, 0)
			st.leaseTok = 0
		}
		st.leaseTok += extra
		st.leaseExp = now.Add(l.leaseTTLLocked(st))
	}
	return verdict{ok: true}, nil
}

// leaseTakeLocked serves cost from st's lease if it is valid and holds
// enough. An expired lease's tokens are queued for refund. Requires mu held.
func (l *Limiter) leaseTakeLocked(st *opState, cost float64, now time.Time) bool {
	if st.leaseTok <= 0 {
		return false
	}
	if !now.Before(st.leaseExp) {
		st.refund += st.leaseTok
		st.leaseTok = 0
		return false
	}
	if st.leaseTok+epsilon < cost {
		return false
	}
	st.leaseTok -= cost
	st.dem.add(now, cost)
	return true
}

// keepLocked puts tokens already taken from the shared buckets (a grant
// whose caller gave up) into st's lease, for the next caller. Requires mu
// held.
func (l *Limiter) keepLocked(st *opState, cost float64, now time.Time) {
	if st.fbOn {
		st.fb.ReturnN(now, cost)
		if l.acct.fbOn {
			l.acct.fb.ReturnN(now, cost)
		}
		return
	}
	if st.leaseTok <= 0 || !now.Before(st.leaseExp) {
		st.refund += math.Max(st.leaseTok, 0)
		st.leaseTok = 0
		st.leaseExp = now.Add(l.leaseTTLLocked(st))
	}
	st.leaseTok += cost
}

// leaseTTLLocked is how long leased tokens of st may be held: at most
// Lease.TTL, and at most the time the buckets take to earn half their
// burst, so the fleet's overshoot stays under half a burst. Requires mu
// held.
func (l *Limiter) leaseTTLLocked(st *opState) time.Duration {
	ttl := l.o.Lease.TTL
	for _, b := range [...]struct{ rate, burst float64 }{
		{effRate(st.base), st.base.Burst},
		{effRate(l.acct.base), l.acct.base.Burst},
	} {
		if b.rate > 0 {
			if d := time.Duration(0.5 * b.burst / b.rate * float64(time.Second)); d < ttl {
				ttl = d
			}
		}
	}
	return ttl
}

// leaseExtraLocked is how many tokens beyond cost to lease for st: the
// local demand over the lease TTL, at most Lease.Max and half the smaller
// burst; 0 (no lease) when that is under one token. Requires mu held.
func (l *Limiter) leaseExtraLocked(st *opState, cost float64, now time.Time) float64 {
	if l.o.Lease.Disabled {
		return 0
	}
	ttl := l.leaseTTLLocked(st)
	extra := st.dem.rate(now)*ttl.Seconds() - cost
	extra = math.Min(extra, l.o.Lease.Max)
	for _, lim := range [...]ratelimit.Limit{st.base, l.acct.base} {
		if !unlimited(lim) {
			extra = math.Min(extra, 0.5*lim.Burst-cost)
		}
	}
	if extra < 1 {
		return 0
	}
	return math.Floor(extra)
}

// returnLeases gives every unused leased token back to Redis (on Close).
func (l *Limiter) returnLeases(ctx context.Context) {
	l.mu.Lock()
	now := time.Now()
	var deltas []adjustment
	for _, st := range l.ops {
		n := st.refund
		if now.Before(st.leaseExp) {
			n += st.leaseTok
		}
		st.leaseTok, st.refund = 0, 0
		if n > 0 {
			deltas = append(deltas, l.refundAdjustmentsLocked(st, n)...)
		}
	}
	l.mu.Unlock()
	if len(deltas) > 0 {
		_ = l.adjust(ctx, deltas)
	}
}

// refundAdjustmentsLocked gives n tokens back to st's bucket and the
// account's. Requires mu held.
func (l *Limiter) refundAdjustmentsLocked(st *opState, n float64) []adjustment {
	out := []adjustment{{key: l.keys.account(), field: "", def: l.acct.base, delta: n}}
	if st.name != "" {
		out = append(out, adjustment{key: l.keys.op(st.name), field: st.name, def: st.def, delta: n})
	}
	return out
}

// absorbLocked records what an admission reply says about the shared
// state: limits set by other workers, the effective rate, tokens left.
// Requires mu held.
func (l *Limiter) absorbLocked(st *opState, rep admitReply, now time.Time) {
	if st.name != "" {
		if !sameLimit(st.base, rep.opRate, rep.opBurst) && st.pendingLimit == nil {
			st.base = replyLimit(rep.opRate, rep.opBurst)
		}
		st.tokens, st.seenAt = rep.opTokens, now
	}
	acct := l.opLocked("")
	if !sameLimit(l.acct.base, rep.acctRate, rep.acctBurst) && acct.pendingLimit == nil {
		l.acct.base = replyLimit(rep.acctRate, rep.acctBurst)
	}
	l.acct.tokens, l.acct.seenAt = rep.acctTokens, now
}

// sameLimit reports whether lim is what Redis reported (rate < 0:
// unlimited).
func sameLimit(lim ratelimit.Limit, rate, burst float64) bool {
	if rate < 0 {
		return unlimited(lim)
	}
	return !unlimited(lim) && lim.Rate == rate && lim.Burst == burst
}

func replyLimit(rate, burst float64) ratelimit.Limit {
	if rate < 0 {
		return ratelimit.Limit{}
	}
	return ratelimit.Limit{Rate: rate, Burst: burst}
}

// admitReply is the admission script's answer.
type admitReply struct {
	ok                              bool
	granted, retry                  float64
	blocker, exceeds                int64
	opRate, opBurst, opTokens       float64
	acctRate, acctBurst, acctTokens float64
}

var errReply = errors.New("redisx: unexpected script reply")

func parseAdmit(v []any) (admitReply, error) {
	if len(v) != 11 {
		return admitReply{}, fmt.Errorf("%w: %d elements", errReply, len(v))
	}
	var r admitReply
	var p replyParser
	r.ok = p.int(v[0]) == 1
	r.granted = p.float(v[1])
	r.retry = p.float(v[2])
	r.blocker = p.int(v[3])
	r.exceeds = p.int(v[4])
	r.opRate, r.opBurst, r.opTokens = p.float(v[5]), p.float(v[6]), p.float(v[7])
	r.acctRate, r.acctBurst, r.acctTokens = p.float(v[8]), p.float(v[9]), p.float(v[10])
	return r, p.err
}

// replyParser converts script reply elements, remembering the first error.
type replyParser struct{ err error }

func (p *replyParser) float(v any) float64 {
	switch x := v.(type) {
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil && p.err == nil {
			p.err = fmt.Errorf("%w: %q", errReply, x)
		}
		return f
	case int64:
		return float64(x)
	}
	if p.err == nil {
		p.err = fmt.Errorf("%w: %T", errReply, v)
	}
	return 0
}

func (p *replyParser) int(v any) int64 {
	if x, ok := v.(int64); ok {
		return x
	}
	return int64(p.float(v))
}

// seconds converts a script's seconds to a Duration, rounded up.
func seconds(s float64) time.Duration { return ratelimit.DurationFor(s, 1) }

// demand is an exponentially decaying count of admitted tokens (time
// constant demandTau): its rate estimates the local demand of an operation.
type demand struct {
	v float64
	t time.Time
}

const demandTau = 0.5 // seconds

func (d *demand) decay(now time.Time) {
	if !d.t.IsZero() {
		if dt := now.Sub(d.t).Seconds(); dt > 0 {
			d.v *= math.Exp(-dt / demandTau)
		}
	}
	if now.After(d.t) {
		d.t = now
	}
}

func (d *demand) add(now time.Time, n float64) {
	d.decay(now)
	d.v += n
}

// rate is the recent admitted tokens per second.
func (d *demand) rate(now time.Time) float64 {
	d.decay(now)
	return d.v / demandTau
}

// callerDone reports whether a failed command failed because the caller's
// context ended (or its deadline is here: the socket deadline can fire a
// moment before the context's timer), not because Redis is unwell.
func callerDone(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) <= time.Millisecond
}

// callerErr is ctx's error, or DeadlineExceeded if the deadline is just
// about to pass.
func callerErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.DeadlineExceeded
}
