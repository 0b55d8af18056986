package ratelimit

import (
	"context"
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// hstep is one TryAt at t0+at, with the tokens expected afterwards.
type hstep struct {
	at       time.Duration
	op       string
	cost     float64
	ok       bool
	retryIn  time.Duration // checked when !ok
	opTok    float64
	acctTok  float64
	checkTok bool
}

func runHierSteps(t *testing.T, h *Hierarchy, steps []hstep) {
	t.Helper()
	for i, s := range steps {
		now := t0.Add(s.at)
		d, err := h.TryAt(now, Request{Op: s.op, Cost: s.cost})
		if err != nil {
			t.Fatalf("step %d: TryAt(%s, %v): %v", i, s.op, s.cost, err)
		}
		if d.OK != s.ok {
			t.Fatalf("step %d: TryAt(%s, %v): got OK=%v want %v", i, s.op, s.cost, d.OK, s.ok)
		}
		if !s.ok && d.RetryIn != s.retryIn {
			t.Fatalf("step %d: TryAt(%s, %v): got RetryIn %v want %v", i, s.op, s.cost, d.RetryIn, s.retryIn)
		}
		if s.checkTok {
			o, a := h.TokensAt(now, s.op)
			if math.Abs(o-s.opTok) > 1e-9 || math.Abs(a-s.acctTok) > 1e-9 {
				t.Fatalf("step %d: got tokens op %v account %v want %v %v", i, o, a, s.opTok, s.acctTok)
			}
		}
	}
}

func TestHierarchyNestedAllOrNothing(t *testing.T) {
	h := NewHierarchy(HierarchyOptions{
		Account: Limit{Rate: 1, Burst: 4},
		Ops:     map[string]Limit{"A": {Rate: 10, Burst: 3}, "B": {Rate: 1, Burst: 2}},
		Now:     fixedClock(t0),
	})
	runHierSteps(t, h, []hstep{
		{op: "A", cost: 2, ok: true, checkTok: true, opTok: 1, acctTok: 2},
		{op: "A", cost: 2, ok: false, retryIn: 100 * ms, checkTok: true, opTok: 1, acctTok: 2},    // op short: account untouched
		{op: "B", cost: 2, ok: true, checkTok: true, opTok: 0, acctTok: 0},                        // account drained
		{op: "A", cost: 1, ok: false, retryIn: time.Second, checkTok: true, opTok: 1, acctTok: 0}, // account short: op untouched
		{at: 100 * ms, op: "A", cost: 1, ok: false, retryIn: 900 * ms, checkTok: true, opTok: 2, acctTok: 0.1},
		{at: time.Second, op: "A", cost: 1, ok: true, checkTok: true, opTok: 2, acctTok: 0},
		{at: time.Second, op: "", cost: 1, ok: false, retryIn: time.Second, checkTok: true, opTok: 0, acctTok: 0}, // account only
		{at: 2 * time.Second, op: "", cost: 1, ok: true, checkTok: true, opTok: 0, acctTok: 0},
		{at: 4 * time.Second, op: "B", cost: 2, ok: true, checkTok: true, opTok: 0, acctTok: 0},
	})
}

func TestHierarchyUnlimitedAccountAndTable(t *testing.T) {
	tab := quotas.Default()
	h := NewHierarchy(HierarchyOptions{Table: tab, Ops: map[string]Limit{"DescribeUser": {Rate: 1, Burst: 1}}, Now: fixedClock(t0)})
	// Table entries and the default rule; Ops wins over the table.
	for i, c := range []struct {
		op   string
		want Limit
	}{
		{"GetMetricData", Limit{Rate: 5, Burst: 8}},
		{"StartOutboundVoiceContact", Limit{Rate: 2, Burst: 5}},
		{"NotARealOperation", Limit{Rate: quotas.DefaultRate, Burst: quotas.DefaultBurst}},
		{"DescribeUser", Limit{Rate: 1, Burst: 1}},
		{"", Limit{}},
	} {
		if got := h.Limit(c.op); got != c.want {
			t.Fatalf("step %d: Limit(%q): got %+v want %+v", i, c.op, got, c.want)
		}
	}
	steps := []hstep{}
	for range 8 {
		steps = append(steps, hstep{op: "GetMetricData", ok: true})
	}
	steps = append(steps, hstep{op: "GetMetricData", ok: false, retryIn: 200 * ms})
	runHierSteps(t, h, steps)
	// Changing the caller's table afterwards has no effect.
	if err := tab.SetAPI(quotas.API{Op: "ListUsers", Rate: 1, Burst: 1}); err != nil {
		t.Fatal(err)
	}
	if got := h.Limit("ListUsers"); got.Rate != 10 {
		t.Fatalf("Limit(ListUsers) after mutating the caller's table: got %+v want rate 10", got)
	}
}

func TestHierarchyInvalidCost(t *testing.T) {
	h := NewHierarchy(HierarchyOptions{Now: fixedClock(t0)})
	for i, c := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := h.TryAt(t0, Request{Op: "X", Cost: c}); err == nil {
			t.Fatalf("step %d: TryAt cost %v: got nil error want an error", i, c)
		}
	}
	if _, err := h.TryAt(t0, Request{Op: "X", Cost: 6}); !errors.Is(err, ErrExceedsBurst) {
		t.Fatalf("TryAt cost 6 > default burst 5: got %v want ErrExceedsBurst", err)
	}
}

