package ratelimittest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// NewFunc builds a fresh Limiter for one case. account is the account-wide
// limit (the zero Limit means unlimited); ops holds the limits of every
// operation the case uses. Operation names are unique per case, so an
// implementation backed by shared storage (Redis) does not need to clear it
// between cases, though it may.
type NewFunc func(t *testing.T, account ratelimit.Limit, ops map[string]ratelimit.Limit) ratelimit.Limiter

// Run runs the conformance suite against limiters built by newLimiter. It
// uses real time (a networked limiter keeps its own clock): rates of
// 1–200/s over at most about a second per case. Its time checks are ones a
// loaded machine cannot break: a limiter may not admit sooner than its
// rate allows (measured from a clock read before the bucket was emptied),
// and how late a busy machine wakes a caller is never asserted; hangs are
// caught by contexts. That catches a bucket that refills at the wrong
// rate, takes tokens from one bucket when the other refuses, or waits out
// a deadline it cannot meet. The whole suite takes about five seconds.
func Run(t *testing.T, newLimiter NewFunc) {
	cases := []struct {
		name string
		fn   func(*testing.T, NewFunc)
	}{
		{"BurstThenRefusal", testBurstThenRefusal},
		{"AccountBurst", testAccountBurst},
		{"RefillAtRate", testRefillAtRate},
		{"AccountRefusalTakesNothingFromOp", testAccountRefusalKeepsOp},
		{"OpRefusalTakesNothingFromAccount", testOpRefusalKeepsAccount},
		{"WeightedCost", testWeightedCost},
		{"ExceedsBurst", testExceedsBurst},
		{"WaitSucceeds", testWaitSucceeds},
		{"WaitCanceled", testWaitCanceled},
		{"WaitDeadline", testWaitDeadline},
		{"SetLimit", testSetLimit},
		{"SetLimitCanceled", testSetLimitCanceled},
		{"ConcurrentTry", testConcurrentTry},
		{"ConcurrentWait", testConcurrentWait},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newLimiter) })
	}
}

// opName returns an operation name unique to this test.
func opName(t *testing.T, suffix string) string {
	return fmt.Sprintf("suite.%s.%s.%d", t.Name(), suffix, time.Now().UnixNano())
}

func try(t *testing.T, l ratelimit.Limiter, op string, cost float64) ratelimit.Decision {
	t.Helper()
	d, err := l.Try(context.Background(), ratelimit.Request{Op: op, Cost: cost})
	if err != nil {
		t.Fatalf("Try(%s, cost %v): %v", op, cost, err)
	}
	return d
}

// expectSteps runs Try calls in order and checks each outcome.
func expectSteps(t *testing.T, l ratelimit.Limiter, steps []step) {
	t.Helper()
	for i, s := range steps {
		got := try(t, l, s.op, s.cost).OK
		if got != s.ok {
			t.Fatalf("step %d (Try %s cost %v): got OK=%v want %v", i, s.op, s.cost, got, s.ok)
		}
	}
}

type step struct {
	op   string
	cost float64
	ok   bool
}

func testBurstThenRefusal(t *testing.T, newLimiter NewFunc) {
	op := opName(t, "A")
	// 1/s: no token comes back while the burst is taken, however slow the
	// calls; a refill is at most one interval away.
	l := newLimiter(t, ratelimit.Limit{}, map[string]ratelimit.Limit{op: {Rate: 1, Burst: 5}})
	t0 := time.Now() // read before the first take
	for i := range 5 {
		if d := try(t, l, op, 1); !d.OK {
			t.Fatalf("step %d: got refusal (retry in %v) want admission within the burst of 5", i, d.RetryIn)
		}
	}
	d := try(t, l, op, 1)
	checkRefusal(t, "step 5, after a burst of 5", d, time.Second, time.Since(t0))
}

// checkRefusal checks that d refuses and that its RetryIn is one token's
// interval less at most el, the time since before the bucket was full.
func checkRefusal(t *testing.T, what string, d ratelimit.Decision, interval, el time.Duration) {
	t.Helper()
	if d.OK {
		t.Fatalf("%s: got admission want refusal (%v since the first take; a token takes %v)", what, el.Round(time.Millisecond), interval)
	}
	if d.RetryIn > interval+time.Millisecond || d.RetryIn < interval-el-5*time.Millisecond {
		t.Fatalf("%s: RetryIn %v want between %v and %v (one token, less the %v spent)", what, d.RetryIn,
			max(0, interval-el-5*time.Millisecond).Round(time.Millisecond), interval, el.Round(time.Millisecond))
	}
}

