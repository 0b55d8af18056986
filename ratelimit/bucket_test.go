package ratelimit

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const ms = time.Millisecond

// bstep is one operation on a Bucket at t0+at.
type bstep struct {
	at     time.Duration
	do     string // "allow", "reserve", "delay", "return", "set", "tokens"
	n      float64
	limit  Limit // for "set"
	ok     bool  // allow, reserve
	delay  time.Duration
	tokens float64 // TokensAt after the step
}

func runBucketSteps(t *testing.T, b Bucket, steps []bstep) {
	t.Helper()
	for i, s := range steps {
		now := t0.Add(s.at)
		switch s.do {
		case "allow":
			if got := b.AllowN(now, s.n); got != s.ok {
				t.Fatalf("step %d: AllowN(%v): got %v want %v", i, s.n, got, s.ok)
			}
		case "reserve":
			ok, d := b.ReserveN(now, s.n)
			if ok != s.ok || d != s.delay {
				t.Fatalf("step %d: ReserveN(%v): got %v, %v want %v, %v", i, s.n, ok, d, s.ok, s.delay)
			}
		case "delay":
			if got := b.DelayN(now, s.n); got != s.delay {
				t.Fatalf("step %d: DelayN(%v): got %v want %v", i, s.n, got, s.delay)
			}
		case "return":
			b.ReturnN(now, s.n)
		case "set":
			b.SetLimit(now, s.limit)
		case "tokens":
		default:
			t.Fatalf("step %d: unknown op %q", i, s.do)
		}
		if got := b.TokensAt(now); math.Abs(got-s.tokens) > 1e-9 {
			t.Fatalf("step %d (%s): got %v tokens want %v", i, s.do, got, s.tokens)
		}
	}
}

func TestBucketAllow(t *testing.T) {
	runBucketSteps(t, NewBucket(Limit{Rate: 2, Burst: 5}, t0), []bstep{
		{at: 0, do: "tokens", tokens: 5},
		{at: 0, do: "allow", n: 3, ok: true, tokens: 2},
		{at: 0, do: "allow", n: 3, ok: false, tokens: 2}, // all or nothing
		{at: 0, do: "allow", n: 2, ok: true, tokens: 0},
		{at: 0, do: "allow", n: 1, ok: false, tokens: 0},
		{at: 250 * ms, do: "tokens", tokens: 0.5},
		{at: 499 * ms, do: "allow", n: 1, ok: false, tokens: 0.998},
		{at: 500 * ms, do: "allow", n: 1, ok: true, tokens: 0},
		{at: 10 * time.Second, do: "tokens", tokens: 5}, // capped at burst
		{at: 5 * time.Second, do: "tokens", tokens: 5},  // TokensAt is read-only: last is still 500ms
		{at: 10 * time.Second, do: "allow", n: 0.5, ok: true, tokens: 4.5},
		{at: 9 * time.Second, do: "allow", n: 4.5, ok: true, tokens: 0}, // earlier time: treated as last
		{at: 10 * time.Second, do: "allow", n: 6, ok: false, tokens: 0},
	})
}

func TestBucketReserve(t *testing.T) {
	runBucketSteps(t, NewBucket(Limit{Rate: 4, Burst: 2}, t0), []bstep{
		{at: 0, do: "reserve", n: 2, ok: true, delay: 0, tokens: 0},
		{at: 0, do: "reserve", n: 1, ok: true, delay: 250 * ms, tokens: -1},
		{at: 0, do: "reserve", n: 2, ok: true, delay: 750 * ms, tokens: -3},
		{at: 0, do: "reserve", n: 3, ok: false, delay: InfDuration, tokens: -3}, // > burst
		{at: 0, do: "delay", n: 1, delay: time.Second, tokens: -3},
		{at: 500 * ms, do: "allow", n: 1, ok: false, tokens: -1},
		{at: 500 * ms, do: "return", n: 2, tokens: 1}, // a cancelled reservation
		{at: 500 * ms, do: "delay", n: 2, delay: 250 * ms, tokens: 1},
		{at: 500 * ms, do: "delay", n: 3, delay: InfDuration, tokens: 1},
		{at: time.Second, do: "return", n: 5, tokens: 2}, // capped at burst
	})
}