func TestHierarchyReserveCancel(t *testing.T) {
	h := NewHierarchy(HierarchyOptions{
		Account: Limit{Rate: 10, Burst: 10},
		Ops:     map[string]Limit{"A": {Rate: 2, Burst: 2}, "Z": {Rate: 0, Burst: 1}},
		Now:     fixedClock(t0),
	})
	r1 := h.Reserve(t0, Request{Op: "A", Cost: 2})
	r2 := h.Reserve(t0, Request{Op: "A", Cost: 1})
	for i, c := range []struct {
		got, want time.Duration
	}{{r1.Delay(), 0}, {r2.Delay(), 500 * ms}} {
		if c.got != c.want {
			t.Fatalf("step %d: Delay got %v want %v", i, c.got, c.want)
		}
	}
	if !r2.At().Equal(t0.Add(500 * ms)) {
		t.Fatalf("At: got %v want t0+500ms", r2.At())
	}
	if o, a := h.TokensAt(t0, "A"); o != -1 || a != 7 {
		t.Fatalf("after reserving 3: got op %v account %v want -1 7", o, a)
	}
	r2.CancelAt(t0)
	r2.CancelAt(t0) // idempotent
	if o, a := h.TokensAt(t0, "A"); o != 0 || a != 8 {
		t.Fatalf("after cancel: got op %v account %v want 0 8", o, a)
	}
	for i, r := range []*Reservation{
		h.Reserve(t0, Request{Op: "A", Cost: 3}),  // > burst
		h.Reserve(t0, Request{Op: "A", Cost: -1}), // invalid
		h.Reserve(t0, Request{Op: "Z", Cost: 1}),  // fine: Z holds 1
		h.Reserve(t0, Request{Op: "Z", Cost: 1}),  // rate 0: never
	} {
		if want := i == 2; r.OK() != want {
			t.Fatalf("step %d: OK got %v want %v", i, r.OK(), want)
		}
		r.Cancel() // no-op when not OK; gives back otherwise
	}
	if o, _ := h.TokensAt(t0, "Z"); o != 1 {
		t.Fatalf("Z after cancel: got %v want 1", o)
	}
}

func TestHierarchyTryAtZeroAllocs(t *testing.T) {
	h := NewHierarchy(HierarchyOptions{Account: Limit{Rate: 1e9, Burst: 1e9}})
	now := t0
	h.TryAt(now, Request{Op: "DescribeUser"})
	allocs := testing.AllocsPerRun(1000, func() {
		now = now.Add(time.Microsecond)
		h.TryAt(now, Request{Op: "DescribeUser"})
	})
	if allocs != 0 {
		t.Fatalf("TryAt: got %v allocs want 0", allocs)
	}
}

func TestWaitVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHierarchy(HierarchyOptions{Account: Limit{Rate: 4, Burst: 4}, Ops: map[string]Limit{"A": {Rate: 2, Burst: 2}}})
		ctx := context.Background()
		start := time.Now()
		// op A 2/s burst 2 inside account 4/s: A-admissions at 0, 0, 0.5, 1.0, 1.5.
		for i, want := range []time.Duration{0, 0, 500 * ms, time.Second, 1500 * ms} {
			if err := h.Wait(ctx, Request{Op: "A"}); err != nil {
				t.Fatalf("step %d: Wait: %v", i, err)
			}
			if got := time.Since(start); got != want {
				t.Fatalf("step %d: admitted at %v want %v", i, got, want)
			}
		}
		// The account has refilled to 4 - 5 + 1.5×4 = 4 (capped); cost 3 on the account only.
		if err := h.Wait(ctx, Request{Cost: 3}); err != nil || time.Since(start) != 1500*ms {
			t.Fatalf("account-only Wait: got %v at %v want nil at 1.5s", err, time.Since(start))
		}
	})
}

func TestWaitDeadlineAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHierarchy(HierarchyOptions{Ops: map[string]Limit{"A": {Rate: 1, Burst: 1}}})
		bg := context.Background()
		if err := h.Wait(bg, Request{Op: "A"}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(bg, 999*ms)
		err := h.Wait(ctx, Request{Op: "A"})
		cancel()
		if !errors.Is(err, ErrWouldExceedDeadline) || time.Since(start) != 0 {
			t.Fatalf("Wait needing 1s, deadline 999ms: got %v after %v want ErrWouldExceedDeadline at once", err, time.Since(start))
		}
		ctx, cancel = context.WithTimeout(bg, time.Second+ms)
		err = h.Wait(ctx, Request{Op: "A"})
		cancel()
		if err != nil || time.Since(start) != time.Second {
			t.Fatalf("Wait needing 1s, deadline 1.001s: got %v after %v want nil after 1s", err, time.Since(start))
		}
		// Cancel while queued: the error wraps context.Canceled and the
		// waiter leaves the queue, taking nothing.
		ctx, cancel = context.WithCancel(bg)
		time.AfterFunc(300*ms, cancel)
		err = h.Wait(ctx, Request{Op: "A"})
		if !errors.Is(err, context.Canceled) || time.Since(start) != 1300*ms {
			t.Fatalf("canceled Wait: got %v at %v want context.Canceled at 1.3s", err, time.Since(start))
		}
		if n := h.Waiting(); n != 0 {
			t.Fatalf("Waiting after cancel: got %d want 0", n)
		}
		if err := h.Wait(bg, Request{Op: "A"}); err != nil || time.Since(start) != 2*time.Second {
			t.Fatalf("Wait after a canceled waiter: got %v at %v want nil at 2s", err, time.Since(start))
		}
		// A deadline that a queue of waiters ahead makes unreachable.
		ahead := make(chan error, 2)
		for range 2 {
			go func() { ahead <- h.Wait(bg, Request{Op: "A"}) }()
		}
		synctest.Wait()
		ctx, cancel = context.WithTimeout(bg, 2500*ms)
		err = h.Wait(ctx, Request{Op: "A"})
		cancel()
		if !errors.Is(err, ErrWouldExceedDeadline) {
			t.Fatalf("Wait behind 2 waiters at 1/s with 2.5s deadline: got %v want ErrWouldExceedDeadline", err)
		}
		for range 2 {
			if err := <-ahead; err != nil {
				t.Fatalf("waiter ahead: %v", err)
			}
		}
		if got := time.Since(start); got != 4*time.Second {
			t.Fatalf("two waiters at 1/s after 2s: done at %v want 4s", got)
		}
	})
}

func TestSetLimitWakesAndFailsWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHierarchy(HierarchyOptions{Ops: map[string]Limit{"A": {Rate: 0.001, Burst: 4}}})
		bg := context.Background()
		if d, _ := h.Try(bg, Request{Op: "A", Cost: 4}); !d.OK {
			t.Fatal("drain refused")
		}
		first, second := make(chan error, 1), make(chan error, 1)
		go func() { first <- h.Wait(bg, Request{Op: "A", Cost: 1}) }()
		synctest.Wait()
		go func() { second <- h.Wait(bg, Request{Op: "A", Cost: 3}) }()
		synctest.Wait()
		start := time.Now()
		_ = h.SetLimit(bg, "A", Limit{Rate: 10, Burst: 2}) // cost 3 can never fit now
		if err := <-second; !errors.Is(err, ErrExceedsBurst) || time.Since(start) != 0 {
			t.Fatalf("waiter of cost 3 after burst lowered to 2: got %v at %v want ErrExceedsBurst at once", err, time.Since(start))
		}
		if err := <-first; err != nil || time.Since(start) != 100*ms {
			t.Fatalf("first waiter after raising the rate: got %v at %v want nil at 100ms", err, time.Since(start))
		}
	})
}

func TestCancelAfterGrantGivesBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHierarchy(HierarchyOptions{Ops: map[string]Limit{"A": {Rate: 1, Burst: 1}}})
		h.Try(context.Background(), Request{Op: "A"})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- h.Wait(ctx, Request{Op: "A"}) }()
		// Grant and cancel at the same instant: whichever the waiter sees,
		// the token must not be lost.
		time.AfterFunc(time.Second, cancel)
		err := <-done
		synctest.Wait()
		o, _ := h.TokensAt(time.Now(), "A")
		switch {
		case err == nil && o == 0:
		case errors.Is(err, context.Canceled) && o == 1:
		default:
			t.Fatalf("got err %v with %v tokens left: want nil with 0, or Canceled with 1", err, o)
		}
	})
}

func TestAvailable(t *testing.T) {
	now := time.Unix(1000, 0)
	h := NewHierarchy(HierarchyOptions{Account: Limit{Rate: 10, Burst: 10},
		Ops: map[string]Limit{"A": {Rate: 2, Burst: 5}}})
	var e Estimator = h
	if tok, w := e.Available("A", now); tok != 5 || w != 0 {
		t.Fatalf("fresh: %v tokens, %d waiters; want 5, 0", tok, w)
	}
	for i := range 5 {
		if d, _ := h.TryAt(now, Request{Op: "A"}); !d.OK {
			t.Fatalf("step %d: not admitted", i)
		}
	}
	if tok, _ := e.Available("A", now); tok != 0 {
		t.Fatalf("after 5: %v tokens, want 0", tok)
	}
	if tok, _ := e.Available("A", now.Add(time.Second)); tok != 2 {
		t.Fatalf("a second later: %v tokens, want 2", tok)
	}
}
