package triagegen

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/triage"
)

// TestDialerRetryStorm generates the dialer of issue 11 — each refused
// StartOutboundVoiceContact re-sent at once with the same ClientToken about
// 30 ms apart, about 8 attempts/s against 2/s for three minutes — and checks
// that triage calls it a retry storm and a sustained overload (not a spike,
// not "unknown"), and that the increase draft counts distinct requests and
// claims no pacing the data contradicts.
func TestDialerRetryStorm(t *testing.T) {
	dir := t.TempDir()
	res, err := Generate(dir, GenerateOptions{Cause: DialerRetryStorm, Seed: 11, Duration: 10 * time.Minute, Background: -1})
	if err != nil {
		t.Fatal(err)
	}
	inputs, err := triage.FileInputs([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := analyze(t, inputs)
	checkDiagnosis(t, res, r)
	var f *triage.Finding
	for i := range r.Findings {
		if r.Findings[i].Operation == "StartOutboundVoiceContact" {
			f = &r.Findings[i]
		}
	}
	if f == nil {
		t.Fatal("no StartOutboundVoiceContact finding")
	}
	// The fixture is the reported one: about 8 attempts/s for three minutes.
	if f.PeakRate1m < 6 || f.PeakRate1m > 11 {
		t.Errorf("busiest minute %v attempts/s, want about 8", f.PeakRate1m)
	}
	if f.Cause != triage.CauseRetryStorm {
		t.Errorf("cause %s, want %s; why: %v", f.Cause, triage.CauseRetryStorm, f.Why)
	}
	if !slices.Contains(f.AlsoCauses, triage.CauseSustained) || slices.Contains(f.AlsoCauses, triage.CauseSpike) {
		t.Errorf("also causes %v: want %s and no %s", f.AlsoCauses, triage.CauseSustained, triage.CauseSpike)
	}
	if f.RepeatGapSeconds <= 0 || f.RepeatGapSeconds >= 0.1 || f.Repeats*2 < f.Throttles {
		t.Errorf("repeats %d of %d throttles, %v s apart: want most throttles repeated, well under 0.1 s apart", f.Repeats, f.Throttles, f.RepeatGapSeconds)
	}
	// The dialer's distinct requests arrive at 3/s (Poisson); its busiest
	// minute carries a little more.
	if f.DemandRate1m < 2.5 || f.DemandRate1m > 4.2 {
		t.Errorf("distinct demand %v/s vs %v attempts/s, want about 3/s: the retries were not taken out", f.DemandRate1m, f.PeakRate1m)
	}
	if !strings.Contains(f.Why[0], "ClientToken") || !strings.Contains(f.Fix, "back off") {
		t.Errorf("why %q, fix %q", f.Why, f.Fix)
	}
	if strings.Contains(f.QuotaRequest, "paced client-side") || strings.Contains(f.QuotaRequest, "not a retry storm") {
		t.Errorf("the draft claims pacing the data contradicts: %q", f.QuotaRequest)
	}
	if f.QuotaRequest != "" && !strings.Contains(f.QuotaRequest, "without backoff") {
		t.Errorf("the draft hides the retries: %q", f.QuotaRequest)
	}
}

// TestSpikeIsNotSustained: the dialer's three-minute burst six times above
// its usual rate (the spike scenario) is a spike, not a sustained overload,
// and its draft makes no retry-storm claim.
func TestSpikeIsNotSustained(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir, GenerateOptions{Cause: triage.CauseSpike, Seed: 5, Duration: 10 * time.Minute, Background: -1}); err != nil {
		t.Fatal(err)
	}
	inputs, err := triage.FileInputs([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := analyze(t, inputs)
	for _, f := range r.Findings {
		if f.Operation != "StartOutboundVoiceContact" {
			continue
		}
		if f.Cause != triage.CauseSpike || slices.Contains(f.AlsoCauses, triage.CauseSustained) || slices.Contains(f.AlsoCauses, triage.CauseRetryStorm) {
			t.Errorf("cause %s also %v, want a spike alone; why %v", f.Cause, f.AlsoCauses, f.Why)
		}
		if strings.Contains(f.QuotaRequest, "without backoff") || strings.Contains(f.QuotaRequest, "paced client-side") {
			t.Errorf("draft: %q", f.QuotaRequest)
		}
		return
	}
	t.Fatal("no StartOutboundVoiceContact finding")
}
