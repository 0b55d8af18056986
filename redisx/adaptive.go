package redisx

import (
	"context"
	"math"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/governor"
)

// Shared adaptive rate.
//
// Every process's throttles feed one state per operation, kept in Redis in
// the operation's bucket (fields wm: the rate before the last decrease, td:
// when it happened, on Redis's clock). The admission script computes the
// effective rate from it on every decision:
//
//	rate(t) = clamp(wm + C·(t − td − K)³, MinFraction·base, base),  K = ∛(wm·(1−β)/C)
//
// which is β·wm right after a throttle and back at wm after K seconds, then
// grows past it towards the configured rate (a quota increase is found
// again the same way). A throttle report drains the shared bucket (the
// server's is empty) and, unless the rate was lowered within the cooldown,
// lowers it: sixteen workers throttled by the same overshoot lower it once.
//
// The per-process learner in package adaptive keeps per-client history
// (counts of its own accepted calls, probes); it is not shared state, so it
// is not used here. The Redis limiter's Observer should be the only thing
// adapting its limits; an adaptive.Observer would fight it through SetLimit.

// cubic mirrors the Lua curve (prelude.lua) for fallback mode and tests:
// the rate dt seconds into a recovery towards wm that reaches wm after k
// seconds, clamped to [base·minf, base].
func cubic(base, wm, k, dt, c, minf float64) float64 {
	x := dt - k
	r := wm + c*x*x*x
	return math.Max(math.Min(r, base), base*minf)
}

// decrease mirrors throttle.lua: from the current rate cur (and the last
// target wm, 0 if none), the new target and the time k it takes the curve
// to climb back to it from beta·cur.
func decrease(cur, wm, beta, c float64) (newWM, k float64) {
	newWM = cur
	if wm > 0 && cur < wm {
		newWM = cur * (1 + beta) / 2 // fast convergence
	}
	return newWM, math.Cbrt(math.Max(newWM-beta*cur, 0) / c)
}

// ReportThrottle tells every worker that the server throttled op: the
// shared bucket is drained and, unless it was lowered within the cooldown,
// the shared rate drops to Beta times its current value. It reports
// whether the rate was lowered. In fallback mode the local bucket is
// drained and lowered instead, and the throttle is reported when Redis is
// back.
func (l *Limiter) ReportThrottle(ctx context.Context, op string) (lowered bool, err error) {
	if l.o.Adaptive.Disabled || op == "" {
		return false, nil
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false, ErrClosed
	}
	st := l.opLocked(op)
	st.leaseTok = 0 // the server's bucket is empty: leased tokens would be throttled too
	if l.Mode() == ModeFallback {
		lowered = l.localThrottleLocked(st, time.Now())
		l.mu.Unlock()
		return lowered, nil
	}
	base := st.base
	l.mu.Unlock()
	if unlimited(base) {
		return false, nil
	}
	dr, db := limitArgs(base)
	rctx, cancel := context.WithTimeout(ctx, l.o.Timeout)
	res, err := throttleScript.Run(rctx, l.client(), []string{l.keys.op(op), l.keys.limits()},
		op, dr, db, l.ad[0], l.ad[1], l.ad[2], fmtF(l.o.Adaptive.Cooldown.Seconds())).Slice()
	cancel()
	l.stats.throttleReports.Add(1)
	var p replyParser
	var eff float64
	if err == nil {
		if len(res) != 3 {
			err = errReply
		} else {
			lowered = p.int(res[0]) == 1
			eff = p.float(res[1])
			err = p.err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if callerDone(ctx) {
			return false, callerErr(ctx)
		}
		l.stats.redisErrors.Add(1)
		l.enterFallbackLocked(err)
		return l.localThrottleLocked(st, time.Now()), nil
	}
	if lowered {
		l.stats.throttleDecreases.Add(1)
	}
	st.eff = eff
	st.tokens, st.seenAt = 0, time.Now()
	return lowered, nil
}

// localThrottleLocked applies a throttle to st's local bucket in fallback
// mode and remembers to report it. Requires mu held.
func (l *Limiter) localThrottleLocked(st *opState, now time.Time) bool {
	st.pendingThrottle = true
	if !st.fbOn {
		l.initFallbackLocked(st, now)
	}
	cur := st.fbRate(now, l.o.Adaptive)
	lowered := false
	if cur >= 0 && (st.fbWM == 0 || now.Sub(st.fbT0).Seconds()-st.fbTD >= l.o.Adaptive.Cooldown.Seconds()) {
		st.fbWM, st.fbK = decrease(cur, st.fbWM, l.o.Adaptive.Beta, l.o.Adaptive.C)
		st.fbTD = now.Sub(st.fbT0).Seconds()
		lowered = true
	}
	st.fb.setLimit(now, l.localLimit(st.base, st.fbRate(now, l.o.Adaptive)))
	st.fb.settle(now)
	st.fb.tk = math.Min(st.fb.tk, 0)
	return lowered
}

// reportThrottleAsync reports a throttle without blocking the caller; at
// most one report per operation is in flight (the cooldown would absorb the
// others anyway).
func (l *Limiter) reportThrottleAsync(op string) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	st := l.opLocked(op)
	st.leaseTok = 0
	if st.throttling {
		l.mu.Unlock()
		return
	}
	st.throttling = true
	l.wg.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.wg.Done()
		_, _ = l.ReportThrottle(context.Background(), op)
		l.mu.Lock()
		st.throttling = false
		l.mu.Unlock()
	}()
}

// ObserveAttempt implements governor.Observer: a rate throttle on any
// attempt is reported to the fleet (asynchronously).
func (l *Limiter) ObserveAttempt(a governor.Attempt) {
	if a.Err != nil && a.Info.Class == awserr.ClassRateThrottle && !l.o.Adaptive.Disabled {
		l.reportThrottleAsync(a.Op)
	}
}

// ObserveOutcome implements governor.Observer; outcomes carry nothing the
// shared rate needs.
func (l *Limiter) ObserveOutcome(governor.Outcome) {}

var _ governor.Observer = (*Limiter)(nil)
