package stagger

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// Strategy names, shared with the shift-change bench.
const (
	StrategyNone     = "none"     // every desktop starts at once
	StrategySeed     = "seed"     // the guide's uniform random delay over SeedWindow
	StrategyHashed   = "hashed"   // FNV-1a slot of the login over the planned window
	StrategyTollgate = "tollgate" // reservations from the start-up bucket
)

// Strategies lists the strategy names in report order.
func Strategies() []string {
	return []string{StrategyNone, StrategySeed, StrategyHashed, StrategyTollgate}
}

// Outcome is the expected result of one strategy: means over the seeded
// trials for the random ones, the single deterministic run otherwise.
type Outcome struct {
	Strategy string `json:"strategy"`
	// Window is the spread of start times the strategy uses (none: 0; seed:
	// SeedWindow; hashed: the planned window; tollgate: until the last
	// reservation).
	Window time.Duration `json:"window_ns"`
	// Throttled is the expected number of 429 responses (retries included).
	Throttled float64 `json:"throttled"`
	// WithinTarget is the probability that the throttled calls stay at or
	// under Options.Target.
	WithinTarget float64 `json:"p_within_target"`
	// Failed is the expected number of agents whose start-up gave up.
	Failed float64 `json:"failed"`
	// Peak is the expected most calls accepted in one second, per operation.
	Peak map[string]float64 `json:"peak_per_second"`
	// ReadyP50, ReadyP99 and ReadyMax are the expected quantiles of the
	// time from the shift start until an agent's start-up ended.
	ReadyP50 time.Duration `json:"ready_p50_ns"`
	ReadyP99 time.Duration `json:"ready_p99_ns"`
	ReadyMax time.Duration `json:"ready_max_ns"`
	// Trials is how many runs the figures average (1: deterministic).
	Trials int `json:"trials"`
}

// Plan is what Compute returns for one synchronized start.
type Plan struct {
	Agents int         `json:"agents"`
	Calls  []Call      `json:"calls"`
	Share  float64     `json:"share"`
	Ops    []Available `json:"ops"`
	// StartUp is the start-up bucket of the reservations: Rate start-ups
	// per second (the tightest operation's available rate ÷ its calls per
	// start-up) and Burst start-ups at once (its available burst less the
	// headroom ÷ its calls per start-up, at least 1).
	StartUp ratelimit.Limit `json:"startup_bucket"`
	// LastStart is the exact time, from the shift start, at which the last
	// agent may start with reservations: (Agents − Burst) ÷ Rate.
	LastStart time.Duration `json:"last_start_ns"`
	// SeedWindow, HashedWindow and RandomWindow: the guide's window, and the
	// smallest windows (multiples of SlotWidth) over which hashed slots and
	// uniform random delays keep the throttled calls at or under Target
	// with at least Probability, estimated from Trials seeded simulations.
	SeedWindow   time.Duration `json:"seed_window_ns"`
	HashedWindow time.Duration `json:"hashed_window_ns"`
	RandomWindow time.Duration `json:"random_window_ns"`
	Target       float64       `json:"target"`
	Probability  float64       `json:"probability"`
	Trials       int           `json:"trials"`
	// StdErr is the standard error of a probability estimated from Trials
	// runs at Probability: sqrt(p(1−p)/Trials).
	StdErr float64 `json:"probability_std_err"`
	// Strategies holds one Outcome per strategy, in Strategies() order.
	Strategies []Outcome `json:"strategies"`
	// Warnings explain where zero throttles cannot be promised.
	Warnings []string `json:"warnings,omitempty"`
}

// StartUpLimit returns the start-up bucket for o (see Plan.StartUp).
func StartUpLimit(o Options) (ratelimit.Limit, error) {
	o, err := o.withDefaults()
	if err != nil {
		return ratelimit.Limit{}, err
	}
	l, _ := startUp(o, o.available())
	return l, nil
}

func startUp(o Options, av []Available) (ratelimit.Limit, []string) {
	rate, burst := math.Inf(1), math.Inf(1)
	var warn []string
	for _, a := range av {
		rate = math.Min(rate, a.Rate/float64(a.Count))
		b := math.Floor((float64(a.Burst) - o.Headroom + 1e-9) / float64(a.Count))
		if float64(a.Burst) < float64(a.Count) {
			warn = append(warn, fmt.Sprintf("%s: one start-up makes %d calls but only %d fit in the burst left for start-ups; its calls can be throttled even one agent at a time", a.Op, a.Count, a.Burst))
		}
		burst = math.Min(burst, b)
	}
	return ratelimit.Limit{Rate: rate, Burst: math.Max(1, burst)}, warn
}

// Schedule returns the reservation delays of agents start-ups all asking at
// the same instant: what the start-up bucket of limit hands out, in order.
func Schedule(limit ratelimit.Limit, agents int) []time.Duration {
	t0 := time.Unix(0, 0)
	b := ratelimit.NewBucket(limit, t0)
	out := make([]time.Duration, agents)
	for i := range out {
		_, out[i] = b.ReserveN(t0, 1)
	}
	return out
}

