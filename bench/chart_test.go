package bench

import (
	"bytes"
	"strings"
	"testing"
)

// TestChartScale: the panels of a scenario share one y-scale, set by the
// 98th percentile of its values or 1.25 × the quota, so that one 498/s
// spike does not flatten the others; the HTML report holds the whole table
// as a table, one section per scenario and the quota in the legend.
func TestChartScale(t *testing.T) {
	bins := func(spike int) []Bin {
		var b []Bin
		for i := range 100 {
			b = append(b, Bin{T: float64(i), Accepted: 10, Throttled: i % 3, Quota: 10})
		}
		b[50].Throttled = spike
		return b
	}
	res := []Result{
		{Scenario: ScenarioBurst, Strategy: StrategyTollgate, RateScale: 10, Timeline: bins(0)},
		{Scenario: ScenarioBurst, Strategy: StrategySDKStandard, RateScale: 10, Timeline: bins(498)},
		{Scenario: ScenarioSustained, Strategy: StrategyTollgate, RateScale: 10, Timeline: bins(0)},
	}
	gs := groups(res)
	if len(gs) != 2 || len(gs[0].runs) != 2 {
		t.Fatalf("groups: %+v", gs)
	}
	// 98th percentile of {10 ×200, 0/1/2, 498} is 10; 1.25 × quota 10 =
	// 12.5 wins, rounded up to 20.
	if gs[0].ymax != 20 || gs[1].ymax != 20 {
		t.Errorf("y-scales %v, %v: want 20 (the spike clipped)", gs[0].ymax, gs[1].ymax)
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, res); err != nil {
		t.Fatal(err)
	}
	s := page.String()
	for _, want := range []string{"<table>", "<th>completion×</th>", "<h2>burst:", "<h2>sustained:", "overflow"} {
		if got := strings.Contains(s, want); got != (want != "overflow") {
			t.Errorf("html: contains %q = %v", want, got)
		}
	}
	if strings.Count(s, "data:image/png;base64,") != 3 {
		t.Errorf("html: want 3 panels")
	}
}
