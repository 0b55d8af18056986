package bench

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"strings"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
)

// Chart panel size in pixels.
const (
	panelWidth  = 420
	panelHeight = 240
)

var (
	acceptedColor  = drawing.Color{R: 0x2a, G: 0x9d, B: 0x4b, A: 255}
	throttledColor = drawing.Color{R: 0xd6, G: 0x27, B: 0x28, A: 255}
	neighbourColor = drawing.Color{R: 0x88, G: 0x88, B: 0x88, A: 255}
)

// panel renders one run's timeline: accepted and throttled responses per
// unscaled second (and the neighbour's accepted, if any), as a PNG.
func panel(r Result, ymax float64) ([]byte, error) {
	n := len(r.Timeline)
	if n < 2 {
		n = 2
	}
	xs := make([]float64, n)
	acc, thr, nb := make([]float64, n), make([]float64, n), make([]float64, n)
	hasNB := false
	for i := range xs {
		xs[i] = float64(i)
		if i < len(r.Timeline) {
			b := r.Timeline[i]
			acc[i], thr[i], nb[i] = float64(b.Accepted), float64(b.Throttled), float64(b.NeighbourAccepted)
			hasNB = hasNB || b.NeighbourAccepted > 0
		}
	}
	series := []chart.Series{
		chart.ContinuousSeries{Name: "accepted/s", XValues: xs, YValues: acc,
			Style: chart.Style{StrokeColor: acceptedColor, StrokeWidth: 1.5, FillColor: acceptedColor.WithAlpha(48)}},
		chart.ContinuousSeries{Name: "429/s", XValues: xs, YValues: thr,
			Style: chart.Style{StrokeColor: throttledColor, StrokeWidth: 1.5, FillColor: throttledColor.WithAlpha(64)}},
	}
	if hasNB {
		series = append(series, chart.ContinuousSeries{Name: "neighbour ok/s", XValues: xs, YValues: nb,
			Style: chart.Style{StrokeColor: neighbourColor, StrokeWidth: 1, StrokeDashArray: []float64{4, 3}}})
	}
	c := chart.Chart{
		Title:      fmt.Sprintf("%s · %s: ok/s green, 429/s red (429/ok %.3f)", r.Scenario, r.Strategy, r.ThrottlesPerSuccess),
		TitleStyle: chart.Style{FontSize: 9, FontColor: drawing.ColorBlack},
		Width:      panelWidth,
		Height:     panelHeight,
		Background: chart.Style{Padding: chart.Box{Top: 28, Left: 8, Right: 12, Bottom: 8}},
		XAxis: chart.XAxis{Name: "unscaled seconds", Style: chart.Style{FontSize: 7},
			ValueFormatter: func(v any) string { return fmt.Sprintf("%.0f", v) }},
		YAxis: chart.YAxis{Style: chart.Style{FontSize: 7}, Range: &chart.ContinuousRange{Min: 0, Max: ymax},
			ValueFormatter: func(v any) string { return fmt.Sprintf("%.0f", v) }},
		Series: series,
	}
	var buf bytes.Buffer
	if err := c.Render(chart.PNG, &buf); err != nil {
		return nil, fmt.Errorf("bench: chart %s × %s: %w", r.Scenario, r.Strategy, err)
	}
	return buf.Bytes(), nil
}

// grid renders results as one image: a row per scenario, a column per
// strategy, in the order they appear.
func grid(results []Result) (image.Image, error) {
	var scen, strat []string
	cell := map[[2]string]Result{}
	for _, r := range results {
		if !contains(scen, r.Scenario) {
			scen = append(scen, r.Scenario)
		}
		if !contains(strat, r.Strategy) {
			strat = append(strat, r.Strategy)
		}
		cell[[2]string{r.Scenario, r.Strategy}] = r
	}
	img := image.NewRGBA(image.Rect(0, 0, panelWidth*max(len(strat), 1), panelHeight*max(len(scen), 1)))
	draw.Draw(img, img.Bounds(), &image.Uniform{color.White}, image.Point{}, draw.Src)
	for i, s := range scen {
		for j, st := range strat {
			r, ok := cell[[2]string{s, st}]
			if !ok {
				continue
			}
			// Each panel has its own scale: a strategy that sends hundreds
			// of 429s a second would flatten the others' curves.
			ymax := 1.0
			for _, b := range r.Timeline {
				ymax = max(ymax, float64(b.Accepted), float64(b.Throttled), float64(b.NeighbourAccepted))
			}
			p, err := panel(r, ymax*1.1)
			if err != nil {
				return nil, err
			}
			pi, err := png.Decode(bytes.NewReader(p))
			if err != nil {
				return nil, err
			}
			at := image.Pt(j*panelWidth, i*panelHeight)
			draw.Draw(img, pi.Bounds().Add(at), pi, pi.Bounds().Min, draw.Over)
		}
	}
	return img, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// WritePNG writes the chart of results (a grid of per-second accepted and
// throttled responses, one panel per run) as a PNG.
func WritePNG(w io.Writer, results []Result) error {
	img, err := grid(results)
	if err != nil {
		return err
	}
	return png.Encode(w, img)
}

// WriteHTML writes a self-contained HTML report: the table and the chart
// (embedded as a data: URI; nothing is fetched when the page is viewed).
func WriteHTML(w io.Writer, results []Result) error {
	var img bytes.Buffer
	if err := WritePNG(&img, results); err != nil {
		return err
	}
	var table strings.Builder
	if err := WriteTable(&table, results); err != nil {
		return err
	}
	return htmlPage.Execute(w, map[string]any{
		"Table": table.String(),
		"Chart": template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(img.Bytes())),
		"Scale": results[0].RateScale,
	})
}

var htmlPage = template.Must(template.New("bench").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tollgate bench</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}pre{font-size:12px;background:#f6f6f6;padding:1em;overflow:auto}img{max-width:100%}</style>
</head><body>
<h1>tollgate bench</h1>
<p>Strategies side by side against the Connect simulator, every one driving the real aws-sdk-go-v2 connect client. Rates ×{{.Scale}}; times on the charts in unscaled seconds, one row per scenario, one column per strategy, each panel on its own vertical scale. Green: accepted per second; red: 429s per second; grey dashes: the neighbour's accepted calls.</p>
<pre>{{.Table}}</pre>
<img alt="accepted and throttled responses per second, one panel per scenario and strategy" src="{{.Chart}}">
</body></html>
`))
