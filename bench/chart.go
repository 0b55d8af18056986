package bench

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
)

// Chart panel size in pixels.
const (
	panelWidth  = 520
	panelHeight = 300
)

// clipPercentile is the share of a scenario's per-second values its y-axis
// shows unclipped: a spike above it (an SDK strategy's 498 429s in one
// second) is drawn at the top edge and labelled with its value, instead of
// flattening every other curve.
const clipPercentile = 0.98

var (
	acceptedColor  = drawing.Color{R: 0x2a, G: 0x9d, B: 0x4b, A: 255}
	throttledColor = drawing.Color{R: 0xd6, G: 0x27, B: 0x28, A: 255}
	neighbourColor = drawing.Color{R: 0x66, G: 0x66, B: 0x66, A: 255}
	quotaColor     = drawing.Color{R: 0x1f, G: 0x4e, B: 0xb4, A: 255}
)

// scenarioGroup is the runs of one scenario, in the order they appear.
type scenarioGroup struct {
	name string
	runs []Result
	ymax float64 // the y-axis top shared by the group's panels
}

// groups splits results by scenario and picks each scenario's shared
// y-scale: the clipPercentile-th of every per-second value of its runs
// (accepted, 429s, the neighbour's accepted), or 1.25 × the highest quota,
// whichever is higher.
func groups(results []Result) []scenarioGroup {
	var out []scenarioGroup
	for _, r := range results {
		i := slices.IndexFunc(out, func(g scenarioGroup) bool { return g.name == r.Scenario })
		if i < 0 {
			out = append(out, scenarioGroup{name: r.Scenario})
			i = len(out) - 1
		}
		out[i].runs = append(out[i].runs, r)
	}
	for i := range out {
		var v []float64
		quota := 0.0
		for _, r := range out[i].runs {
			for _, b := range r.Timeline {
				v = append(v, float64(b.Accepted), float64(b.Throttled))
				if b.NeighbourAccepted > 0 {
					v = append(v, float64(b.NeighbourAccepted))
				}
				quota = math.Max(quota, b.Quota)
			}
		}
		sort.Float64s(v)
		top := 0.0
		if len(v) > 0 {
			top = v[min(len(v)-1, int(clipPercentile*float64(len(v))))]
		}
		out[i].ymax = niceCeil(math.Max(math.Max(top*1.1, quota*1.25), 1))
	}
	return out
}

// secondTicks returns the x-axis ticks of a timeline of last+1 seconds:
// whole seconds, about ten of them.
func secondTicks(last int) []chart.Tick {
	last = max(last, 1)
	step := max(1, int(niceCeil(float64(last)/10)))
	var out []chart.Tick
	for t := 0; t <= last; t += step {
		out = append(out, chart.Tick{Value: float64(t), Label: fmt.Sprint(t)})
	}
	return out
}

