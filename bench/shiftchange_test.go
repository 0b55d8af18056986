package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/stagger"
)

// within reports whether got is within 10% of want, or within 2 calls when
// both are small (a count under 20 moves by more than 10% with one call).
func within(got, want float64) bool {
	d := math.Abs(got - want)
	return d <= 0.10*math.Abs(want) || (d <= 2 && math.Max(got, want) < 20)
}

// jitterSpread runs the planner's model of one start schedule under
// draws different retry jitters (the SDK draws its own, so a run is one
// draw among many) and returns, per figure ("throttled" and each
// operation's peak), the sorted values and their mean.
func jitterSpread(t *testing.T, c ShiftChangeConfig, starts []time.Duration, draws int) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for i := range draws {
		m, err := stagger.Simulate(c.plannerOptions(), starts, rand.New(rand.NewPCG(uint64(i)+1, 0x5eed)))
		if err != nil {
			t.Fatal(err)
		}
		out["throttled"] = append(out["throttled"], float64(m.Throttled))
		for op, v := range m.Peak {
			out[op] = append(out[op], float64(v))
		}
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// plausible reports whether got matches the model of its schedule: within
// 10% (or 2 calls, see within) of the model's mean over jitter draws, or
// inside the middle 99% of those draws.
func plausible(got float64, draws []float64) (bool, float64) {
	var sum float64
	for _, v := range draws {
		sum += v
	}
	mean := sum / float64(len(draws))
	lo := draws[int(0.005*float64(len(draws)))]
	hi := draws[int(0.995*float64(len(draws)-1))]
	return within(got, mean) || (got >= lo && got <= hi), mean
}

// TestShiftChangeMatchesPlanner runs the shift-change scenario in virtual
// time (synctest; the real SDK clients in standard retry mode against the
// simulator in memory; the tollgate agents ask the reservation handler)
// for 50, 200 and 1,000 agents, and checks the planner's figures against
// the measured ones, within 10%: for none and tollgate, the planner's
// expectation; for seed and hashed, whose start times are random draws,
// the planner's model of the very start times the run used (the SDK draws
// its own retry jitter, so the measured figure is checked against the
// model's mean over 200 jitter draws, or the middle 99% of them). It also checks
// the targets: tollgate has no throttles and its last agent is ready by
// the planner's bound.
func TestShiftChangeMatchesPlanner(t *testing.T) {
	counts := []int{50, 200, 1000}
	if testing.Short() || raceEnabled {
		counts = counts[:2] // 1,000 agents: go test -run ShiftChange ./bench (about a minute)
	}
	for _, n := range counts {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rep, err := RunShiftChange(context.Background(), ShiftChangeConfig{Agents: n, InMemory: true, Trials: 100})
				if err != nil {
					t.Fatal(err)
				}
				p := rep.Plan
				for _, r := range rep.Results {
					want, _ := p.Outcome(r.Strategy)
					wantThr := want.Throttled
					wantPeak := want.Peak
					okThr := within(float64(r.Throttled), wantThr)
					okPeak := map[string]bool{}
					for op, v := range wantPeak {
						okPeak[op] = within(float64(r.Peak[op]), v)
					}
					if r.Strategy == stagger.StrategySeed || r.Strategy == stagger.StrategyHashed {
						cfg, err := ShiftChangeConfig{Agents: n, InMemory: true, Trials: 100}.defaults()
						if err != nil {
							t.Fatal(err)
						}
						spread := jitterSpread(t, cfg, r.Starts, 200)
						okThr, wantThr = plausible(float64(r.Throttled), spread["throttled"])
						wantPeak = map[string]float64{}
						for op := range r.Model.Peak {
							okPeak[op], wantPeak[op] = plausible(float64(r.Peak[op]), spread[op])
						}
					}
					t.Logf("%d agents %-8s throttled %5d (planner %7.1f, expected over draws %7.1f)  gave up %4d  peak/s %v (planner %v)  ready p50 %v p99 %v max %v",
						n, r.Strategy, r.Throttled, wantThr, want.Throttled, r.Failed, r.Peak, wantPeak, r.ReadyP50, r.ReadyP99, r.ReadyMax)
					if !okThr {
						t.Errorf("%s: throttled %d, planner %.1f: not within 10%%", r.Strategy, r.Throttled, wantThr)
					}
					for op, v := range wantPeak {
						if !okPeak[op] {
							t.Errorf("%s: peak %s %d/s, planner %.1f: not within 10%%", r.Strategy, op, r.Peak[op], v)
						}
					}
					if r.Strategy == stagger.StrategyTollgate {
						if r.Throttled != 0 || r.Failed != 0 || r.Reserved != n {
							t.Errorf("tollgate: %d throttled, %d gave up, %d reserved; want 0, 0, %d", r.Throttled, r.Failed, r.Reserved, n)
						}
						// Reservations are rounded up to whole milliseconds.
						if r.ReadyMax > p.LastStart+time.Millisecond {
							t.Errorf("tollgate: last ready at %v, after the planner's bound %v", r.ReadyMax, p.LastStart)
						}
					}
				}
			})
		})
	}
}

// TestShiftChangeLoopback runs a small shift change over real HTTP on
// loopback at rate scale 5, all four strategies.
func TestShiftChangeLoopback(t *testing.T) {
	rep, err := RunShiftChange(context.Background(), ShiftChangeConfig{Agents: 30, RateScale: 5, Trials: 40})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 4 {
		t.Fatalf("got %d results", len(rep.Results))
	}
	for _, r := range rep.Results {
		if r.Strategy == stagger.StrategyTollgate && (r.Failed != 0 || r.Reserved != 30) {
			t.Errorf("tollgate over loopback: %+v", r)
		}
		if r.Strategy == stagger.StrategyNone && r.Throttled == 0 {
			t.Errorf("none: 30 desktops at once were never throttled")
		}
	}
	if err := WriteShiftChange(os.Stdout, rep); err != nil {
		t.Fatal(err)
	}
}