func testAccountBurst(t *testing.T, newLimiter NewFunc) {
	a, b := opName(t, "A"), opName(t, "B")
	l := newLimiter(t, ratelimit.Limit{Rate: 1, Burst: 3}, map[string]ratelimit.Limit{
		a: {Rate: 100, Burst: 100}, b: {Rate: 100, Burst: 100},
	})
	t0 := time.Now()
	expectSteps(t, l, []step{{a, 1, true}, {b, 1, true}, {a, 1, true}, {b, 1, false}, {a, 1, false}})
	d := try(t, l, b, 1)
	checkRefusal(t, "after the account burst", d, time.Second, time.Since(t0))
}

// testRefillAtRate drains the operation's bucket, waits, and takes what
// came back. Both bounds are measured against the clock, so a loaded
// machine (late wake-ups, slow round trips) only moves the window, never
// the verdict. The bucket refused the Try that began at emptyBy, so it
// held under one token then; the clock read after that refusal
// (drainedAt) is later still. By the first take at countFrom the bucket
// holds at least rate×(countFrom−drainedAt) tokens (capped at the burst).
// By the end it cannot have given more than it earned since emptyBy, nor
// more than a full burst at countFrom plus what it earned while counting.
func testRefillAtRate(t *testing.T, newLimiter NewFunc) {
	const rate, burst = 100.0, 20.0
	op := opName(t, "A")
	l := newLimiter(t, ratelimit.Limit{}, map[string]ratelimit.Limit{op: {Rate: rate, Burst: burst}})
	drained := 0
	var emptyBy time.Time
	for {
		emptyBy = time.Now()
		if !try(t, l, op, 1).OK {
			break
		}
		drained++
		if drained > 400 {
			t.Fatalf("drain: more than 400 admissions from a bucket of %v at %v/s", burst, rate)
		}
	}
	drainedAt := time.Now()
	if drained < burst {
		t.Fatalf("drain: got %d admissions want at least the burst of %v", drained, burst)
	}
	time.Sleep(100 * time.Millisecond)
	countFrom := time.Now()
	n := 0
	for try(t, l, op, 1).OK {
		n++
		if n > 400 {
			t.Fatalf("refill: more than 400 admissions from a bucket of %v", burst)
		}
	}
	end := time.Now()
	least := math.Min(burst, rate*countFrom.Sub(drainedAt).Seconds())
	most := math.Min(rate*end.Sub(emptyBy).Seconds(), burst+rate*end.Sub(countFrom).Seconds()) + 1
	if float64(n) < math.Floor(least)-1 || float64(n) > most {
		t.Fatalf("refilled %d in %v (first take after %v): want between %.1f and %.1f at %v/s, burst %v",
			n, end.Sub(drainedAt).Round(time.Millisecond), countFrom.Sub(drainedAt).Round(time.Millisecond), math.Floor(least)-1, most, rate, burst)
	}
}

// slow is a rate at which no token comes back during a test.
const slow = 0.01

func testAccountRefusalKeepsOp(t *testing.T, newLimiter NewFunc) {
	a := opName(t, "A")
	l := newLimiter(t, ratelimit.Limit{Rate: slow, Burst: 3}, map[string]ratelimit.Limit{a: {Rate: slow, Burst: 4}})
	// Account 3, op 4: three admissions empty the account and leave the op 1.
	steps := []step{{a, 1, true}, {a, 1, true}, {a, 1, true}}
	for range 10 {
		steps = append(steps, step{a, 1, false}) // refused by the account
	}
	expectSteps(t, l, steps)
	// Refill the account quickly; the op must still hold exactly 1 token.
	setLimit(t, l, "", ratelimit.Limit{Rate: 1000, Burst: 3})
	time.Sleep(20 * time.Millisecond)
	expectSteps(t, l, []step{{a, 1, true}, {a, 1, false}})
	if d := try(t, l, a, 1); d.RetryIn < 10*time.Second {
		t.Fatalf("refusal by the op bucket: got RetryIn %v want about 100s (rate %v)", d.RetryIn, slow)
	}
}

