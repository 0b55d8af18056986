package backoff_test

import (
	"math"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/backoff"
)

const almostOne = 0.9999999999

func TestFullJitterBounds(t *testing.T) {
	// The v1.48 SDK table (connect-api.md §6.3): upper bounds per attempt.
	type step struct {
		attempt  int
		throttle bool
		max      time.Duration
	}
	steps := []step{
		{1, true, time.Second}, {2, true, 2 * time.Second}, {3, true, 4 * time.Second},
		{4, true, 8 * time.Second}, {5, true, 16 * time.Second}, {6, true, 20 * time.Second}, {30, true, 20 * time.Second},
		{1, false, 50 * time.Millisecond}, {2, false, 100 * time.Millisecond}, {3, false, 200 * time.Millisecond},
		{4, false, 400 * time.Millisecond}, {5, false, 800 * time.Millisecond}, {6, false, 1600 * time.Millisecond},
		{9, false, 12800 * time.Millisecond}, {10, false, 20 * time.Second}, {1000, false, 20 * time.Second},
		{0, true, time.Second}, {-3, false, 50 * time.Millisecond}, // attempt < 1 counts as 1
	}
	var o backoff.Options
	for i, s := range steps {
		if got := o.Delay(s.attempt, s.throttle, 0, 0); got != 0 {
			t.Errorf("step %d: u=0: got %v want 0", i, got)
		}
		if got := o.Delay(s.attempt, s.throttle, 0, 0.5); got != s.max/2 {
			t.Errorf("step %d: u=0.5: got %v want %v", i, got, s.max/2)
		}
		got := o.Delay(s.attempt, s.throttle, 0, almostOne)
		if got > s.max || got < s.max-s.max/1000 {
			t.Errorf("step %d: u≈1: got %v want just under %v", i, got, s.max)
		}
	}
}

func TestEqualJitterBounds(t *testing.T) {
	type step struct {
		attempt  int
		u        float64
		throttle bool
		want     time.Duration
	}
	steps := []step{
		{1, 0, true, 500 * time.Millisecond}, {1, 0.5, true, 750 * time.Millisecond},
		{3, 0, true, 2 * time.Second}, {3, 0.5, true, 3 * time.Second},
		{10, 0, true, 10 * time.Second}, {10, 0.5, true, 15 * time.Second},
		{1, 0, false, 25 * time.Millisecond}, {2, 0.5, false, 75 * time.Millisecond},
	}
	o := backoff.Options{Strategy: backoff.Equal}
	for i, s := range steps {
		if got := o.Delay(s.attempt, s.throttle, 0, s.u); got != s.want {
			t.Errorf("step %d: got %v want %v", i, got, s.want)
		}
	}
}

func TestDecorrelatedJitter(t *testing.T) {
	type step struct {
		prev time.Duration
		u    float64
		want time.Duration
	}
	// base 1 s (throttle), cap 20 s: base + u × (3 × max(prev, base) − base).
	steps := []step{
		{0, 0, time.Second},
		{0, 0.5, 2 * time.Second},
		{2 * time.Second, 0, time.Second},
		{2 * time.Second, 0.5, 3500 * time.Millisecond},
		{5 * time.Second, 0.5, 8 * time.Second},
		{10 * time.Second, 0.9, 20 * time.Second}, // 1 + 0.9 × 29 = 27.1 → cap
		{time.Duration(math.MaxInt64), 0.5, 20 * time.Second},
	}
	o := backoff.Options{Strategy: backoff.Decorrelated}
	for i, s := range steps {
		if got := o.Delay(7, true, s.prev, s.u); got != s.want {
			t.Errorf("step %d: got %v want %v", i, got, s.want)
		}
	}
}

func TestSeedRecipe(t *testing.T) {
	o := backoff.SeedRecipe()
	type step struct {
		attempt int
		max     time.Duration
		retry   bool
	}
	steps := []step{
		{1, time.Second, true}, {2, 2 * time.Second, true}, {5, 16 * time.Second, true},
		{6, 32 * time.Second, true}, {7, 32 * time.Second, true}, {8, 32 * time.Second, false},
	}
	for i, s := range steps {
		for _, throttle := range []bool{true, false} {
			if got := o.Delay(s.attempt, throttle, 0, 0.5); got != s.max/2 {
				t.Errorf("step %d (throttle %v): got %v want %v", i, throttle, got, s.max/2)
			}
		}
		if got := o.Retry(s.attempt); got != s.retry {
			t.Errorf("step %d: retry got %v want %v", i, got, s.retry)
		}
	}
}

