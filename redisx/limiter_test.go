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
	t0 := time.Now() // read before the Try that empties the bucket
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
	// (Taken, not necessarily still ahead: a busy machine may run this
	// check after the slot has come.)
	eventually(t, eventuallyWait, "first waiter holding a reservation", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return !l.ops["A"].resvUntil.IsZero()
	})
	start("low2", ratelimit.PriorityLow)
	eventually(t, eventuallyWait, "low2 queued", queued(1))
	start("normal", ratelimit.PriorityNormal)
	eventually(t, eventuallyWait, "normal queued", queued(2))
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
	// One slot each at 10/s: the k-th waiter served cannot have its token
	// before k+1 intervals after the bucket was emptied. (How late a busy
	// machine wakes it is not asserted.)
	for i, at := range times {
		if el, least := at.Sub(t0), time.Duration(i+1)*100*time.Millisecond-5*time.Millisecond; el < least {
			t.Errorf("waiter %d (%s) served %v after the bucket was emptied, before its slot (%v)", i, got[i], el, least)
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
