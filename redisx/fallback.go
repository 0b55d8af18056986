package redisx

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// Fallback mode.
//
// When a Redis command fails or takes longer than Options.Timeout, the
// Limiter switches to local buckets: each bucket (operation and account)
// gets rate/N and burst/N, N being the live workers last counted in the
// heartbeat set. A local bucket starts with this worker's share of the
// shared tokens last reported (refilled to now), so the fleet's first
// moments in fallback add at most one burst over the quota. A health loop
// probes Redis every Options.ProbeInterval; on success each worker debits
// the shared buckets by its local deficit (local capacity minus level), so
// a restarted Redis, whose buckets are full, continues at the fleet's
// combined local level instead of granting a fresh burst; then shared mode
// resumes. (If Redis kept its state, the debit is conservative: the fleet
// admits a little less for a moment.)

// localBucket is a token bucket of one worker in fallback mode. A request
// is admitted when the bucket holds min(cost, capacity); it may leave the
// bucket negative (when a worker's share of the burst is below one
// request's cost).
type localBucket struct {
	rate float64 // tokens per second; < 0 means unlimited
	cap  float64
	tk   float64
	t    time.Time
}

func (b *localBucket) level(now time.Time) float64 {
	if b.rate < 0 {
		return b.cap
	}
	tk := b.tk
	if dt := now.Sub(b.t).Seconds(); dt > 0 {
		tk += dt * b.rate
	}
	return math.Min(tk, b.cap)
}

func (b *localBucket) settle(now time.Time) {
	b.tk = b.level(now)
	if now.After(b.t) {
		b.t = now
	}
}

func (b *localBucket) need(cost float64) float64 { return math.Min(cost, b.cap) }

func (b *localBucket) ok(now time.Time, cost float64) bool {
	return b.rate < 0 || b.level(now)+epsilon >= b.need(cost)
}

func (b *localBucket) take(now time.Time, cost float64) {
	if b.rate < 0 {
		return
	}
	b.settle(now)
	b.tk -= cost
}

func (b *localBucket) give(now time.Time, n float64) {
	if b.rate < 0 {
		return
	}
	b.settle(now)
	b.tk = math.Min(b.tk+n, b.cap)
}

// wait is how long until the bucket admits cost.
func (b *localBucket) wait(now time.Time, cost float64) time.Duration {
	if b.rate < 0 {
		return 0
	}
	short := b.need(cost) - b.level(now)
	if short <= epsilon {
		return 0
	}
	if b.rate == 0 {
		return ratelimit.InfDuration
	}
	return durationFor(short / b.rate)
}

// setLimit changes rate and capacity, keeping the tokens earned so far.
func (b *localBucket) setLimit(now time.Time, ll localLimit) {
	if b.rate < 0 && ll.rate >= 0 {
		b.tk, b.t = ll.cap, now // leaving unlimited: start full
	} else {
		b.settle(now)
	}
	b.rate, b.cap = ll.rate, ll.cap
	b.tk = math.Min(b.tk, b.cap)
}

// localLimit is one worker's share of a limit.
type localLimit struct{ rate, cap float64 }

// fallbackWorkers is N for the local shares: the live workers last
// counted, at least 1.
func (l *Limiter) fallbackWorkers() int {
	return max(1, int(l.workers.Load()))
}

// localLimit is one worker's share of lim at effective rate eff (< 0:
// unlimited).
func (l *Limiter) localLimit(lim ratelimit.Limit, eff float64) localLimit {
	if unlimited(lim) || eff < 0 {
		return localLimit{rate: -1}
	}
	n := float64(l.fallbackWorkers())
	return localLimit{rate: eff / n, cap: lim.Burst / n}
}

