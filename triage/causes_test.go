package triage

import (
	"fmt"
	"strings"
	"testing"
)

func TestIsProvisioningOp(t *testing.T) {
	type step struct {
		op   string
		want bool
	}
	for i, s := range []step{
		{"CreateUser", true}, {"ClaimPhoneNumber", true}, {"AssociatePhoneNumberContactFlow", true},
		{"UpdateContactFlowContent", true}, {"CreateInstance", true}, {"DeleteQueue", true},
		{"UpdateContactAttributes", false}, {"CreateParticipant", false}, {"StartOutboundVoiceContact", false},
		{"DescribeUser", false}, {"GetCurrentMetricData", false}, {"CreateContact", false},
	} {
		if got := IsProvisioningOp(s.op); got != s.want {
			t.Errorf("step %d: %s: got %v want %v", i, s.op, got, s.want)
		}
	}
}

// TestSteadyOverloadIsSustained: demand a little above the quota all along,
// spread over a few workers with no repeated request, is a sustained
// overload, not a spike: pacing, and an increase request whose draft makes
// no claim about retries the data does not show.
func TestSteadyOverloadIsSustained(t *testing.T) {
	var recs []string
	for s := 0; s < 1200; s++ {
		for k := 0; k < 3; k++ {
			code := ""
			if k == 2 {
				code = "ThrottlingException"
			}
			recs = append(recs, rec("StartTaskContact", s, fmt.Sprintf("worker-%d", (s+k)%5), code))
		}
	}
	r := analyze(t, []Input{BytesInput("steady.json", []byte(records(recs...)))})
	if len(r.Findings) != 1 {
		t.Fatalf("findings: %d", len(r.Findings))
	}
	f := r.Findings[0]
	if f.Cause != CauseSustained || len(f.AlsoCauses) != 0 {
		t.Errorf("cause %s (also %v): %v", f.Cause, f.AlsoCauses, f.Why)
	}
	if !strings.Contains(f.Fix, "`tollgate serve`") || !strings.Contains(f.QuotaRequest, "L-E704D621") {
		t.Errorf("fix %q, request %q", f.Fix, f.QuotaRequest)
	}
	if strings.Contains(f.QuotaRequest, "paced") || strings.Contains(f.QuotaRequest, "retr") {
		t.Errorf("the draft claims something about pacing or retries: %q", f.QuotaRequest)
	}
}
