package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// virtual runs scenarios × strategies in a synctest bubble: the real SDK
// client and the simulator, over the in-memory transport, in virtual time, at
// the published rates (scale 1: every time constant, the SDK's included, is
// the real one). Exact and fast.
//
// sdk-adaptive cannot run in a bubble: when its token bucket's deficit
// rounds to a zero-length sleep it loops on time.NewTimer(0), which never
// blocks durably, so virtual time never advances (a livelock, not a bug
// outside a bubble, where the clock moves on). It is measured over real
// HTTP only (tollgate bench); these tests compare with sdk-standard and the
// hand-written recipe.
func virtual(t *testing.T, cfg Config) []Result {
	t.Helper()
	var res []Result
	synctest.Test(t, func(t *testing.T) {
		cfg.InMemory, cfg.RateScale = true, 1
		if cfg.Latency == 0 {
			cfg.Latency, cfg.Jitter = time.Millisecond, 2*time.Millisecond
		}
		var err error
		res, err = Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
	})
	return res
}

func find(t *testing.T, res []Result, scenario, strategy string) Result {
	t.Helper()
	for _, r := range res {
		if r.Scenario == scenario && r.Strategy == strategy {
			return r
		}
	}
	t.Fatalf("no result for %s × %s", scenario, strategy)
	return Result{}
}

type check struct {
	name     string
	got      float64
	min, max float64
}

func checkAll(t *testing.T, label string, steps []check) {
	t.Helper()
	for i, s := range steps {
		t.Logf("%s step %d: %s = %.4f", label, i, s.name, s.got)
		if !(s.got >= s.min && s.got <= s.max) {
			t.Errorf("%s step %d: %s: got %.4f want in [%v, %v]", label, i, s.name, s.got, s.min, s.max)
		}
	}
}

// TestTollgateBurstSustained: the first target, with sdk-standard and
// the hand-written recipe measured in the same run.
func TestTollgateBurstSustained(t *testing.T) {
	res := virtual(t, Config{
		Scenarios:  []string{ScenarioBurst, ScenarioSustained},
		Strategies: []string{StrategyTollgate, StrategySDKStandard, StrategySeed},
	})
	for _, sc := range []string{ScenarioBurst, ScenarioSustained} {
		tg := find(t, res, sc, StrategyTollgate)
		std := find(t, res, sc, StrategySDKStandard)
		seed := find(t, res, sc, StrategySeed)
		checkAll(t, sc, []check{
			{"tollgate failures", float64(tg.Failures), 0, 0},
			{"tollgate completion ÷ lower bound", tg.CompletionRatio, 0.9, 1.05},
			{"tollgate 429s per success", tg.ThrottlesPerSuccess, 0, 0.01},
			{"tollgate HTTP calls per success", tg.CallsPerSuccess, 1, 1.02},
			{"sdk-standard calls that gave up", float64(std.Failures), 1, 1e6},
			{"seed 429s per success ÷ tollgate's (+0.001)", (seed.ThrottlesPerSuccess + 0.001) / (tg.ThrottlesPerSuccess + 0.001), 10, 1e6},
		})
	}
}

// TestTollgateFleet: 16 independent callers (each its own governor and
// learners, no shared state) on one account bucket.
func TestTollgateFleet(t *testing.T) {
	res := virtual(t, Config{
		Scenarios:  []string{ScenarioFleet},
		Strategies: []string{StrategyTollgate, StrategySDKStandard},
		Clients:    16,
	})
	tg := find(t, res, ScenarioFleet, StrategyTollgate)
	std := find(t, res, ScenarioFleet, StrategySDKStandard)
	checkAll(t, "fleet", []check{
		{"tollgate failures", float64(tg.Failures), 0, 0},
		{"tollgate 429s per success", tg.ThrottlesPerSuccess, 0, 0.05},
		{"tollgate fairness", tg.Fairness, 1, 1.5},
		{"tollgate goodput ÷ quota", tg.GoodputRatio, 0.8, 1.01},
		{"sdk-standard 429s per success ÷ tollgate's", std.ThrottlesPerSuccess / tg.ThrottlesPerSuccess, 5, 1e6},
	})
}