// fbRate is st's local rate in fallback mode: its share of the adaptive
// rate, which recovers on the same cubic curve as the shared one. Requires
// mu held.
func (st *opState) fbRate(now time.Time, ao AdaptiveOptions) float64 {
	if unlimited(st.base) {
		return -1
	}
	r := st.base.Rate
	if st.fbWM > 0 {
		r = cubic(st.base.Rate, st.fbWM, st.fbK, now.Sub(st.fbT0).Seconds()-st.fbTD, ao.C, ao.MinFraction)
	}
	return r
}

// enterFallbackLocked switches to local buckets (once) and wakes the
// health loop to probe Redis. Requires mu held.
func (l *Limiter) enterFallbackLocked(err error) {
	if l.Mode() == ModeFallback {
		return
	}
	l.mode.Store(int32(ModeFallback))
	l.stats.fallbacks.Add(1)
	now := time.Now()
	for _, st := range l.ops {
		l.initFallbackLocked(st, now)
	}
	ll := l.localLimit(l.acct.base, effRate(l.acct.base))
	l.acct.fb = localBucket{rate: ll.rate, cap: ll.cap, t: now}
	l.acct.fb.tk = l.startLevel(l.acct.base, effRate(l.acct.base), l.acct.tokens, l.acct.seenAt, now)
	l.acct.fbOn = true
	l.o.Logger.Warn("redisx: Redis unavailable; admitting from local buckets at rate/live workers",
		"account", l.o.Account, "region", l.o.Region, "worker", l.o.WorkerID,
		"live_workers", l.fallbackWorkers(), "err", errString(err))
	l.notify(ModeFallback)
	select {
	case l.probe <- struct{}{}:
	default:
	}
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// initFallbackLocked gives st a local bucket. Requires mu held.
func (l *Limiter) initFallbackLocked(st *opState, now time.Time) {
	if st.name == "" {
		return // account only: the account's local bucket decides
	}
	st.fbT0 = now
	st.fbWM, st.fbTD, st.fbK = 0, 0, 0
	eff := st.eff
	if !unlimited(st.base) && eff >= 0 && eff < st.base.Rate {
		// The shared rate is lowered: continue its recovery locally, as if
		// it had just been lowered from eff/beta.
		st.fbWM, st.fbK = decrease(eff/l.o.Adaptive.Beta, 0, l.o.Adaptive.Beta, l.o.Adaptive.C)
	}
	ll := l.localLimit(st.base, st.fbRate(now, l.o.Adaptive))
	st.fb = localBucket{rate: ll.rate, cap: ll.cap, t: now}
	st.fb.tk = l.startLevel(st.base, eff, st.tokens, st.seenAt, now)
	st.fbOn = true
}

// startLevel is a worker's share of the shared tokens last reported,
// refilled to now, capped at its share of the burst.
func (l *Limiter) startLevel(lim ratelimit.Limit, eff float64, tokens float64, seenAt, now time.Time) float64 {
	if unlimited(lim) || eff < 0 {
		return 0
	}
	est := lim.Burst
	if !seenAt.IsZero() {
		est = math.Min(lim.Burst, tokens+now.Sub(seenAt).Seconds()*eff)
	}
	return est / float64(l.fallbackWorkers())
}

// localLocked decides in the local buckets. Requires mu held.
func (l *Limiter) localLocked(st *opState, cost float64, now time.Time) (verdict, error) {
	if st.name != "" && !unlimited(st.base) && cost > st.base.Burst {
		return verdict{}, fmt.Errorf("redisx: %s: cost %v > burst %v: %w", st.name, cost, st.base.Burst, ratelimit.ErrExceedsBurst)
	}
	if !unlimited(l.acct.base) && cost > l.acct.base.Burst {
		return verdict{}, fmt.Errorf("redisx: account: cost %v > burst %v: %w", cost, l.acct.base.Burst, ratelimit.ErrExceedsBurst)
	}
	opOK := true
	if st.name != "" {
		if !st.fbOn {
			l.initFallbackLocked(st, now)
		}
		if st.fbWM > 0 {
			st.fb.setLimit(now, l.localLimit(st.base, st.fbRate(now, l.o.Adaptive)))
		}
		opOK = st.fb.ok(now, cost)
	}
	acctOK := l.acct.fb.ok(now, cost)
	if opOK && acctOK {
		if st.name != "" {
			st.fb.take(now, cost)
		}
		l.acct.fb.take(now, cost)
		st.dem.add(now, cost)
		l.stats.localAdmits.Add(1)
		return verdict{ok: true}, nil
	}
	var d time.Duration
	blk := 0
	if !opOK {
		d = st.fb.wait(now, cost)
		blk |= blockOp
	}
	if !acctOK {
		d = max(d, l.acct.fb.wait(now, cost))
		blk |= blockAccount
	}
	return verdict{retryIn: d, blocker: blk}, nil
}

// healthLoop heartbeats every Options.Heartbeat in shared mode and probes
// every Options.ProbeInterval in fallback mode, switching modes as Redis
// goes and comes back.
func (l *Limiter) healthLoop() {
	defer l.wg.Done()
	t := time.NewTimer(l.o.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		case <-l.probe:
		}
		shared := l.Mode() == ModeShared
		ctx, cancel := context.WithTimeout(context.Background(), l.o.Timeout)
		var n int64
		var err error
		if shared || !l.own {
			n, err = l.beat(ctx, l.client())
		} else {
			n, err = l.probeFresh(ctx)
		}
		cancel()
		switch {
		case err != nil && shared:
			l.stats.redisErrors.Add(1)
			l.mu.Lock()
			l.enterFallbackLocked(err)
			l.mu.Unlock()
		case err == nil:
			if !shared {
				l.recover() // first: the fresh count may be low after a restart
			}
			l.setWorkers(n)
			if shared {
				l.flushPending()
			}
		}
		next := l.o.Heartbeat
		if l.Mode() == ModeFallback {
			next = l.o.ProbeInterval
		}
		t.Reset(next)
	}
}

