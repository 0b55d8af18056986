package bench

import (
	"encoding/base64"
	"html/template"
	"io"
	"strings"
)

// htmlRow is one run's row of the HTML table.
type htmlRow struct {
	Scenario, Strategy                         string
	Calls, OK, Failed                          int
	Completion, Bound, Ratio, Goodput          string
	ThrottlesPerOK, CallsPerOK, P50, P99, Fair string
	Extra                                      string
	First                                      bool // first row of its scenario
	Below                                      bool // ratio under 1: the bound did not hold
}

type htmlPanel struct {
	Alt string
	Src template.URL
}

type htmlSection struct {
	Name, About string
	YMax        float64
	Panels      []htmlPanel
}

// WriteHTML writes a self-contained HTML report: the whole table (every
// row and column on the page, no scrolling box), the summary, then one
// section per scenario with a panel per strategy, the panels of a scenario
// on one y-scale with the quota drawn and clipped spikes labelled. The
// panels are PNGs drawn by go-chart, embedded as data: URIs: nothing is
// fetched when the page is viewed.
func WriteHTML(w io.Writer, results []Result) error {
	var rows []htmlRow
	prev := ""
	for _, r := range results {
		rows = append(rows, htmlRow{
			Scenario: r.Scenario, Strategy: r.Strategy, Calls: r.Calls, OK: r.Successes, Failed: r.Failures,
			Completion: num(r.CompletionS*r.RateScale, 2), Bound: num(r.LowerBoundS*r.RateScale, 2),
			Ratio: num(r.CompletionRatio, 2), Goodput: num(r.GoodputRatio, 2),
			ThrottlesPerOK: num(r.ThrottlesPerSuccess, 3), CallsPerOK: num(r.CallsPerSuccess, 2),
			P50: num(r.P50Ms, 0), P99: num(r.P99Ms, 0), Fair: num(r.Fairness, 2), Extra: extra(r),
			First: r.Scenario != prev, Below: r.Successes > 0 && r.CompletionRatio < 1,
		})
		prev = r.Scenario
	}
	var sections []htmlSection
	for _, g := range groups(results) {
		sc, _ := LookupScenario(g.name)
		s := htmlSection{Name: g.name, About: sc.About, YMax: g.ymax}
		for _, r := range g.runs {
			p, err := panel(r, g.ymax)
			if err != nil {
				return err
			}
			s.Panels = append(s.Panels, htmlPanel{
				Alt: r.Scenario + " × " + r.Strategy + ": accepted and throttled responses per second, with the quota",
				Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(p)),
			})
		}
		sections = append(sections, s)
	}
	scale := 0.0
	if len(results) > 0 {
		scale = results[0].RateScale
	}
	return htmlPage.Execute(w, map[string]any{
		"Rows": rows, "Sections": sections, "Scale": scale,
		"Summary": strings.TrimSpace(Summary(results)), "Clip": clipPercentile * 100,
	})
}

var htmlPage = template.Must(template.New("bench").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tollgate bench</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:none}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
th{background:#f2f2f2;position:sticky;top:0}
td.l,th.l{text-align:left}
tr.first td{border-top:2px solid #999}
td.below{background:#fdd}
.panels{display:flex;flex-wrap:wrap;gap:8px}
.panels img{width:520px;height:300px;border:1px solid #eee}
pre{font-size:13px}
</style>
</head><body>
<h1>tollgate bench</h1>
<p>Strategies side by side against the Connect simulator, every one driving the real aws-sdk-go-v2 connect client, rates ×{{.Scale}}.
<b>completion×</b> is the completion time over the lower bound: the least time in which any strategy could have ended as many calls as succeeded,
given the arrival schedule, the bucket (burst, rate, quota changes), the neighbour's takes during the work, and the callers' workers; it is never below 1.
<b>goodput</b> is the successes over what that ideal strategy had ended by the last success (at most 1).
Times in the table and on the charts are unscaled seconds.</p>
<table>
<thead><tr><th class="l">scenario</th><th class="l">strategy</th><th>calls</th><th>ok</th><th>failed</th><th>completion s</th><th>bound s</th><th>completion×</th><th>goodput</th><th>429/ok</th><th>http/ok</th><th>p50 ms</th><th>p99 ms</th><th>fairness</th><th class="l">extra</th></tr></thead>
<tbody>
{{range .Rows}}<tr{{if .First}} class="first"{{end}}><td class="l">{{if .First}}{{.Scenario}}{{end}}</td><td class="l">{{.Strategy}}</td><td>{{.Calls}}</td><td>{{.OK}}</td><td>{{.Failed}}</td><td>{{.Completion}}</td><td>{{.Bound}}</td><td{{if .Below}} class="below"{{end}}>{{.Ratio}}</td><td>{{.Goodput}}</td><td>{{.ThrottlesPerOK}}</td><td>{{.CallsPerOK}}</td><td>{{.P50}}</td><td>{{.P99}}</td><td>{{.Fair}}</td><td class="l">{{.Extra}}</td></tr>
{{end}}</tbody></table>
<pre>{{.Summary}}</pre>
<p>One section per scenario, one panel per strategy; the panels of a scenario share their vertical scale. Green: accepted per second;
red: 429s per second; grey dashes: the neighbour's accepted calls; blue dashes: the quota (the sum of the scenario's operations' rates).
A value above the scale (the top {{printf "%.0f" .Clip}}th percentile of the scenario's values, or 1.25× the quota) is drawn at the top edge with a black dot, and the highest three are labelled with their value.</p>
{{range .Sections}}<section>
<h2>{{.Name}}: {{.About}}</h2>
<p>Scale 0–{{.YMax}} per second.</p>
<div class="panels">{{range .Panels}}<img alt="{{.Alt}}" src="{{.Src}}">{{end}}</div>
</section>
{{end}}</body></html>
`))