// TestTollgateQuotaChange: 95% of a doubled quota within 3 s (of the
// published time scale, which makes it 0.3 s at the bench's default scale
// of 10) is not reachable without probing every few calls; the issue's "3 s
// in scaled time" at scale 10 is 30 unscaled seconds. The learner reaches it
// in about 5 unscaled seconds; we assert 10. After the decrease, one burst.
func TestTollgateQuotaChange(t *testing.T) {
	res := virtual(t, Config{Scenarios: []string{ScenarioQuotaChange}, Strategies: []string{StrategyTollgate}})
	tg := find(t, res, ScenarioQuotaChange, StrategyTollgate)
	checkAll(t, "quota-change", []check{
		{"failures", float64(tg.Failures), 0, 0},
		{"unscaled seconds to 95% of the doubled quota", tg.TimeTo95S, 0, 10},
		{"bursts of 429s after the decrease", float64(tg.DecreaseBursts), 1, 1},
		{"429s per success", tg.ThrottlesPerSuccess, 0, 0.02},
		{"completion ÷ lower bound", tg.CompletionRatio, 0.9, 1.1},
	})
}

// TestTollgateNeighbourMixed: the other scenarios, with looser bounds that
// still catch a regression.
func TestTollgateNeighbourMixed(t *testing.T) {
	res := virtual(t, Config{Scenarios: []string{ScenarioNeighbour, ScenarioMixed}, Strategies: []string{StrategyTollgate}})
	nb := find(t, res, ScenarioNeighbour, StrategyTollgate)
	mx := find(t, res, ScenarioMixed, StrategyTollgate)
	checkAll(t, "neighbour/mixed", []check{
		{"neighbour: failures", float64(nb.Failures), 0, 0},
		{"neighbour: completion ÷ lower bound", nb.CompletionRatio, 0.9, 1.25},
		{"neighbour: 429s per success", nb.ThrottlesPerSuccess, 0, 0.04},
		{"neighbour: the neighbour's 429s per request", float64(nb.NeighbourThrottled) / float64(nb.NeighbourAccepted+nb.NeighbourThrottled), 0, 0.2},
		{"mixed: failures", float64(mx.Failures), 0, 0},
		{"mixed: completion ÷ lower bound", mx.CompletionRatio, 0.9, 1.1},
		{"mixed: 429s per success", mx.ThrottlesPerSuccess, 0, 0.01},
	})
}

// TestReportsAndStrategies: every built-in strategy that can run in a bubble
// runs a small burst and neighbour; the outputs (table, JSON, PNG, HTML) are
// well formed.
func TestReportsAndStrategies(t *testing.T) {
	var strategies []string
	for _, s := range Strategies() {
		if s != StrategySDKAdaptive && isBuiltin(s) {
			strategies = append(strategies, s)
		}
	}
	res := virtual(t, Config{Scenarios: []string{ScenarioBurst, ScenarioNeighbour}, Strategies: strategies, Size: 0.1})
	if len(res) != 2*len(strategies) {
		t.Fatalf("got %d results, want %d", len(res), 2*len(strategies))
	}
	none := find(t, res, ScenarioBurst, StrategyNone)
	if none.Failures == 0 || none.CallsPerSuccess < 1 {
		t.Errorf("none on a burst: %+v, want failures (retries off)", none)
	}
	var table bytes.Buffer
	if err := WriteTable(&table, res); err != nil || !strings.Contains(table.String(), "sdk-standard") {
		t.Fatalf("table: %v\n%s", err, table.String())
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, res, false); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(js.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scenario", "strategy", "completion_ratio", "goodput_ratio", "throttles_per_success", "calls_per_success", "p99_ms", "failures", "fairness"} {
		if _, ok := rows[0][k]; !ok {
			t.Errorf("json: no %q in %v", k, rows[0])
		}
	}
	var img bytes.Buffer
	if err := WritePNG(&img, res); err != nil {
		t.Fatal(err)
	}
	p, err := png.Decode(&img)
	if err != nil || p.Bounds().Dx() != panelWidth*len(strategies) || p.Bounds().Dy() != panelHeight*2 {
		t.Fatalf("png: %v %v", err, p.Bounds())
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, res); err != nil {
		t.Fatal(err)
	}
	if s := page.String(); !strings.Contains(s, "data:image/png;base64,") || strings.Contains(s, "http://") || strings.Contains(s, "https://") {
		t.Fatal("html: not self-contained")
	}
}

