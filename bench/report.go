package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// WriteTable writes results as an aligned text table, one row per run,
// grouped by scenario.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tstrategy\tcalls\tok\tfailed\tcompletion×\tgoodput\t429/ok\thttp/ok\tp50 ms\tp99 ms\tfairness\textra\t")
	prev := ""
	for _, r := range results {
		name := r.Scenario
		if name == prev {
			name = ""
		}
		prev = r.Scenario
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			name, r.Strategy, r.Calls, r.Successes, r.Failures,
			num(r.CompletionRatio, 2), num(r.GoodputRatio, 2), num(r.ThrottlesPerSuccess, 3), num(r.CallsPerSuccess, 2),
			num(r.P50Ms, 0), num(r.P99Ms, 0), num(r.Fairness, 2), extra(r))
	}
	return tw.Flush()
}

// extra is the scenario-specific column.
func extra(r Result) string {
	switch r.Scenario {
	case ScenarioQuotaChange:
		t := "never"
		if r.TimeTo95S >= 0 {
			t = fmt.Sprintf("%.1fs (%.2fs run)", r.TimeTo95S, r.TimeTo95S/r.RateScale)
		}
		return fmt.Sprintf("95%% of 2× in %s; %d 429-burst(s) (%d) after ½", t, r.DecreaseBursts, r.Decrease429s)
	case ScenarioNeighbour:
		return fmt.Sprintf("neighbour ok %d, 429 %d", r.NeighbourAccepted, r.NeighbourThrottled)
	}
	return ""
}

func num(v float64, prec int) string {
	switch {
	case math.IsInf(v, 1):
		return "∞"
	case math.IsNaN(v):
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// WriteJSON writes results as a JSON array of objects (timelines omitted
// unless withTimeline). Infinite ratios (a caller with no success at all) are
// written as null.
func WriteJSON(w io.Writer, results []Result, withTimeline bool) error {
	out := make([]map[string]any, 0, len(results))
	for _, r := range results {
		if !withTimeline {
			r.Timeline = nil
		}
		clean, null := sanitize(r)
		b, err := json.Marshal(clean)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		for _, k := range null {
			m[k] = nil // infinite: e.g. fairness when a caller got nothing
		}
		for _, k := range []string{"completion_ratio", "goodput_ratio", "throttles_per_success", "calls_per_success", "p99_ms", "failures", "fairness"} {
			if _, ok := m[k]; !ok {
				m[k] = nil
			}
		}
		out = append(out, m)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// sanitize replaces non-finite floats (which encoding/json rejects) with
// NaN markers that WriteJSON turns into null.
func sanitize(r Result) (Result, []string) {
	var null []string
	fix := func(name string, v *float64) {
		if math.IsInf(*v, 0) || math.IsNaN(*v) {
			*v = 0
			null = append(null, name)
		}
	}
	fix("completion_ratio", &r.CompletionRatio)
	fix("goodput_ratio", &r.GoodputRatio)
	fix("throttles_per_success", &r.ThrottlesPerSuccess)
	fix("calls_per_success", &r.CallsPerSuccess)
	fix("fairness", &r.Fairness)
	return r, null
}

// Summary returns one line per scenario naming the strategy with the fewest
// 429s per success among those that completed every call.
func Summary(results []Result) string {
	var b strings.Builder
	best := map[string]Result{}
	var order []string
	for _, r := range results {
		cur, ok := best[r.Scenario]
		if !ok {
			order = append(order, r.Scenario)
		}
		if r.Failures == 0 && (!ok || cur.Failures > 0 || r.ThrottlesPerSuccess < cur.ThrottlesPerSuccess) {
			best[r.Scenario] = r
		}
	}
	for _, s := range order {
		if r, ok := best[s]; ok && r.Failures == 0 {
			fmt.Fprintf(&b, "%s: fewest 429s per success with no failures: %s (%.3f)\n", s, r.Strategy, r.ThrottlesPerSuccess)
		}
	}
	return b.String()
}