// probeFresh heartbeats through a newly dialed client and, if Redis
// answers, makes it the Limiter's client (see client).
func (l *Limiter) probeFresh(ctx context.Context) (int64, error) {
	c, err := dial(l.o)
	if err != nil {
		return 0, err
	}
	n, err := l.beat(ctx, c)
	if err != nil {
		c.Close()
		return 0, err
	}
	old := l.rdb.Swap(&clientRef{c})
	old.c.Close() // fallback mode: nothing else uses it
	return n, nil
}

// beat records this worker in the heartbeat set and returns the number of
// live workers.
func (l *Limiter) beat(ctx context.Context, c redis.UniversalClient) (int64, error) {
	return heartbeatScript.Run(ctx, c, []string{l.keys.workers(), l.keys.limits()},
		l.o.WorkerID, fmtF(l.o.LiveWindow.Seconds()), fmtF(10*l.o.LiveWindow.Seconds()), l.o.LimitTTL.Milliseconds()).Int64()
}

// setWorkers records a fresh live-worker count. Within one live window of
// shared mode starting, a lower count is not believed: a restarted Redis
// has an empty heartbeat set that takes a window to fill.
func (l *Limiter) setWorkers(n int64) {
	l.mu.Lock()
	refilling := time.Since(l.sharedSince) < l.o.LiveWindow
	l.mu.Unlock()
	if refilling && n < l.workers.Load() {
		return
	}
	l.workers.Store(max(n, 1))
}