func TestRegistry(t *testing.T) {
	RegisterStrategy("test-extra", func(env Env) (Strategy, error) { return sdkStrategy(nil)(env) })
	got := Strategies()
	if got[0] != StrategyTollgate || got[4] != StrategyNone || !slices.Contains(got[5:], "test-extra") {
		t.Fatalf("strategies %v: want the built-in ones first, then the others", got)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate registration did not panic")
		}
		registryMu.Lock()
		delete(registry, "test-extra")
		order = slices.DeleteFunc(order, func(s string) bool { return s == "test-extra" })
		registryMu.Unlock()
	}()
	RegisterStrategy("test-extra", func(Env) (Strategy, error) { return nil, nil })
}

func TestConfigValidate(t *testing.T) {
	for i, s := range []struct {
		c    Config
		want string
	}{
		{Config{}, ""},
		{Config{Scenarios: []string{"nope"}}, "scenario"},
		{Config{Strategies: []string{"nope"}}, "strategy"},
		{Config{RateScale: -1}, "rate-scale"},
		{Config{Clients: -1}, "clients"},
	} {
		err := s.c.Validate()
		if (err == nil) != (s.want == "") || (err != nil && !strings.HasPrefix(err.Error(), s.want)) {
			t.Errorf("step %d: got %v want prefix %q", i, err, s.want)
		}
	}
}

// TestIdealSchedule: the lower bound, step by step, against figures
// worked out by hand.
func TestIdealSchedule(t *testing.T) {
	flat := []quotaStep{{at: 0, rate: 10, burst: 10}}
	steps := []quotaStep{{at: 0, rate: 10, burst: 10}, {at: 10, rate: 20, burst: 20}, {at: 25, rate: 10, burst: 10}}
	all := func(n int) load { return load{op: "A", n: n, rate: math.Inf(1)} }
	for i, s := range []struct {
		in   boundInput
		l    load
		k    int
		want float64
	}{
		{boundInput{sched: flat}, all(110), 5, 0},     // within the burst
		{boundInput{sched: flat}, all(110), 110, 10},  // burst + 10 s at 10/s
		{boundInput{sched: steps}, all(210), 210, 15}, // + 5 s at 20/s
		{boundInput{sched: steps}, all(1210), 1210, 105},
		// Demand under the quota: the last arrival, not (n − burst) ÷ rate.
		{boundInput{sched: flat}, load{op: "A", n: 120, rate: 6}, 120, 119.0 / 6},
		// The neighbour's takes after our last call do not count; three
		// during it do.
		{boundInput{sched: flat, others: []float64{15, 20, 35}}, all(110), 110, 10},
		{boundInput{sched: flat, others: []float64{3, 1, 2}}, all(110), 110, 10.3},
		// The neighbour took 15 at once (5 into debt): ours, issued at
		// 0.1, waits for the bucket to hold a token again.
		{boundInput{sched: flat, others: make([]float64, 15)}, load{op: "A", n: 1, rate: math.Inf(1), from: 0.1}, 1, 0.6},
		// One worker, 0.5 s each way: a call ends every second.
		{boundInput{sched: flat, leg: 0.5}, load{op: "A", n: 3, workers: 1}, 3, 3},
		// A raised burst is not a gift of tokens: 30 at once after the
		// raise at 1 s (10/s, burst 10 → 20/s, burst 20) wait from 1 s.
		{boundInput{sched: []quotaStep{{at: 0, rate: 10, burst: 10}, {at: 1, rate: 20, burst: 20}}}, load{op: "A", n: 30, rate: math.Inf(1), from: 1}, 30, 2},
	} {
		if got := s.in.bound(s.l, s.k); math.Abs(got-s.want) > 1e-6 {
			t.Errorf("step %d: bound = %v want %v", i, got, s.want)
		}
	}
	if got := (boundInput{sched: flat}).served(load{op: "A", n: 120, rate: 6}, 10); got != 61 {
		t.Errorf("served by 10 s = %d want 61", got)
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{5, 1, 4, 2, 3}
	for i, s := range []struct{ p, want float64 }{{0.5, 3}, {0.99, 5}, {0, 1}} {
		if got := percentile(v, s.p); got != s.want {
			t.Errorf("step %d: percentile(%v) = %v want %v", i, s.p, got, s.want)
		}
	}
}
