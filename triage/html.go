package triage

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
)

// RenderHTML writes a self-contained HTML page: the diagnosis, and per
// finding an inline SVG chart of calls per second against the quota with
// the throttles overlaid, drawn with go-chart. The page loads nothing from
// the network and runs no script.
func RenderHTML(w io.Writer, r *Report) error {
	type view struct {
		F        *Finding
		N        int
		Headline string
		What     string
		Where    string
		Who      string
		Chart    template.HTML
		ChartErr string
		Caption  string
	}
	data := struct {
		R        *Report
		Findings []view
		Span     string
		Classes  string
	}{R: r, Classes: classList(r.ErrorsByClass)}
	if !r.Start.IsZero() {
		data.Span = stamp(r.Start) + " to " + stamp(r.End)
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		v := view{F: f, N: i + 1, Headline: headline(f), What: whatLine(f), Where: whereLine(f), Who: whoLine(f)}
		v.Caption = fmt.Sprintf("%s: calls per second (blue) and refused calls per second (red) against the quota's rate (dashed) and burst (dotted).", f.Operation)
		if f.Series.Step > 1 {
			v.Caption += fmt.Sprintf(" Each point is the busiest second of %d seconds.", f.Series.Step)
		}
		svg, err := FindingChart(f)
		if err != nil {
			v.ChartErr = err.Error()
		} else {
			v.Chart = template.HTML(svg) // produced by go-chart from numbers and escaped labels only
		}
		data.Findings = append(data.Findings, v)
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, data); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// FindingChart draws a finding's series as an SVG document: calls per
// second (blue area), throttled calls per second (red), the quota's rate
// (dashed) and burst (dotted).
func FindingChart(f *Finding) (string, error) {
	graph, err := findingChart(f)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := graph.Render(chart.SVG, &buf); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// findingChart builds the chart of FindingChart.
func findingChart(f *Finding) (*chart.Chart, error) {
	s := f.Series
	n := len(s.Calls)
	if n == 0 {
		return nil, fmt.Errorf("no timed records to chart")
	}
	xs := make([]time.Time, 0, n+1)
	calls := make([]float64, 0, n+1)
	thr := make([]float64, 0, n+1)
	peak := float64(f.QuotaBurst)
	for i := 0; i < n; i++ {
		xs = append(xs, s.Start.Add(time.Duration(i*s.Step)*time.Second))
		calls = append(calls, float64(s.Calls[i]))
		thr = append(thr, float64(s.Throttles[i]))
		peak = max(peak, float64(s.Calls[i]))
	}
	if n == 1 { // go-chart needs two points
		xs = append(xs, xs[0].Add(time.Duration(max(s.Step, 1))*time.Second))
		calls = append(calls, calls[0])
		thr = append(thr, thr[0])
	}
	first, last := xs[0], xs[len(xs)-1]
	blue := drawing.Color{R: 37, G: 99, B: 235, A: 255}
	red := drawing.Color{R: 220, G: 38, B: 38, A: 255}
	dark := drawing.Color{R: 17, G: 24, B: 39, A: 255}
	gray := drawing.Color{R: 107, G: 114, B: 128, A: 255}
	format := "15:04:05"
	if last.Sub(first) > 2*time.Hour {
		format = "Jan 2 15:04"
	}
	graph := chart.Chart{
		Width:  960,
		Height: 360,
		Background: chart.Style{
			Padding: chart.Box{Top: 40, Left: 10, Right: 20, Bottom: 10},
		},
		XAxis: chart.XAxis{ValueFormatter: chart.TimeValueFormatterWithFormat(format)},
		YAxis: chart.YAxis{
			Name: "calls/s",
			ValueFormatter: func(v any) string {
				if x, ok := v.(float64); ok {
					return num(math.Round(x*10) / 10)
				}
				return ""
			},
			Range: &chart.ContinuousRange{Min: 0, Max: peak * 1.1},
		},
		Series: []chart.Series{
			chart.TimeSeries{
				Name:    "calls/s",
				XValues: xs,
				YValues: calls,
				Style:   chart.Style{StrokeColor: blue, StrokeWidth: 1.5, FillColor: blue.WithAlpha(60)},
			},
			chart.TimeSeries{
				Name:    "throttled/s",
				XValues: xs,
				YValues: thr,
				Style:   chart.Style{StrokeColor: red, StrokeWidth: 1.5, FillColor: red.WithAlpha(90)},
			},
			chart.TimeSeries{
				Name:    esc(fmt.Sprintf("quota rate %s/s", num(f.QuotaRate))),
				XValues: []time.Time{first, last},
				YValues: []float64{f.QuotaRate, f.QuotaRate},
				Style:   chart.Style{StrokeColor: dark, StrokeWidth: 2, StrokeDashArray: []float64{6, 4}},
			},
			chart.TimeSeries{
				Name:    esc(fmt.Sprintf("burst %d", f.QuotaBurst)),
				XValues: []time.Time{first, last},
				YValues: []float64{float64(f.QuotaBurst), float64(f.QuotaBurst)},
				Style:   chart.Style{StrokeColor: gray, StrokeWidth: 1, StrokeDashArray: []float64{2, 3}},
			},
		},
	}
	graph.Elements = []chart.Renderable{chart.LegendThin(&graph)}
	return &graph, nil
}

// esc escapes text for go-chart, which writes labels into SVG verbatim.
func esc(s string) string { return html.EscapeString(s) }

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"count": count,
	"num":   num,
	"util":  fmtUtil,
	"stamp": stamp,
	"lines": func(s string) []string { return strings.Split(s, "\n") },
	"short": shortPrincipal,
	"clip":  func(s string) string { return clip(s, 70) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tollgate triage{{if .Findings}}: {{(index .Findings 0).Headline}}{{end}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#111827;margin:0;background:#f9fafb}
main{max-width:1040px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px} h3{font-size:15px;margin:16px 0 6px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:16px 20px;margin:16px 0}
.diag{border-left:5px solid #dc2626} .ok{border-left:5px solid #16a34a} .warn{border-left:5px solid #d97706}
dl{display:grid;grid-template-columns:64px 1fr;gap:4px 12px;margin:8px 0} dt{font-weight:600;color:#6b7280} dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:13px} th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e5e7eb;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums} code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre{background:#f3f4f6;padding:10px;border-radius:6px;white-space:pre-wrap}
.tag{display:inline-block;padding:1px 8px;border-radius:10px;background:#fee2e2;color:#991b1b;font-size:12px;font-weight:600}
.chart svg{width:100%;height:auto} .muted{color:#6b7280}
</style></head><body><main>
<h1>Amazon Connect throttling triage</h1>
<p class="muted">{{count .R.Records}} Connect records from {{.R.Files}} input(s){{if .Span}}, {{.Span}}{{end}}. Calls {{count .R.Calls}}, errors {{count .R.Errors}}, throttles {{count .R.Throttles}}{{if .Classes}} ({{.Classes}}){{end}}.</p>
{{if .R.Partial}}<div class="card warn"><strong>Partial result:</strong> {{.R.ProblemCount}} problem(s) in the input; everything else was analysed. See <a href="#problems">Problems</a>.</div>{{end}}
{{if not .Findings}}<div class="card ok"><strong>No throttling:</strong> no call was refused by a quota.</div>{{end}}
{{range .Findings}}
<section class="card diag" id="finding-{{.N}}">
<h2>{{.N}}. {{.Headline}}</h2>
<p><span class="tag">{{.F.Class}}</span> <span class="tag">{{.F.Cause}}</span>{{range .F.AlsoCauses}} <span class="muted">also: {{.}}</span>{{end}}</p>
<dl>
<dt>what</dt><dd>{{.What}}</dd>
<dt>where</dt><dd>{{.Where}}</dd>
<dt>who</dt><dd>{{.Who}}</dd>
<dt>why</dt><dd>{{range .F.Why}}{{.}} {{end}}</dd>
<dt>fix</dt><dd>{{.F.Fix}}</dd>
</dl>
<div class="chart">{{if .Chart}}<p class="muted">{{.Caption}}</p>{{.Chart}}{{else}}<p class="muted">No chart: {{.ChartErr}}</p>{{end}}</div>
<h3>Top callers</h3>
<table><tr><th>principal</th><th class="n">calls</th><th class="n">throttles</th><th>session</th><th>user agent</th><th>source IP</th></tr>
{{range .F.TopCallers}}<tr><td><code>{{.Principal}}</code></td><td class="n">{{count .Calls}}</td><td class="n">{{count .Throttles}}</td><td>{{.Session}}</td><td>{{clip .UserAgent}}</td><td>{{.SourceIP}}</td></tr>
{{end}}</table>
{{if .F.TopByCalls}}<h3>Top callers by calls</h3>
<table><tr><th>principal</th><th class="n">calls</th><th class="n">throttles</th></tr>
{{range .F.TopByCalls}}<tr><td><code>{{.Principal}}</code></td><td class="n">{{count .Calls}}</td><td class="n">{{count .Throttles}}</td></tr>
{{end}}</table>{{end}}
<h3>Errors</h3>
<table><tr><th>code</th><th>class</th><th class="n">count</th><th>message</th></tr>
{{range .F.Codes}}<tr><td>{{.Code}}</td><td>{{.Class}}</td><td class="n">{{count .Count}}</td><td>{{.Message}}</td></tr>{{end}}
</table>
{{if .F.QuotaRequest}}<h3>Quota increase request (draft)</h3><pre>{{.F.QuotaRequest}}</pre>{{end}}
{{if .F.Advice}}<p class="muted">{{.F.Advice}}</p>{{end}}
</section>
{{end}}
<h2>Operations</h2>
<div class="card"><table><tr><th>operation</th><th>account</th><th>region</th><th class="n">calls</th><th class="n">errors</th><th class="n">throttles</th><th class="n">peak 1s</th><th class="n">peak 1m</th><th class="n">quota</th><th class="n">util 1m</th></tr>
{{range .R.Operations}}<tr><td>{{.Operation}}</td><td>{{.Account}}</td><td>{{.Region}}</td><td class="n">{{count .Calls}}</td><td class="n">{{count .Errors}}</td><td class="n">{{count .Throttles}}</td><td class="n">{{num .PeakRate1s}}</td><td class="n">{{num .PeakRate1m}}</td><td class="n">{{num .QuotaRate}}/{{.QuotaBurst}}</td><td class="n">{{util .Utilization1m}}</td></tr>
{{end}}</table></div>
{{if .R.Partial}}<h2 id="problems">Problems ({{.R.ProblemCount}})</h2>
<div class="card"><ul>{{range .R.Problems}}<li><code>{{.String}}</code></li>{{end}}</ul></div>{{end}}
<p class="muted">Generated by tollgate triage. Charts: go-chart (inline SVG). Classification: awserr; quotas: the quota table.</p>
</main></body></html>
`))
