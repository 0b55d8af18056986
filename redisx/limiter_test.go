package redisx

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/governor"
	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// slowRate refills nothing during a test.
const slowRate = 0.001

// TestHierarchyAtomic hammers one account from three separate clients
// (three Limiters, three connection pools) with eight goroutines each, on
// two operations nested in an account. Nothing refills, so the totals are
// exact: the account admits exactly its burst, no operation more than its
// own, and the buckets in Redis hold what is left.
func TestHierarchyAtomic(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	const acctBurst, opBurst = 40, 25
	ops := map[string]ratelimit.Limit{"A": {Rate: slowRate, Burst: opBurst}, "B": {Rate: slowRate, Burst: opBurst}}
	o := testOptions(t, srv, ratelimit.Limit{Rate: slowRate, Burst: acctBurst}, ops)
	o.Lease.Disabled = true
	var lims []*Limiter
	for range 3 {
		lims = append(lims, newTestLimiter(t, o))
	}
	var admitted [2]atomic.Int64
	var wg sync.WaitGroup
	for i := range 24 {
		l := lims[i%3]
		k := i % 2
		op := []string{"A", "B"}[k]
		cost := float64(1 + i%3) // costs 1, 2 and 3
		wg.Go(func() {
			for range 40 {
				d, err := l.Try(context.Background(), ratelimit.Request{Op: op, Cost: cost})
				if err != nil {
					t.Errorf("Try: %v", err)
					return
				}
				if d.OK {
					admitted[k].Add(int64(cost))
				}
			}
		})
	}
	wg.Wait()
	a, b := admitted[0].Load(), admitted[1].Load()
	if a > opBurst || b > opBurst {
		t.Errorf("operation over its burst: A %d B %d (burst %d)", a, b, opBurst)
	}
	if a+b > acctBurst {
		t.Errorf("account over its burst: %d > %d", a+b, acctBurst)
	}
	// Both-or-neither: what Redis holds matches what was admitted.
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ks := lims[0].keys
	tok := func(key string) float64 {
		v, err := rdb.HGet(context.Background(), key, "tk").Float64()
		if err != nil {
			t.Fatalf("HGET %s tk: %v", key, err)
		}
		return v
	}
	const eps = 0.01 // refill at slowRate during the test
	for _, c := range []struct {
		key  string
		want float64
	}{
		{ks.account(), float64(acctBurst) - float64(a+b)},
		{ks.op("A"), float64(opBurst) - float64(a)},
		{ks.op("B"), float64(opBurst) - float64(b)},
	} {
		if got := tok(c.key); math.Abs(got-c.want) > eps {
			t.Errorf("%s: got %.3f tokens want %.3f", c.key, got, c.want)
		}
	}
	// The account must have been the binding limit: with costs up to 3 at
	// most 2 tokens can remain unusable.
	if acctLeft := float64(acctBurst) - float64(a+b); acctLeft > 2+eps {
		t.Errorf("account left %.0f tokens unused with demand outstanding", acctLeft)
	}
	for _, l := range lims {
		assertShared(t, l)
	}
}

// TestPriorityOrder: with the bucket empty, the first waiter reserves the
// next slot; the waiters queued behind it are then served critical first,
// then normal, then low.
func TestPriorityOrder(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	o := testOptions(t, srv, ratelimit.Limit{}, map[string]ratelimit.Limit{"A": {Rate: 10, Burst: 1}})
	l := newTestLimiter(t, o)
	ctx := context.Background()
	if d, _ := l.Try(ctx, ratelimit.Request{Op: "A"}); !d.OK {
		t.Fatal("first Try refused on a full bucket")
	}
	type done struct {
		name string
		at   time.Time
	}
	order := make(chan done, 4)
	var wg sync.WaitGroup
	start := func(name string, p ratelimit.Priority) {
		wg.Go(func() {
			if err := l.Wait(ctx, ratelimit.Request{Op: "A", Priority: p}); err != nil {
				t.Errorf("Wait(%v): %v", p, err)
			}
			order <- done{name, time.Now()}
		})
	}
	queued := func(n int) func() bool {
		return func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.q.Len() == n }
	}
	start("low1", ratelimit.PriorityLow)
	eventually(t, time.Second, "first waiter holding a reservation", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.ops["A"].resvUntil.After(time.Now())
	})
	start("low2", ratelimit.PriorityLow)
	eventually(t, time.Second, "low2 queued", queued(1))
	start("normal", ratelimit.PriorityNormal)
	eventually(t, time.Second, "normal queued", queued(2))
	start("critical", ratelimit.PriorityCritical)
	wg.Wait()
	close(order)
	var got []string
	var times []time.Time
	for d := range order {
		got = append(got, d.name)
		times = append(times, d.at)
	}
	want := []string{"low1", "critical", "normal", "low2"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("service order: got %v want %v", got, want)
		}
	}
	// One slot apart at 10/s.
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 70*time.Millisecond || gap > 300*time.Millisecond {
			t.Errorf("gap %d: %v want about 100ms", i, gap)
		}
	}
	assertShared(t, l)
}

