package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"
)

// spikeReport is a small data set: a dialer bursts StartOutboundVoiceContact
// far above 2/s for a few seconds after minutes of light use; one record of
// another file is broken when broken is set.
func spikeReport(t *testing.T, broken bool) *Report {
	t.Helper()
	var recs []string
	for m := 0; m < 10; m++ {
		recs = append(recs, rec("StartOutboundVoiceContact", m*60+7, "campaign-dialer", ""))
	}
	for i := 0; i < 60; i++ {
		code := ""
		if i%6 != 0 {
			code = "ThrottlingException"
		}
		recs = append(recs, rec("StartOutboundVoiceContact", 300+i/20, "campaign-dialer", code))
	}
	recs = append(recs, rec("StartOutboundVoiceContact", 301, "agent-01", "ThrottlingException"))
	inputs := []Input{BytesInput("trail.json", []byte(records(recs...)))}
	if broken {
		inputs = append(inputs, BytesInput("broken.json", []byte(`{"Records":[`+rec("DescribeUser", 1, "x", "")+`,{"eventName":`)))
	}
	return analyze(t, inputs)
}

func render(t *testing.T, r *Report, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, r, format); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRenderText(t *testing.T) {
	r := spikeReport(t, false)
	if len(r.Findings) != 1 || r.Findings[0].Cause != CauseSpike {
		t.Fatalf("findings: %+v", r.Findings)
	}
	lines := strings.Split(render(t, r, FormatText), "\n")
	if !strings.HasPrefix(lines[0], "DIAGNOSIS  StartOutboundVoiceContact is rate-throttled: 51 of 71 calls refused") || !strings.HasSuffix(lines[0], "cause: spike") {
		t.Errorf("first line: %q", lines[0])
	}
	for i, p := range []string{"  what ", "  where ", "  who ", "  why "} {
		if !strings.HasPrefix(lines[i+1], p) {
			t.Errorf("line %d: %q does not start with %q", i+2, lines[i+1], p)
		}
	}
	text := strings.Join(lines, "\n")
	for _, s := range []string{"  fix    Buffer the calls through `tollgate serve`", "assumed-role/AppRole/campaign-dialer — 50 of its 70 calls refused", "L-4E9BCC96", "QUOTA INCREASE DRAFT"} {
		if !strings.Contains(text, s) {
			t.Errorf("text report lacks %q", s)
		}
	}
	if strings.Contains(text, "PARTIAL") {
		t.Error("complete report says PARTIAL")
	}
}

func TestRenderJSON(t *testing.T) {
	r := spikeReport(t, false)
	var doc struct {
		Findings []map[string]json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal([]byte(render(t, r, FormatJSON)), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Findings) != 1 {
		t.Fatalf("findings: %d", len(doc.Findings))
	}
	f := doc.Findings[0]
	for _, k := range []string{"operation", "class", "cause", "calls", "throttles", "peak_rate_1s", "quota_rate", "quota_burst", "top_callers", "fix"} {
		if _, ok := f[k]; !ok {
			t.Errorf("finding lacks %q", k)
		}
	}
	var callers []struct {
		Principal string `json:"principal"`
		Calls     int64  `json:"calls"`
		Throttles int64  `json:"throttles"`
	}
	if err := json.Unmarshal(f["top_callers"], &callers); err != nil || len(callers) != 2 {
		t.Fatalf("top_callers %s: %v", f["top_callers"], err)
	}
	if callers[0].Principal != "arn:aws:sts::111122223333:assumed-role/AppRole/campaign-dialer" || callers[0].Calls != 70 || callers[0].Throttles != 50 {
		t.Errorf("top caller %+v", callers[0])
	}
	var peak, rate float64
	json.Unmarshal(f["peak_rate_1s"], &peak)
	json.Unmarshal(f["quota_rate"], &rate)
	if peak != 21 || rate != 2 {
		t.Errorf("peak %v rate %v, want 21 and 2", peak, rate)
	}
}

func TestRenderHTMLSelfContained(t *testing.T) {
	page := render(t, spikeReport(t, true), FormatHTML)
	for _, bad := range []string{"<script", "<link", "src=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	// The only URLs are the SVG namespaces.
	for _, u := range regexp.MustCompile(`https?://[^"'\s<)]+`).FindAllString(page, -1) {
		if u != "http://www.w3.org/2000/svg" && u != "http://www.w3.org/1999/xlink" {
			t.Errorf("page refers to %s", u)
		}
	}
	i, j := strings.Index(page, "<svg"), strings.Index(page, "</svg>")
	if i < 0 || j < i {
		t.Fatal("no chart")
	}
	svg := page[i : j+len("</svg>")]
	dec := xml.NewDecoder(strings.NewReader(svg))
	paths := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed SVG: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "path" {
			paths++
		}
	}
	if paths < 4 {
		t.Errorf("chart has %d paths, want the calls, throttles, quota and burst lines", paths)
	}
	for _, s := range []string{"quota rate 2/s", "throttled/s", "Partial result", "broken.json: byte "} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

func TestRenderMarkdown(t *testing.T) {
	md := render(t, spikeReport(t, true), FormatMarkdown)
	for _, s := range []string{"# Amazon Connect throttling triage", "## 1. StartOutboundVoiceContact is rate-throttled", "- **Fix:** Buffer the calls", "> **Partial result:** 1 problem(s)", "| StartOutboundVoiceContact |"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q", s)
		}
	}
	if err := Render(io.Discard, &Report{}, "pdf"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestRenderNoFindings(t *testing.T) {
	r := analyze(t, []Input{BytesInput("ok.json", []byte(records(rec("DescribeUser", 1, "a", ""))))})
	if got := strings.SplitN(render(t, r, FormatText), "\n", 2)[0]; !strings.HasPrefix(got, "DIAGNOSIS  no throttling") {
		t.Errorf("first line %q", got)
	}
	for _, f := range []string{FormatJSON, FormatHTML, FormatMarkdown} {
		render(t, r, f)
	}
}

func TestAnalyzeCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Analyze(ctx, []Input{BytesInput("a", []byte("{}"))}, Options{}); err == nil {
		t.Error("canceled analysis returned no error")
	}
}