func testOpRefusalKeepsAccount(t *testing.T, newLimiter NewFunc) {
	b, c := opName(t, "B"), opName(t, "C")
	l := newLimiter(t, ratelimit.Limit{Rate: slow, Burst: 3}, map[string]ratelimit.Limit{
		b: {Rate: slow, Burst: 1}, c: {Rate: slow, Burst: 10},
	})
	steps := []step{{b, 1, true}}
	for range 10 {
		steps = append(steps, step{b, 1, false}) // refused by B's bucket
	}
	// The account must still hold 2.
	steps = append(steps, step{c, 1, true}, step{c, 1, true}, step{c, 1, false})
	expectSteps(t, l, steps)
}

func testWeightedCost(t *testing.T, newLimiter NewFunc) {
	a := opName(t, "A")
	l := newLimiter(t, ratelimit.Limit{Rate: slow, Burst: 20}, map[string]ratelimit.Limit{a: {Rate: slow, Burst: 10}})
	expectSteps(t, l, []step{
		{a, 4, true},  // 6 left
		{a, 4, true},  // 2 left
		{a, 4, false}, // all or nothing
		{a, 2, true},  // 0 left
		{a, 0, false}, // cost 0 means 1
	})
	b := opName(t, "B")
	l = newLimiter(t, ratelimit.Limit{Rate: slow, Burst: 5}, map[string]ratelimit.Limit{b: {Rate: slow, Burst: 10}})
	expectSteps(t, l, []step{
		{b, 3, true},  // account 2 left, op 7
		{b, 3, false}, // account refuses; op keeps 7
		{b, 2, true},  // account 0
	})
	setLimit(t, l, "", ratelimit.Limit{Rate: 1000, Burst: 10})
	time.Sleep(30 * time.Millisecond)
	expectSteps(t, l, []step{{b, 5, true}, {b, 1, false}}) // op had exactly 5
}

func testExceedsBurst(t *testing.T, newLimiter NewFunc) {
	a := opName(t, "A")
	l := newLimiter(t, ratelimit.Limit{Rate: 100, Burst: 20}, map[string]ratelimit.Limit{a: {Rate: 100, Burst: 5}})
	d, err := l.Try(context.Background(), ratelimit.Request{Op: a, Cost: 6})
	if d.OK || !errors.Is(err, ratelimit.ErrExceedsBurst) {
		t.Fatalf("Try cost 6 > op burst 5: got %+v, %v want refusal wrapping ErrExceedsBurst", d, err)
	}
	d, err = l.Try(context.Background(), ratelimit.Request{Op: a, Cost: 21})
	if d.OK || !errors.Is(err, ratelimit.ErrExceedsBurst) {
		t.Fatalf("Try cost 21 > account burst 20: got %+v, %v want refusal wrapping ErrExceedsBurst", d, err)
	}
	// A Wait that waited instead would end with ctx's error.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err = l.Wait(ctx, ratelimit.Request{Op: a, Cost: 6})
	if !errors.Is(err, ratelimit.ErrExceedsBurst) {
		t.Fatalf("Wait cost 6 > burst 5: got %v want ErrExceedsBurst at once", err)
	}
	expectSteps(t, l, []step{{a, 5, true}}) // the refusals took nothing
}