// TestSetLimitShared: a limit set by one worker governs the others at their
// next decision, and Limit reports it there.
func TestSetLimitShared(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	o := testOptions(t, srv, ratelimit.Limit{}, map[string]ratelimit.Limit{"A": {Rate: slowRate, Burst: 2}})
	a, b := newTestLimiter(t, o), newTestLimiter(t, o)
	ctx := context.Background()
	lowered := ratelimit.Limit{Rate: slowRate, Burst: 1}
	if err := a.SetLimit(ctx, "A", lowered); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		l    *Limiter
		cost float64
		ok   bool
	}{
		{b, 1, true},  // the bucket was capped at the new burst of 1
		{b, 1, false}, // and is empty now
		{a, 1, false},
	}
	for i, s := range steps {
		d, err := s.l.Try(ctx, ratelimit.Request{Op: "A", Cost: s.cost})
		if err != nil || d.OK != s.ok {
			t.Fatalf("step %d: got %+v, %v want OK=%v", i, d, err, s.ok)
		}
	}
	if got := b.Limit("A"); got != lowered {
		t.Errorf("b.Limit(A) after a's SetLimit: got %+v want %+v", got, lowered)
	}
	if _, err := b.Try(ctx, ratelimit.Request{Op: "A", Cost: 2}); !errors.Is(err, ratelimit.ErrExceedsBurst) {
		t.Errorf("cost 2 after the burst was lowered to 1: got %v want ErrExceedsBurst", err)
	}
	assertShared(t, a)
	assertShared(t, b)
}

// TestAdaptiveShared: a throttle reported by one worker lowers the rate
// every worker admits at; throttles within the cooldown do not lower it
// again; the rate recovers, for everyone, along the cubic curve.
func TestAdaptiveShared(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	const base = 100.0
	o := testOptions(t, srv, ratelimit.Limit{}, map[string]ratelimit.Limit{"A": {Rate: base, Burst: 10}})
	// C large enough to recover within a second: K = cbrt(100·0.3/100) ≈ 0.67s.
	o.Adaptive = AdaptiveOptions{C: 100, Cooldown: 300 * time.Millisecond}
	a, b := newTestLimiter(t, o), newTestLimiter(t, o)
	ctx := context.Background()
	try := func(l *Limiter) { _, _ = l.Try(ctx, ratelimit.Request{Op: "A"}) }
	try(a)
	try(b)
	if got := b.EffectiveLimit("A").Rate; got != base {
		t.Fatalf("effective rate before any throttle: got %v want %v", got, base)
	}
	lowered, err := a.ReportThrottle(ctx, "A")
	if err != nil || !lowered {
		t.Fatalf("first throttle: got lowered=%v, %v want true", lowered, err)
	}
	// The same event seen by another worker: no second decrease.
	if lowered, err := b.ReportThrottle(ctx, "A"); err != nil || lowered {
		t.Fatalf("throttle within the cooldown: got lowered=%v, %v want false", lowered, err)
	}
	// The bucket was drained: b is refused and sees the lowered rate.
	d, _ := b.Try(ctx, ratelimit.Request{Op: "A"})
	if d.OK {
		t.Errorf("Try right after a throttle: admitted from a drained bucket")
	}
	eff := b.EffectiveLimit("A").Rate
	if eff < 0.69*base || eff > 0.75*base {
		t.Errorf("b's effective rate after a's throttle: got %.1f want about %.1f (beta 0.7)", eff, 0.7*base)
	}
	// Measure the admitted rate right after the decrease: about 70/s.
	start := time.Now()
	n := 0
	for time.Since(start) < 200*time.Millisecond {
		if d, _ := b.Try(ctx, ratelimit.Request{Op: "A"}); d.OK {
			n++
		}
		time.Sleep(time.Millisecond)
	}
	if max := 0.2*base*0.85 + 1; float64(n) > max {
		t.Errorf("admitted %d in 200ms after the decrease: want at most %.0f (rate about 70-80/s)", n, max)
	}
	// After the cooldown a new throttle lowers again.
	time.Sleep(150 * time.Millisecond)
	if lowered, _ := b.ReportThrottle(ctx, "A"); !lowered {
		t.Errorf("throttle after the cooldown: not lowered")
	}
	// Throttled again before getting back to 100: the new target is lower
	// (fast convergence).
	rdb0 := redis.NewClient(&redis.Options{Addr: srv.Addr})
	if wm, err := rdb0.HGet(ctx, a.keys.op("A"), "wm").Float64(); err != nil || wm >= base {
		t.Errorf("target after a second throttle: got %v, %v want below %v", wm, err, base)
	}
	rdb0.Close()
	// Recovery is shared: without further throttles a's view climbs back.
	eventually(t, 3*time.Second, "effective rate back at the configured rate", func() bool {
		try(a)
		return a.EffectiveLimit("A").Rate >= base
	})
	// And the adaptive state is gone from Redis once recovered.
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	if n, _ := rdb.HExists(ctx, a.keys.op("A"), "wm").Result(); n {
		t.Errorf("adaptive state still stored after recovery")
	}
	assertShared(t, a)
	assertShared(t, b)
}