// fifths returns the y-axis ticks 0, ymax/5, …, ymax.
func fifths(ymax float64) []chart.Tick {
	out := make([]chart.Tick, 6)
	for i := range out {
		v := ymax * float64(i) / 5
		out[i] = chart.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)}
	}
	return out
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// panel renders one run's timeline on a y-axis from 0 to ymax: accepted and
// throttled responses per unscaled second, the neighbour's accepted, and the
// quota. Values above ymax are drawn at the top edge with a dot, and the
// highest few labelled with their value.
func panel(r Result, ymax float64) ([]byte, error) {
	n := max(len(r.Timeline), 2)
	xs := make([]float64, n)
	acc, thr, nb, quota := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	hasNB := false
	type spike struct{ x, v float64 }
	var spikes []spike
	clip := func(x, v float64) float64 {
		if v > ymax {
			spikes = append(spikes, spike{x, v})
			return ymax
		}
		return v
	}
	for i := range xs {
		xs[i] = float64(i)
		if i < len(r.Timeline) {
			b := r.Timeline[i]
			acc[i] = clip(xs[i], float64(b.Accepted))
			thr[i] = clip(xs[i], float64(b.Throttled))
			nb[i] = clip(xs[i], float64(b.NeighbourAccepted))
			quota[i] = b.Quota
			hasNB = hasNB || b.NeighbourAccepted > 0
		} else if i > 0 {
			quota[i] = quota[i-1]
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
			Style: chart.Style{StrokeColor: neighbourColor, StrokeWidth: 1.2, StrokeDashArray: []float64{4, 3}}})
	}
	series = append(series, chart.ContinuousSeries{Name: "quota", XValues: xs, YValues: quota,
		Style: chart.Style{StrokeColor: quotaColor, StrokeWidth: 1.5, StrokeDashArray: []float64{6, 3}}})
	if len(spikes) > 0 {
		sx, sy := make([]float64, len(spikes)), make([]float64, len(spikes))
		for i, s := range spikes {
			sx[i], sy[i] = s.x, ymax
		}
		series = append(series, chart.ContinuousSeries{Name: "• above the scale", XValues: sx, YValues: sy,
			Style: chart.Style{StrokeWidth: chart.Disabled, StrokeColor: drawing.ColorBlack, DotWidth: 3, DotColor: drawing.ColorBlack}})
		// Label the highest three that are apart (labels do not overlap),
		// left to right.
		sort.Slice(spikes, func(i, j int) bool { return spikes[i].v > spikes[j].v })
		var top []spike
		apart := math.Max(4, float64(n)/8)
		for _, s := range spikes {
			if len(top) < 3 && !slices.ContainsFunc(top, func(t spike) bool { return math.Abs(t.x-s.x) < apart }) {
				top = append(top, s)
			}
		}
		sort.Slice(top, func(i, j int) bool { return top[i].x < top[j].x })
		var notes []chart.Value2
		for _, s := range top {
			notes = append(notes, chart.Value2{XValue: s.x, YValue: ymax, Label: fmt.Sprintf("%.0f/s", s.v)})
		}
		series = append(series, chart.AnnotationSeries{Annotations: notes,
			Style: chart.Style{FontSize: 7, StrokeColor: drawing.ColorBlack, FillColor: drawing.ColorWhite}})
	}
	ratio := "-"
	if r.CompletionRatio > 0 {
		ratio = num(r.CompletionRatio, 2) + "×"
	}
	c := chart.Chart{
		Title: fmt.Sprintf("%s · %s   completion %s bound · 429/ok %.3f · failed %d",
			r.Scenario, r.Strategy, ratio, r.ThrottlesPerSuccess, r.Failures),
		TitleStyle: chart.Style{FontSize: 9, FontColor: drawing.ColorBlack},
		Width:      panelWidth,
		Height:     panelHeight,
		Background: chart.Style{Padding: chart.Box{Top: 50, Left: 10, Right: 16, Bottom: 10}},
		XAxis:      chart.XAxis{Name: "unscaled seconds", Style: chart.Style{FontSize: 8}, Ticks: secondTicks(n - 1)},
		YAxis: chart.YAxis{Name: "per second", Style: chart.Style{FontSize: 8}, Range: &chart.ContinuousRange{Min: 0, Max: ymax},
			Ticks: fifths(ymax)},
		Series: series,
	}
	// The thin legend centres itself in the top padding: move it below
	// the title.
	legend := chart.LegendThin(&c, chart.Style{FontSize: 7})
	c.Elements = []chart.Renderable{func(r chart.Renderer, cb chart.Box, d chart.Style) {
		cb.Top += 22
		legend(r, cb, d)
	}}
	var buf bytes.Buffer
	if err := c.Render(chart.PNG, &buf); err != nil {
		return nil, fmt.Errorf("bench: chart %s × %s: %w", r.Scenario, r.Strategy, err)
	}
	return buf.Bytes(), nil
}

// grid renders results as one image: a row per scenario (its panels on one
// shared y-scale), a column per strategy, in the order they appear.
func grid(results []Result) (image.Image, error) {
	var strat []string
	for _, r := range results {
		if !slices.Contains(strat, r.Strategy) {
			strat = append(strat, r.Strategy)
		}
	}
	gs := groups(results)
	img := image.NewRGBA(image.Rect(0, 0, panelWidth*max(len(strat), 1), panelHeight*max(len(gs), 1)))
	draw.Draw(img, img.Bounds(), &image.Uniform{color.White}, image.Point{}, draw.Src)
	for i, g := range gs {
		for _, r := range g.runs {
			p, err := panel(r, g.ymax)
			if err != nil {
				return nil, err
			}
			pi, err := png.Decode(bytes.NewReader(p))
			if err != nil {
				return nil, err
			}
			at := image.Pt(slices.Index(strat, r.Strategy)*panelWidth, i*panelHeight)
			draw.Draw(img, pi.Bounds().Add(at), pi, pi.Bounds().Min, draw.Over)
		}
	}
	return img, nil
}

// WritePNG writes the chart of results as one PNG: a row per scenario, a
// column per strategy, each panel the per-second accepted and throttled
// responses with the quota, the panels of a scenario on one y-scale.
func WritePNG(w io.Writer, results []Result) error {
	img, err := grid(results)
	if err != nil {
		return err
	}
	return png.Encode(w, img)
}
