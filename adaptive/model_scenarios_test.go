package adaptive

import (
	"math"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// The scenarios below run learners against the in-test server model
// (model_test.go): exact, deterministic for a seed, and fast. Rates are the
// published ones (DescribeUser: 10/s, burst 10) and times unscaled.

var seed10 = ratelimit.Limit{Rate: 10, Burst: 10}

// binRate returns the accepted rate (per second) of the governed clients over
// [from, to) seconds of a model run.
func binRate(r modelResult, from, to float64) float64 {
	n := 0
	for i, b := range r.perBin {
		t := float64(i) * r.bin.Seconds()
		if t >= from && t < to {
			n += b[0]
		}
	}
	return float64(n) / (to - from)
}

func TestModelBurst(t *testing.T) {
	r := runModel(modelConfig{seed: seed10, phases: []phase{{0, 10, 10}}, clients: 1, workers: 500, demand: 500,
		duration: 200 * time.Second, jitter: 5 * time.Millisecond})
	acc, thr := r.totals()
	ratio := r.finish.Seconds() / ((500 - 10) / 10.0)
	if acc != 500 || ratio > 1.05 || float64(thr)/float64(acc) > 0.01 {
		t.Fatalf("burst: %v, completion ÷ lower bound %.3f; want ≤ 1.05 and ≤ 0.01 429s per success", r, ratio)
	}
}

func TestModelSustained(t *testing.T) {
	r := runModel(modelConfig{seed: seed10, phases: []phase{{0, 10, 10}}, clients: 1, workers: 8,
		duration: 120 * time.Second, jitter: 5 * time.Millisecond})
	acc, thr := r.totals()
	if float64(thr)/float64(acc) > 0.01 || float64(acc) < 0.97*10*120 {
		t.Fatalf("sustained: %v; want ≥ 97%% of the quota and ≤ 0.01 429s per success", r)
	}
}

// TestModelNeighbour: an ungoverned neighbour takes half the bucket from 30 s
// to 60 s. It is felt within a second, our rate settles near what is left,
// and the freed half is taken back within a few seconds of its departure.
func TestModelNeighbour(t *testing.T) {
	c := modelConfig{seed: seed10, phases: []phase{{0, 10, 10}}, clients: 1, workers: 4,
		duration: 90 * time.Second, jitter: 5 * time.Millisecond}
	c.neighbour.rate, c.neighbour.from, c.neighbour.to = 5, 30*time.Second, 60*time.Second
	r := runModel(c)
	acc, thr := r.totals()
	firstCut := -1.0
	for i, rate := range r.rates[0] {
		if ts := float64(i) * r.bin.Seconds(); ts >= 30 && rate < 9.5 {
			firstCut = ts - 30
			break
		}
	}
	steps := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"seconds until the newcomer is felt", firstCut, 0, 1.5},
		{"our rate while the neighbour takes half", binRate(r, 40, 60), 3.5, 6},
		{"the neighbour's accepted share", float64(r.nbAccepted) / float64(r.nbAccepted+r.nbThrot), 0.8, 1},
		{"our rate 6 s after it left", binRate(r, 66, 90), 9.5, 10.5},
		{"429s per success", float64(thr) / float64(acc), 0, 0.03},
	}
	for i, s := range steps {
		if s.got < s.min || s.got > s.max {
			t.Errorf("step %d: %s: got %.3f want in [%v, %v] (%v)", i, s.name, s.got, s.min, s.max, r)
		}
	}
}

// TestModelQuotaChange: the quota doubles at 30 s and halves back at 60 s.
func TestModelQuotaChange(t *testing.T) {
	r := runModel(modelConfig{seed: seed10, phases: []phase{{0, 10, 10}, {30 * time.Second, 20, 20}, {60 * time.Second, 10, 10}},
		clients: 1, workers: 8, duration: 90 * time.Second, jitter: 5 * time.Millisecond})
	reached := -1.0
	for s := 30.0; s < 60; s += 0.5 {
		if binRate(r, s, s+1) >= 0.95*20 {
			reached = s + 1 - 30
			break
		}
	}
	if reached < 0 || reached > 12 {
		t.Errorf("95%% of the doubled quota reached after %.1f s, want within 12 s (%v)", reached, r)
	}
	// After the decrease: one burst of 429s, then quiet for the next 10 s.
	var burst []float64
	for i, b := range r.perBin {
		if ts := float64(i) * r.bin.Seconds(); ts >= 60 && ts < 75 && b[1] > 0 {
			burst = append(burst, ts)
		}
	}
	if len(burst) == 0 || burst[len(burst)-1]-burst[0] > 3 {
		t.Errorf("429s after the decrease at %v s, want one burst of at most 3 s", burst)
	}
	if got := binRate(r, 65, 90); got < 9 || got > 10.5 {
		t.Errorf("rate after the decrease %.2f, want about 10", got)
	}
}

// TestModelFleet: independent learners sharing one bucket keep few 429s and
// converge to fair shares, for crowds up to Peers (and beyond, with Peers
// set to the crowd).
func TestModelFleet(t *testing.T) {
	for i, s := range []struct {
		clients, peers int
		seeds          uint64
	}{{4, 4, 2}, {16, 0, 3}, {32, 32, 1}} {
		for seed := uint64(1); seed <= s.seeds; seed++ {
			r := runModel(modelConfig{seed: seed10, phases: []phase{{0, 10, 10}}, clients: s.clients, workers: 2,
				duration: 240 * time.Second, jitter: 5 * time.Millisecond, rng: seed, dither: true, opts: Options{Peers: s.peers}})
			acc, thr := r.totals()
			tps := float64(thr) / float64(acc)
			if tps > 0.05 || r.fairness() > 1.5 || float64(acc) < 0.85*10*240 {
				t.Errorf("step %d: %d clients, seed %d: %v; want ≤ 0.05 429s per success, fairness ≤ 1.5, ≥ 85%% of the quota",
					i, s.clients, seed, r)
			}
		}
	}
}

// TestModelDitherMatters documents why the Adapter dithers: without it,
// paced clients lock into phase and the shares drift apart.
func TestModelDitherMatters(t *testing.T) {
	r := runModel(modelConfig{seed: seed10, phases: []phase{{0, 10, 10}}, clients: 16, workers: 2,
		duration: 240 * time.Second, jitter: 5 * time.Millisecond, rng: 3})
	if f := r.fairness(); !(f > 1.5) && !math.IsInf(f, 1) {
		t.Logf("without dither fairness %.2f (with it, TestModelFleet holds 1.5)", f)
	}
}