// TestObserver: the Limiter as a governor.Observer reports rate throttles
// (and only those).
func TestObserver(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	o := testOptions(t, srv, ratelimit.Limit{}, map[string]ratelimit.Limit{"A": {Rate: 10, Burst: 5}})
	l := newTestLimiter(t, o)
	var obs governor.Observer = l
	obs.ObserveAttempt(governor.Attempt{Op: "A", Err: errors.New("boom"), Info: awserr.Info{Class: awserr.ClassTransient}})
	obs.ObserveAttempt(governor.Attempt{Op: "A"})
	time.Sleep(50 * time.Millisecond)
	if s := l.Stats(); s.ThrottleReports != 0 {
		t.Fatalf("non-throttle attempts reported: %+v", s)
	}
	obs.ObserveAttempt(governor.Attempt{Op: "A", Err: errors.New("429"), Info: awserr.Info{Class: awserr.ClassRateThrottle}})
	eventually(t, 2*time.Second, "throttle reported", func() bool { return l.Stats().ThrottleDecreases == 1 })
	if got := l.EffectiveLimit("A").Rate; got > 7.01 {
		t.Errorf("effective rate after an observed throttle: got %v want 7", got)
	}
}

// TestCubicMirror checks the Go curve used in fallback mode.
func TestCubicMirror(t *testing.T) {
	type step struct{ base, wm, k, dt, want float64 }
	wm, k := decrease(10, 0, 0.7, 0.4)
	if wm != 10 || math.Abs(k-math.Cbrt(10*0.3/0.4)) > 1e-12 {
		t.Fatalf("decrease from 10: got wm %v k %v", wm, k)
	}
	steps := []step{
		{10, wm, k, 0, 7},            // right after a decrease: beta×rate
		{10, wm, k, k, 10},           // back at wm after k
		{10, wm, k, 100, 10},         // capped at the base
		{20, wm, k, k + 1, 10 + 0.4}, // grows past wm
		{100, 0.1, 0, 0, 5},          // floored at MinFraction×base
	}
	for i, s := range steps {
		if got := cubic(s.base, s.wm, s.k, s.dt, 0.4, 0.05); math.Abs(got-s.want) > 1e-9 {
			t.Errorf("step %d: got %v want %v", i, got, s.want)
		}
	}
	// Throttled again at 8, below the target 10: aim at 8×1.7/2 = 6.8,
	// starting from 5.6.
	wm2, k2 := decrease(8, 10, 0.7, 0.4)
	if math.Abs(wm2-6.8) > 1e-12 {
		t.Errorf("fast convergence: got wm %v want 6.8", wm2)
	}
	if got := cubic(10, wm2, k2, 0, 0.4, 0.05); math.Abs(got-5.6) > 1e-9 {
		t.Errorf("fast convergence start: got %v want 5.6", got)
	}
}
