package bench

import (
	"context"
	"fmt"
	"math"
	"os"
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

// TestShiftChangeMatchesPlanner runs the shift-change scenario in virtual
// time (synctest; the real SDK clients in standard retry mode against the
// simulator in memory; the tollgate agents ask the reservation handler)
// for 50, 200 and 1,000 agents, and checks the planner's figures against
// the measured ones, within 10%: for none and tollgate, the planner's
// expectation; for seed and hashed, whose start times are random draws,
// the planner's model of the very start times the run used. It also checks
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
					if r.Strategy == stagger.StrategySeed || r.Strategy == stagger.StrategyHashed {
						wantThr = float64(r.Model.Throttled)
						wantPeak = map[string]float64{}
						for op, v := range r.Model.Peak {
							wantPeak[op] = float64(v)
						}
					}
					t.Logf("%d agents %-8s throttled %5d (planner %7.1f, expected over draws %7.1f)  gave up %4d  peak/s %v (planner %v)  ready p50 %v p99 %v max %v",
						n, r.Strategy, r.Throttled, wantThr, want.Throttled, r.Failed, r.Peak, wantPeak, r.ReadyP50, r.ReadyP99, r.ReadyMax)
					if !within(float64(r.Throttled), wantThr) {
						t.Errorf("%s: throttled %d, planner %.1f: not within 10%%", r.Strategy, r.Throttled, wantThr)
					}
					for op, v := range wantPeak {
						if !within(float64(r.Peak[op]), v) {
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