// Compute plans a synchronized start of o.Agents desktops: the start-up
// bucket, the exact time of the last reserved start, the windows random and
// hashed jitter need, and the expected outcome of each strategy.
//
// Random and hashed figures come from Trials seeded simulations (Simulate)
// with the same random numbers for every candidate window (common random
// numbers, so the estimate moves smoothly with the window); the window is
// the smallest multiple of SlotWidth whose estimated probability of staying
// within Target is at least Probability. The estimate's standard error is
// Plan.StdErr. Hashed slots are modeled as uniformly random slots (the hash
// of logins the planner does not know); the deterministic strategies run
// once.
func Compute(o Options) (Plan, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Plan{}, err
	}
	av := o.available()
	lim, warn := startUp(o, av)
	sched := Schedule(lim, o.Agents)
	p := Plan{
		Agents: o.Agents, Calls: o.Calls, Share: o.Share, Ops: av, StartUp: lim,
		LastStart: slices.Max(sched), SeedWindow: o.SeedWindow,
		Target: o.Target, Probability: o.Probability, Trials: o.Trials,
		StdErr: math.Sqrt(o.Probability * (1 - o.Probability) / float64(o.Trials)), Warnings: warn,
	}
	p.HashedWindow, err = windowFor(o, av, StrategyHashed)
	if err != nil {
		return Plan{}, err
	}
	p.RandomWindow, err = windowFor(o, av, StrategySeed)
	if err != nil {
		return Plan{}, err
	}
	p.Strategies = []Outcome{
		expect(o, av, StrategyNone, 0, o.Trials), // the retries' jitter is random
		expect(o, av, StrategySeed, o.SeedWindow, o.Trials),
		expect(o, av, StrategyHashed, p.HashedWindow, o.Trials),
		expect(o, av, StrategyTollgate, p.LastStart, 1),
	}
	return p, nil
}

// Outcome returns the outcome of strategy in p.
func (p Plan) Outcome(strategy string) (Outcome, bool) {
	for _, s := range p.Strategies {
		if s.Strategy == strategy {
			return s, true
		}
	}
	return Outcome{}, false
}

// trialRand is the random source of trial i: the same for every window.
func trialRand(o Options, i int) *rand.Rand {
	return rand.New(rand.NewPCG(o.Seed, uint64(i)+1))
}

// starts draws the start offsets of one trial.
func starts(o Options, av []Available, strategy string, window time.Duration, rnd *rand.Rand) []time.Duration {
	out := make([]time.Duration, o.Agents)
	switch strategy {
	case StrategySeed:
		for i := range out {
			out[i] = time.Duration(rnd.Float64() * float64(window))
		}
	case StrategyHashed:
		n := Slots(window, o.SlotWidth)
		for i := range out {
			out[i] = time.Duration(rnd.IntN(n)) * o.SlotWidth
		}
	case StrategyTollgate:
		lim, _ := startUp(o, av)
		out = Schedule(lim, o.Agents)
	}
	return out
}

// expect averages trials runs of strategy over window.
func expect(o Options, av []Available, strategy string, window time.Duration, trials int) Outcome {
	out := Outcome{Strategy: strategy, Window: window, Trials: trials, Peak: map[string]float64{}}
	var p50, p99, pmax float64
	within := 0
	for i := range trials {
		rnd := trialRand(o, i)
		r := simulate(o, av, starts(o, av, strategy, window, rnd), rnd)
		out.Throttled += float64(r.Throttled)
		out.Failed += float64(r.Failed)
		if float64(r.Throttled) <= o.Target {
			within++
		}
		for op, n := range r.Peak {
			out.Peak[op] += float64(n)
		}
		p50 += float64(r.ReadyAt(0.50))
		p99 += float64(r.ReadyAt(0.99))
		pmax += float64(r.ReadyAt(1))
	}
	k := float64(trials)
	out.Throttled /= k
	out.Failed /= k
	for op := range out.Peak {
		out.Peak[op] /= k
	}
	out.WithinTarget = float64(within) / k
	out.ReadyP50 = time.Duration(p50 / k)
	out.ReadyP99 = time.Duration(p99 / k)
	out.ReadyMax = time.Duration(pmax / k)
	return out
}

// maxWindow caps the window search: a plan that needs more than a day is
// reported as an error.
const maxWindow = 24 * time.Hour

// windowFor returns the smallest multiple of SlotWidth over which strategy
// (seed: uniform random; hashed: random slots) keeps the throttled calls
// within Target with at least Probability.
func windowFor(o Options, av []Available, strategy string) (time.Duration, error) {
	ok := func(slots int64) bool {
		w := time.Duration(slots) * o.SlotWidth
		need := int(math.Ceil(o.Probability * float64(o.Trials)))
		good, bad := 0, 0
		for i := range o.Trials {
			rnd := trialRand(o, i)
			r := simulate(o, av, starts(o, av, strategy, w, rnd), rnd)
			if float64(r.Throttled) <= o.Target {
				good++
			} else {
				bad++
			}
			if good >= need {
				return true
			}
			if bad > o.Trials-need {
				return false
			}
		}
		return good >= need
	}
	if ok(1) {
		return o.SlotWidth, nil
	}
	// Lower bound: over a window W an operation accepts at most
	// burst + rate·W first attempts, so W < (calls − burst − Target)/rate
	// throttles more than Target for sure.
	lo := int64(1)
	for _, a := range av {
		w := (float64(o.Agents*a.Count-a.Burst) - o.Target) / a.Rate
		if s := int64(w / o.SlotWidth.Seconds()); s > lo {
			lo = s
		}
	}
	if lo > 1 && ok(lo) {
		lo = 1 // the bound is not tight: search from the bottom
	}
	hi := 2 * lo
	for !ok(hi) {
		lo = hi
		hi *= 2
		if time.Duration(hi)*o.SlotWidth > maxWindow {
			return 0, fmt.Errorf("stagger: %s: no window up to %v keeps throttled calls within %v with probability %v: raise the share or the target", strategy, maxWindow, o.Target, o.Probability)
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return time.Duration(hi) * o.SlotWidth, nil
}