func TestBucketSetLimit(t *testing.T) {
	runBucketSteps(t, NewBucket(Limit{Rate: 1, Burst: 10}, t0), []bstep{
		{at: 0, do: "allow", n: 10, ok: true, tokens: 0},
		{at: 2 * time.Second, do: "set", limit: Limit{Rate: 10, Burst: 10}, tokens: 2}, // earned at the old rate
		{at: 2500 * ms, do: "tokens", tokens: 7},
		{at: 2500 * ms, do: "set", limit: Limit{Rate: 10, Burst: 4}, tokens: 4}, // capped
		{at: 2500 * ms, do: "set", limit: Limit{Rate: 0, Burst: 4}, tokens: 4},
		{at: 9 * time.Second, do: "allow", n: 4, ok: true, tokens: 0},
		{at: 99 * time.Second, do: "reserve", n: 1, ok: false, delay: InfDuration, tokens: 0}, // rate 0: never
		{at: 99 * time.Second, do: "delay", n: 1, delay: InfDuration, tokens: 0},
		{at: 99 * time.Second, do: "set", limit: Limit{Rate: Inf}, tokens: 0},
		{at: 99 * time.Second, do: "allow", n: 1e9, ok: true, tokens: 0},                        // unlimited
		{at: 99 * time.Second, do: "set", limit: Limit{Rate: 1, Burst: 3}, tokens: 3},           // leaves unlimited full
		{at: 99 * time.Second, do: "set", limit: Limit{Rate: math.NaN(), Burst: -1}, tokens: 0}, // nonsense: rate 0, burst 0
	})
}

func TestBucketFractionalRateExact(t *testing.T) {
	// After waiting exactly the delay DelayN reports, the tokens are there,
	// for awkward rates too.
	for i, rate := range []float64{3, 0.1, 7.3, 1.0 / 3, 1e6 / 7} {
		b := NewBucket(Limit{Rate: rate, Burst: 1}, t0)
		now := t0
		for j := range 50 {
			if !b.AllowN(now, 1) {
				d := b.DelayN(now, 1)
				now = now.Add(d)
				if !b.AllowN(now, 1) {
					t.Fatalf("step %d.%d: rate %v: got refusal after waiting the reported %v want admission", i, j, rate, d)
				}
			}
		}
		want := time.Duration(49 / rate * float64(time.Second))
		if got := now.Sub(t0); got < want-time.Microsecond || got > want+50*time.Nanosecond {
			t.Fatalf("step %d: rate %v: 50 admissions took %v want %v", i, rate, got, want)
		}
	}
}

func TestBucketZeroAllocs(t *testing.T) {
	b := NewBucket(Limit{Rate: 1000, Burst: 10}, t0)
	now := t0
	allocs := testing.AllocsPerRun(1000, func() {
		now = now.Add(ms)
		b.AllowN(now, 1)
		b.ReserveN(now, 1)
		b.TokensAt(now)
		b.DelayN(now, 1)
	})
	if allocs != 0 {
		t.Fatalf("got %v allocs per run want 0", allocs)
	}
}

func FuzzBucketNeverExceedsRate(f *testing.F) {
	f.Add(2.0, 5.0, []byte{1, 2, 3, 200, 4})
	f.Add(0.5, 1.0, []byte{0, 0, 0, 255})
	f.Fuzz(func(t *testing.T, rate, burst float64, gaps []byte) {
		if !(rate > 0 && rate < 1e6 && burst >= 1 && burst < 1e6) {
			t.Skip()
		}
		b := NewBucket(Limit{Rate: rate, Burst: burst}, t0)
		now := t0
		admitted := 0.0
		for _, g := range gaps {
			now = now.Add(time.Duration(g) * ms)
			n := float64(g%4) + 0.5
			if b.AllowN(now, n) {
				admitted += n
			}
			if tk := b.TokensAt(now); tk < -epsilon || tk > burst {
				t.Fatalf("tokens %v outside [0, %v]", tk, burst)
			}
		}
		if max := burst + rate*now.Sub(t0).Seconds() + 1e-6; admitted > max {
			t.Fatalf("admitted %v > burst + rate×T = %v", admitted, max)
		}
	})
}