func TestRetryLimit(t *testing.T) {
	type step struct {
		max, attempt int
		want         bool
	}
	steps := []step{{0, 1, true}, {0, 2, true}, {0, 3, false}, {1, 1, false}, {-1, 1000, true}, {5, 4, true}, {5, 5, false}}
	for i, s := range steps {
		if got := (backoff.Options{MaxAttempts: s.max}).Retry(s.attempt); got != s.want {
			t.Errorf("step %d: got %v want %v", i, got, s.want)
		}
	}
}

func TestWithRetryAfter(t *testing.T) {
	type step struct{ d, ra, want time.Duration }
	steps := []step{
		{time.Second, 0, time.Second},
		{time.Second, -1, time.Second},
		{time.Second, 500 * time.Millisecond, time.Second},
		{time.Second, 3 * time.Second, 3 * time.Second},
		{time.Second, 10 * time.Second, 6 * time.Second},
	}
	for i, s := range steps {
		if got := backoff.WithRetryAfter(s.d, s.ra); got != s.want {
			t.Errorf("step %d: got %v want %v", i, got, s.want)
		}
	}
}

// TestNeverExceedsCap is a property test over random options and inputs,
// including absurd ones.
func TestNeverExceedsCap(t *testing.T) {
	r := backoff.NewRand(1)
	durs := []time.Duration{0, -time.Second, time.Nanosecond, time.Millisecond, time.Second, time.Hour, time.Duration(math.MaxInt64)}
	us := []float64{0, 0.5, almostOne, 1, 2, -1, math.NaN(), math.Inf(1)}
	pick := func(n int) int { return int(r.Float64() * float64(n)) }
	for i := 0; i < 20000; i++ {
		o := backoff.Options{
			Strategy:      backoff.Strategy(pick(3)),
			ThrottleBase:  durs[pick(len(durs))],
			TransientBase: durs[pick(len(durs))],
			Cap:           durs[pick(len(durs))],
		}
		attempt := pick(100) - 5
		prev := durs[pick(len(durs))]
		u := r.Float64()
		if i%3 == 0 {
			u = us[pick(len(us))]
		}
		d := o.Delay(attempt, i%2 == 0, prev, u)
		limit := o.WithDefaults().Cap
		if d < 0 || d > limit {
			t.Fatalf("case %d: %+v Delay(%d, %v, %v, %v) = %v, cap %v", i, o, attempt, i%2 == 0, prev, u, d, limit)
		}
	}
}

func TestRandDeterministic(t *testing.T) {
	a, b := backoff.NewRand(42), backoff.NewRand(42)
	for i := range 100 {
		x, y := a.Float64(), b.Float64()
		if x != y || x < 0 || x >= 1 {
			t.Fatalf("step %d: got %v and %v", i, x, y)
		}
	}
	var nilRand *backoff.Rand
	if u := nilRand.Float64(); u < 0 || u >= 1 {
		t.Fatalf("nil Rand gave %v", u)
	}
}

func TestStrategyNames(t *testing.T) {
	for _, s := range []backoff.Strategy{backoff.Full, backoff.Equal, backoff.Decorrelated} {
		got, err := backoff.ParseStrategy(s.String())
		if err != nil || got != s {
			t.Errorf("%v: got %v, %v", s, got, err)
		}
	}
	if _, err := backoff.ParseStrategy("exponential"); err == nil {
		t.Error("unknown strategy accepted")
	}
	if err := (backoff.Options{Cap: -1}).Validate(); err == nil {
		t.Error("negative cap accepted")
	}
	if err := (backoff.Options{}).Validate(); err != nil {
		t.Errorf("zero options rejected: %v", err)
	}
}

func FuzzDelay(f *testing.F) {
	f.Add(uint8(0), int64(0), int64(0), int64(0), 3, int64(0), 0.5)
	f.Add(uint8(2), int64(1), int64(-1), int64(math.MaxInt64), 70, int64(math.MaxInt64), 0.99)
	f.Fuzz(func(t *testing.T, strat uint8, tb, xb, c int64, attempt int, prev int64, u float64) {
		o := backoff.Options{Strategy: backoff.Strategy(strat % 3), ThrottleBase: time.Duration(tb),
			TransientBase: time.Duration(xb), Cap: time.Duration(c)}
		for _, th := range []bool{true, false} {
			d := o.Delay(attempt, th, time.Duration(prev), u)
			if d < 0 || d > o.WithDefaults().Cap {
				t.Fatalf("%+v: got %v", o, d)
			}
		}
	})
}