func testWaitSucceeds(t *testing.T, newLimiter NewFunc) {
	const rate = 50.0
	a := opName(t, "A")
	l := newLimiter(t, ratelimit.Limit{}, map[string]ratelimit.Limit{a: {Rate: rate, Burst: 1}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The clock is read before the Try that empties the bucket, so however
	// late this goroutine runs, the next token is at least one interval
	// after start: Wait must not return sooner. How soon after that it
	// returns is the ctx's concern (a loaded machine may be late), not an
	// assertion.
	start := time.Now()
	if !try(t, l, a, 1).OK {
		t.Fatal("first Try refused on a full bucket")
	}
	if err := l.Wait(ctx, ratelimit.Request{Op: a}); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if el := time.Since(start); el < 18*time.Millisecond {
		t.Fatalf("Wait for one token at %v/s: returned after %v, before the token (20ms)", rate, el)
	}
	// Ten more: the burst is 1, so they need at least nine more intervals
	// after the token the last Wait took.
	start = time.Now()
	for i := range 10 {
		if err := l.Wait(ctx, ratelimit.Request{Op: a}); err != nil {
			t.Fatalf("Wait %d: %v", i, err)
		}
	}
	if el := time.Since(start); el < 170*time.Millisecond {
		t.Fatalf("10 Waits at %v/s: took %v, want at least 9 intervals (180ms)", rate, el)
	}
}

func testWaitCanceled(t *testing.T, newLimiter NewFunc) {
	a := opName(t, "A")
	l := newLimiter(t, ratelimit.Limit{}, map[string]ratelimit.Limit{a: {Rate: slow, Burst: 1}})
	if !try(t, l, a, 1).OK {
		t.Fatal("first Try refused on a full bucket")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx, ratelimit.Request{Op: a}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a canceled ctx: got %v want an error wrapping context.Canceled", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := l.Wait(ctx, ratelimit.Request{Op: a})
	el := time.Since(start)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ratelimit.ErrWouldExceedDeadline) {
		t.Fatalf("Wait canceled after 50ms: got %v want an error wrapping context.Canceled", err)
	}
	// The token is 100 s away: returning well before it means the Wait
	// woke on the cancel (how promptly is the machine's business).
	if el < 40*time.Millisecond || el > 30*time.Second {
		t.Fatalf("Wait canceled after 50ms: returned after %v", el)
	}
}

func testWaitDeadline(t *testing.T, newLimiter NewFunc) {
	a := opName(t, "A")
	l := newLimiter(t, ratelimit.Limit{}, map[string]ratelimit.Limit{a: {Rate: 1, Burst: 1}})
	if !try(t, l, a, 1).OK {
		t.Fatal("first Try refused on a full bucket")
	}
	drained := time.Now() // read after the emptying Try: the token is due by drained+1s
	// The next token is 1s away; a 500ms deadline cannot be met. Failing
	// at once means before the deadline (a limiter that waits it out ends
	// with ctx's error instead).
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := l.Wait(ctx, ratelimit.Request{Op: a})
	if !errors.Is(err, ratelimit.ErrWouldExceedDeadline) {
		t.Fatalf("Wait needing 1s with a 500ms deadline: got %v want ErrWouldExceedDeadline", err)
	}
	if el := time.Since(start); el >= 500*time.Millisecond {
		t.Fatalf("Wait should fail at once when the deadline cannot be met: took %v", el)
	}
	// The failed Wait took nothing: the token is there 1s after the drain
	// (had the Wait reserved it, the next would come a second later).
	time.Sleep(time.Until(drained.Add(1100 * time.Millisecond)))
	if d := try(t, l, a, 1); !d.OK {
		t.Fatalf("Try %v after the drain: refused (RetryIn %v); the failed Wait took a token", time.Since(drained).Round(time.Millisecond), d.RetryIn)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	if err := l.Wait(ctx2, ratelimit.Request{Op: a}); err != nil {
		t.Fatalf("Wait with room before the deadline: %v", err)
	}
}

func testSetLimit(t *testing.T, newLimiter NewFunc) {
	a := opName(t, "A")
	l := newLimiter(t, ratelimit.Limit{Rate: 1000, Burst: 100}, map[string]ratelimit.Limit{a: {Rate: slow, Burst: 2}})
	expectSteps(t, l, []step{{a, 1, true}, {a, 1, true}, {a, 1, false}})
	// 4/s leaves 250 ms between tokens: two networked round trips on a
	// loaded machine do not earn the third.
	raised := ratelimit.Limit{Rate: 4, Burst: 2}
	setLimit(t, l, a, raised)
	if got := l.Limit(a); got != raised {
		t.Fatalf("Limit(%s): got %+v want %+v", a, got, raised)
	}
	time.Sleep(750 * time.Millisecond) // 3 tokens' worth at 4/s; capped at 2
	expectSteps(t, l, []step{{a, 1, true}, {a, 1, true}, {a, 1, false}})
	time.Sleep(500 * time.Millisecond) // 2 tokens' worth; capped at 1 below
	lowered := ratelimit.Limit{Rate: slow, Burst: 1}
	setLimit(t, l, a, lowered) // tokens capped at the new burst
	expectSteps(t, l, []step{{a, 1, true}, {a, 1, false}})
	acct := ratelimit.Limit{Rate: slow, Burst: 50}
	setLimit(t, l, "", acct)
	if got := l.Limit(""); got != acct {
		t.Fatalf("Limit(\"\"): got %+v want %+v", got, acct)
	}
}

// testSetLimitCanceled: SetLimit with a context already canceled reports
// it (errors.Is context.Canceled) and changes nothing.
func testSetLimitCanceled(t *testing.T, newLimiter NewFunc) {
	a := opName(t, "A")
	was := ratelimit.Limit{Rate: slow, Burst: 2}
	l := newLimiter(t, ratelimit.Limit{}, map[string]ratelimit.Limit{a: was})
	expectSteps(t, l, []step{{a, 1, true}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := l.SetLimit(ctx, a, ratelimit.Limit{Rate: 20, Burst: 9})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("SetLimit with a canceled ctx: got %v want an error wrapping context.Canceled", err)
	}
	if got := l.Limit(a); got != was {
		t.Fatalf("Limit(%s) after a canceled SetLimit: got %+v want %+v", a, got, was)
	}
}

func testConcurrentTry(t *testing.T, newLimiter NewFunc) {
	const opRate, opBurst, acctRate, acctBurst = 100.0, 10.0, 150.0, 15.0
	ops := []string{opName(t, "A"), opName(t, "B"), opName(t, "C")}
	lim := map[string]ratelimit.Limit{}
	for _, op := range ops {
		lim[op] = ratelimit.Limit{Rate: opRate, Burst: opBurst}
	}
	l := newLimiter(t, ratelimit.Limit{Rate: acctRate, Burst: acctBurst}, lim)
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(600 * time.Millisecond)
	for g := range 2 * len(ops) {
		op := ops[g%len(ops)]
		wg.Go(func() {
			n := 0
			for time.Now().Before(stop) {
				d, err := l.Try(context.Background(), ratelimit.Request{Op: op})
				if err != nil {
					t.Errorf("Try: %v", err)
					return
				}
				if d.OK {
					n++
				}
				time.Sleep(200 * time.Microsecond)
			}
			mu.Lock()
			counts[op] += n
			mu.Unlock()
		})
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	total := 0
	for _, op := range ops {
		if max := opBurst + opRate*el + 1; float64(counts[op]) > max {
			t.Errorf("op %s admitted %d in %.3fs: want at most burst+rate×T = %.1f", op, counts[op], el, max)
		}
		total += counts[op]
	}
	if max := acctBurst + acctRate*el + 1; float64(total) > max {
		t.Errorf("account admitted %d in %.3fs: want at most burst+rate×T = %.1f", total, el, max)
	}
	// The buckets start full: whatever the machine's speed, the account's
	// burst is admitted. (How close to the rate concurrent callers get is a
	// speed figure; RefillAtRate checks the refill.)
	if float64(total) < acctBurst {
		t.Errorf("account admitted %d in %.3fs: want at least its burst of %v", total, el, acctBurst)
	}
}

func testConcurrentWait(t *testing.T, newLimiter NewFunc) {
	const rate, burst, goroutines, each = 100.0, 5.0, 8, 8
	a := opName(t, "A")
	l := newLimiter(t, ratelimit.Limit{}, map[string]ratelimit.Limit{a: {Rate: rate, Burst: burst}})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for range goroutines {
		wg.Go(func() {
			for range each {
				if err := l.Wait(ctx, ratelimit.Request{Op: a}); err != nil {
					t.Errorf("Wait: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	// 64 admissions: 5 from the burst, 59 earned at 100/s.
	want := time.Duration((goroutines*each - burst) / rate * float64(time.Second))
	// Never sooner than the rate allows; a Wait that never returns fails
	// on ctx (8 s). How much later a busy machine finishes is not asserted.
	if el < want*9/10 {
		t.Fatalf("%d Waits at %v/s burst %v: took %v, less than the %v the rate allows", goroutines*each, rate, burst, el, want)
	}
}

// setLimit calls l.SetLimit and fails the test on an error.
func setLimit(t *testing.T, l ratelimit.Limiter, op string, lim ratelimit.Limit) {
	t.Helper()
	if err := l.SetLimit(context.Background(), op, lim); err != nil {
		t.Fatalf("SetLimit(%q, %+v): %v", op, lim, err)
	}
}
