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

// A worker's local bucket in fallback mode is a ratelimit.Bucket at its
// share of the limit. A request is admitted when the bucket holds
// min(cost, burst) and takes its whole cost, so the bucket may go negative
// when a worker's share of the burst is below one request's cost.

// localNeed is what b must hold to admit cost.
func localNeed(b *ratelimit.Bucket, cost float64) float64 { return math.Min(cost, b.Limit().Burst) }

// localWait is how long until b admits cost (0: now).
func localWait(b *ratelimit.Bucket, now time.Time, cost float64) time.Duration {
	return b.DelayN(now, localNeed(b, cost))
}

// fallbackWorkers is N for the local shares: the live workers last
// counted, at least 1.
func (l *Limiter) fallbackWorkers() int {
	return max(1, int(l.workers.Load()))
}

// localLimit is one worker's share of lim: rate and burst over the live
// workers (unlimited stays unlimited).
func (l *Limiter) localLimit(lim ratelimit.Limit) ratelimit.Limit {
	if unlimited(lim) {
		return ratelimit.Limit{Rate: ratelimit.Inf, Burst: ratelimit.Inf}
	}
	n := float64(l.fallbackWorkers())
	return ratelimit.Limit{Rate: lim.Rate / n, Burst: lim.Burst / n}
}

// localBucket is a worker's local bucket for lim at now, holding its share
// of the shared tokens last reported (tokens at seenAt), refilled to now.
func (l *Limiter) localBucket(lim ratelimit.Limit, tokens float64, seenAt, now time.Time) ratelimit.Bucket {
	b := ratelimit.NewBucket(l.localLimit(lim), now)
	if !unlimited(lim) {
		b.TakeN(now, b.Limit().Burst-l.startLevel(lim, tokens, seenAt, now))
	}
	return b
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
	l.acct.fb = l.localBucket(l.acct.base, l.acct.tokens, l.acct.seenAt, now)
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
	st.fb = l.localBucket(st.base, st.tokens, st.seenAt, now)
	st.fbOn = true
}

// startLevel is a worker's share of the shared tokens last reported,
// refilled to now, capped at its share of the burst.
func (l *Limiter) startLevel(lim ratelimit.Limit, tokens float64, seenAt, now time.Time) float64 {
	if unlimited(lim) {
		return 0
	}
	est := lim.Burst
	if !seenAt.IsZero() {
		est = math.Min(lim.Burst, tokens+now.Sub(seenAt).Seconds()*lim.Rate)
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
		opOK = localWait(&st.fb, now, cost) == 0
	}
	acctOK := localWait(&l.acct.fb, now, cost) == 0
	if opOK && acctOK {
		if st.name != "" {
			st.fb.TakeN(now, cost)
		}
		l.acct.fb.TakeN(now, cost)
		st.dem.add(now, cost)
		l.stats.localAdmits.Add(1)
		return verdict{ok: true}, nil
	}
	var d time.Duration
	blk := 0
	if !opOK {
		d = localWait(&st.fb, now, cost)
		blk |= blockOp
	}
	if !acctOK {
		d = max(d, localWait(&l.acct.fb, now, cost))
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
		if spent := st.fb.Limit().Burst - st.fb.TokensAt(now); spent > epsilon {
			adj = append(adj, adjustment{key: l.keys.op(st.name), field: st.name, def: st.base, delta: -spent})
		}
	}
	if l.acct.fbOn && !unlimited(l.acct.base) {
		if spent := l.acct.fb.Limit().Burst - l.acct.fb.TokensAt(now); spent > epsilon {
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
	for _, st := range l.ops {
		st.fbOn = false
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
	args := make([]any, 0, 1+4*len(adj))
	args = append(args, len(adj))
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
