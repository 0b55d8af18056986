package stagger

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
)

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// TestSimulateSteps checks the model against hand-computed runs of one
// operation at 2/s, burst 5 (GetCurrentUserData's published quota).
func TestSimulateSteps(t *testing.T) {
	type step struct {
		name      string
		starts    []float64
		attempts  int
		throttled int
		failed    int
		peak      int
		readyMax  time.Duration
	}
	z := func(n int) []float64 { return make([]float64, n) }
	for i, s := range []step{
		{"burst absorbs five", z(5), 1, 0, 0, 5, 0},
		{"two over the burst, no retries", z(7), 1, 2, 2, 5, 0},
		{"tokens refill at 0.5 s and 1 s", []float64{0, 0, 0, 0, 0, 0.5, 1}, 1, 0, 0, 6, sec(1)},
		{"0.4 s is too early for a token", []float64{0, 0, 0, 0, 0, 0.4}, 1, 1, 1, 5, sec(0.4)},
		{"spaced at the rate never throttles", []float64{0, 0, 0, 0, 0, 0.5, 1, 1.5, 2, 2.5}, 1, 0, 0, 6, sec(2.5)},
	} {
		st := make([]time.Duration, len(s.starts))
		for j, v := range s.starts {
			st[j] = sec(v)
		}
		r, err := Simulate(Options{Calls: []Call{{Op: "GetCurrentUserData", Count: 1}}, MaxAttempts: s.attempts}, st, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Throttled != s.throttled || r.Failed != s.failed || r.Peak["GetCurrentUserData"] != s.peak || r.ReadyAt(1) != s.readyMax {
			t.Errorf("step %d (%s): got throttled %d failed %d peak %d ready max %v; want %d %d %d %v",
				i, s.name, r.Throttled, r.Failed, r.Peak["GetCurrentUserData"], r.ReadyAt(1), s.throttled, s.failed, s.peak, s.readyMax)
		}
	}
}

// TestSimulateRetries checks the SDK retry model: a throttled call is
// retried within rand × 1 s, then rand × 2 s, and gives up after 3 attempts.
func TestSimulateRetries(t *testing.T) {
	o := Options{Calls: []Call{{Op: "CreateInstance", Count: 1}}} // 0.1/s, burst 1
	for seed := range uint64(50) {
		r, err := Simulate(o, []time.Duration{0, 0}, rand.New(rand.NewPCG(seed, 9)))
		if err != nil {
			t.Fatal(err)
		}
		// The second call can only succeed after 10 s; its retries end
		// before 1 s + 2 s.
		if r.Throttled != 3 || r.Failed != 1 || r.Ready[1] >= sec(3) || r.Ready[1] <= 0 {
			t.Fatalf("seed %d: got %+v, want 3 throttles, 1 failed, last ready in (0, 3 s)", seed, r)
		}
	}
}

func TestScheduleIsTheBucket(t *testing.T) {
	got := Schedule(ratelimit.Limit{Rate: 2, Burst: 4}, 7)
	want := []time.Duration{0, 0, 0, 0, sec(0.5), sec(1), sec(1.5)}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

// TestStartUpSteps checks the start-up bucket and the exact time of the
// last reserved start for several inputs.
func TestStartUpSteps(t *testing.T) {
	custom := quotas.Default()
	if err := custom.SetAPI(quotas.API{Op: "GetAgentSnapshot", Rate: 5, Burst: 10}); err != nil {
		t.Fatal(err)
	}
	type step struct {
		o     Options
		rate  float64
		burst float64
		last  time.Duration
	}
	for i, s := range []step{
		// GetCurrentUserData 2/s burst 5 binds: 2 start-ups/s, 5−1 at once.
		{Options{Agents: 200}, 2, 4, sec(98)},
		{Options{Agents: 3}, 2, 4, 0},
		// Half the quota: 1/s, ⌊2.5⌋ − 1 = 1 at once.
		{Options{Agents: 200, Share: 0.5}, 1, 1, sec(199)},
		// Two ListUsers per start-up: 10/2 = 5/s, (10−1)/2 → 4; GCUD still binds.
		{Options{Agents: 50, Calls: []Call{{"GetCurrentUserData", 1}, {"ListUsers", 2}}}, 2, 4, sec(23)},
		// A profile with user-supplied quotas.
		{Options{Agents: 100, Calls: []Call{{"GetAgentSnapshot", 2}}, Quotas: custom}, 2.5, 4, sec(38.4)},
		// No headroom.
		{Options{Agents: 200, Headroom: -1}, 2, 5, sec(97.5)},
	} {
		p, err := Compute(withFewTrials(s.o))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if p.StartUp.Rate != s.rate || p.StartUp.Burst != s.burst || p.LastStart != s.last {
			t.Errorf("step %d: got %v/s burst %v last %v; want %v/s burst %v last %v", i, p.StartUp.Rate, p.StartUp.Burst, p.LastStart, s.rate, s.burst, s.last)
		}
		tg, _ := p.Outcome(StrategyTollgate)
		if tg.Throttled != 0 || tg.Failed != 0 || tg.ReadyMax != p.LastStart {
			t.Errorf("step %d: reservations: %+v; want no throttles and the last ready at %v", i, tg, p.LastStart)
		}
	}
}

func withFewTrials(o Options) Options {
	if o.Trials == 0 {
		o.Trials = 40
	}
	return o
}

// TestComputeInvariants checks the plan's figures against bounds that hold
// whatever the random draws.
func TestComputeInvariants(t *testing.T) {
	for _, n := range []int{50, 200} {
		p, err := Compute(Options{Agents: n, Trials: 60})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Strategies {
			for _, a := range p.Ops {
				// At most burst + rate tokens in any one second.
				if cap := float64(a.Burst) + a.Rate; s.Peak[a.Op] > cap+1e-9 {
					t.Errorf("%d agents, %s: peak %s %v above burst+rate %v", n, s.Strategy, a.Op, s.Peak[a.Op], cap)
				}
				// No window shorter than (calls − burst)/rate is free of throttles.
				if lower := sec((float64(n*a.Count) - float64(a.Burst)) / a.Rate); p.HashedWindow < lower || p.RandomWindow < lower {
					t.Errorf("%d agents: windows %v/%v below the capacity bound %v of %s", n, p.HashedWindow, p.RandomWindow, lower, a.Op)
				}
			}
		}
		none, _ := p.Outcome(StrategyNone)
		// All at once: every call past the bursts is throttled at least once.
		minThrottled := 0.0
		for _, a := range p.Ops {
			minThrottled += float64(n*a.Count - a.Burst)
		}
		if none.Throttled < minThrottled {
			t.Errorf("%d agents, none: %v throttled, want >= %v", n, none.Throttled, minThrottled)
		}
		h, _ := p.Outcome(StrategyHashed)
		if h.WithinTarget < p.Probability-3*p.StdErr {
			t.Errorf("%d agents, hashed over %v: P(within target) %v, want about %v", n, p.HashedWindow, h.WithinTarget, p.Probability)
		}
		seed, _ := p.Outcome(StrategySeed)
		if seed.Throttled <= h.Throttled {
			t.Errorf("%d agents: 30 s random jitter (%v throttled) should do worse than the planned window (%v)", n, seed.Throttled, h.Throttled)
		}
		if p.LastStart >= p.HashedWindow {
			t.Errorf("%d agents: reservations (%v) should finish before the hashed window (%v)", n, p.LastStart, p.HashedWindow)
		}
	}
}

func TestComputeBadInput(t *testing.T) {
	type step struct {
		o    Options
		want []string
	}
	for i, s := range []step{
		{Options{}, []string{"agents:", "> 0"}},
		{Options{Agents: -1}, []string{"agents:"}},
		{Options{Agents: 10, Calls: []Call{{"GetCurrentUser", 1}}}, []string{"calls:", "unknown operation", "GetCurrentUser"}},
		{Options{Agents: 10, Calls: []Call{}}, []string{"calls:"}},
		{Options{Agents: 10, Share: 1.5}, []string{"share:", "(0, 1]"}},
		{Options{Agents: 10, Share: -0.5}, []string{"share:"}},
		{Options{Agents: 10, Share: math.NaN()}, []string{"share:"}},
		{Options{Agents: 10, Probability: 1}, []string{"probability:"}},
	} {
		_, err := Compute(s.o)
		if err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("step %d: got %v, want an ErrInvalid", i, err)
			continue
		}
		for _, w := range s.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("step %d: %q does not contain %q", i, err, w)
			}
		}
	}
}

func TestParseCallsSteps(t *testing.T) {
	type step struct {
		in   string
		want []Call
		err  string
	}
	for i, s := range []step{
		{"GetCurrentUserData,ListUsers,DescribeUser", []Call{{"GetCurrentUserData", 1}, {"ListUsers", 1}, {"DescribeUser", 1}}, ""},
		{" ListQueues:2 ", []Call{{"ListQueues", 2}}, ""},
		{"ListQueues:0", nil, "count"},
		{"ListQueues,", nil, "entry 2 is empty"},
		{"List Queues", nil, "letters and digits"},
	} {
		got, err := ParseCalls(s.in)
		if s.err != "" {
			if err == nil || !strings.Contains(err.Error(), s.err) || !strings.HasPrefix(err.Error(), "calls: ") {
				t.Errorf("step %d: got %v, want an error about %q", i, err, s.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, s.want) {
			t.Errorf("step %d: got %v, %v want %v", i, got, err, s.want)
		}
	}
}