// recover returns from fallback mode: it debits the shared buckets with
// the tokens this worker's local buckets spent below their starting
// level, writes limits set while Redis was away, and switches to shared
// mode. mu is held across these round trips (each bounded by
// Options.Timeout) so that no local admission slips between the debit and
// the switch.
func (l *Limiter) recover() {
	l.mu.Lock()
	if l.Mode() != ModeFallback || l.closed {
		l.mu.Unlock()
		return
	}
	now := time.Now()
	var adj []adjustment
	for _, st := range l.ops {
		if st.name == "" || !st.fbOn || unlimited(st.base) {
			continue
		}
		if spent := st.fb.cap - st.fb.level(now); spent > epsilon {
			adj = append(adj, adjustment{key: l.keys.op(st.name), field: st.name, def: st.base, delta: -spent})
		}
	}
	if l.acct.fbOn && !unlimited(l.acct.base) {
		if spent := l.acct.fb.cap - l.acct.fb.level(now); spent > epsilon {
			adj = append(adj, adjustment{key: l.keys.account(), field: "", def: l.acct.base, delta: -spent})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.o.Timeout)
	err := l.adjust(ctx, adj)
	cancel()
	if err == nil {
		for _, st := range l.ops {
			if st.pendingLimit == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), l.o.Timeout)
			err = l.writeLimit(ctx, st.name, *st.pendingLimit)
			cancel()
			if err != nil {
				break
			}
			st.pendingLimit = nil
		}
	}
	if err != nil {
		l.stats.redisErrors.Add(1)
		l.mu.Unlock()
		return
	}
	var throttled []string
	for _, st := range l.ops {
		st.fbOn = false
		st.fbWM = 0
		if st.pendingThrottle {
			st.pendingThrottle = false
			throttled = append(throttled, st.name)
		}
	}
	l.acct.fbOn = false
	l.sharedSince = time.Now()
	l.mode.Store(int32(ModeShared))
	l.stats.recoveries.Add(1)
	l.o.Logger.Info("redisx: Redis reachable again; admitting from shared buckets",
		"account", l.o.Account, "region", l.o.Region, "worker", l.o.WorkerID,
		"live_workers", l.fallbackWorkers(), "debited_buckets", len(adj))
	l.notify(ModeShared)
	l.mu.Unlock()
	l.wake()
	for _, op := range throttled {
		l.reportThrottleAsync(op)
	}
}

// flushPending writes limits that failed to reach Redis in shared mode.
func (l *Limiter) flushPending() {
	l.mu.Lock()
	var ops []string
	var lims []ratelimit.Limit
	for _, st := range l.ops {
		if st.pendingLimit != nil {
			ops = append(ops, st.name)
			lims = append(lims, *st.pendingLimit)
		}
	}
	l.mu.Unlock()
	for i, op := range ops {
		ctx, cancel := context.WithTimeout(context.Background(), l.o.Timeout)
		err := l.writeLimit(ctx, op, lims[i])
		cancel()
		if err != nil {
			return
		}
		l.mu.Lock()
		if st := l.ops[op]; st.pendingLimit != nil && *st.pendingLimit == lims[i] {
			st.pendingLimit = nil
		}
		l.mu.Unlock()
	}
}

// adjustment adds delta tokens to one bucket.
type adjustment struct {
	key, field string
	def        ratelimit.Limit
	delta      float64
}

// adjust runs the adjust script over several buckets in one round trip.
func (l *Limiter) adjust(ctx context.Context, adj []adjustment) error {
	if len(adj) == 0 {
		return nil
	}
	keys := make([]string, 0, len(adj)+1)
	args := make([]any, 0, 4+4*len(adj))
	args = append(args, len(adj), l.ad[0], l.ad[1], l.ad[2])
	for _, a := range adj {
		keys = append(keys, a.key)
		r, b := limitArgs(a.def)
		args = append(args, a.field, r, b, fmtF(a.delta))
	}
	keys = append(keys, l.keys.limits())
	return adjustScript.Run(ctx, l.client(), keys, args...).Err()
}

// notify queues a mode change for Options.OnModeChange.
func (l *Limiter) notify(m Mode) {
	if l.o.OnModeChange == nil {
		return
	}
	select {
	case l.modeChanged <- m:
	default:
	}
}

func (l *Limiter) notifyLoop() {
	defer l.wg.Done()
	for {
		select {
		case <-l.done:
			return
		case m := <-l.modeChanged:
			l.o.OnModeChange(m)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
