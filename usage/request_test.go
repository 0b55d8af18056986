package usage_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/sim"
	"github.com/tollgatehq/tollgate/triage"
	"github.com/tollgatehq/tollgate/usage"
)

func TestDraftSaysFixFirst(t *testing.T) {
	q := usage.Quota{Op: "DescribeUser", Code: "L-EE6F0D82", Name: "Rate of DescribeUser API requests", Applied: 10, Default: 10, Adjustable: true}
	u := usage.Usage{Op: "DescribeUser", Calls: 5000, PeakMinute: 590, PeakRate: 590.0 / 60, PeakMinuteAt: time.Date(2026, 12, 1, 9, 14, 0, 0, time.UTC)}
	steps := []struct {
		name  string
		in    usage.DraftInput
		cause string
		fix   string
	}{
		{"business load", usage.DraftInput{Quota: q, Usage: u, Agents: 2000, CallsPerHour: 30000}, "business-load", ""},
		{"polling from the business numbers", usage.DraftInput{Quota: q, Usage: u, Agents: 100, CallsPerHour: 600}, "polling", "fix the polling first"},
		{"retry storm from triage", usage.DraftInput{Quota: q, Usage: u, Triage: &triage.Report{Findings: []triage.Finding{{Operation: "DescribeUser",
			Cause: "retry-storm", Throttles: 812, PeakRate1s: 31, TopCallers: []triage.Caller{{Principal: "arn:aws:sts::123456789012:assumed-role/agent-desktop/i-1"}}}}}},
			"retry-storm", "fix the retry storm first"},
	}
	for i, s := range steps {
		d := usage.DraftRequest(s.in)
		if d.Cause != s.cause || !strings.HasPrefix(d.FixFirst, s.fix) || (s.fix == "") != (d.FixFirst == "") {
			t.Errorf("step %d (%s): cause %q fix %q", i, s.name, d.Cause, d.FixFirst)
		}
		var md bytes.Buffer
		d.RenderMarkdown(&md)
		if s.fix != "" && !strings.Contains(md.String(), "Do not submit yet") {
			t.Errorf("step %d (%s): markdown lacks the warning:\n%s", i, s.name, md.String())
		}
		if !strings.Contains(md.String(), "L-EE6F0D82") || !strings.Contains(md.String(), "2026-12-01 09:14 UTC") {
			t.Errorf("step %d (%s): markdown lacks code or busiest minute:\n%s", i, s.name, md.String())
		}
		if i == 2 && (d.Throttles != 812 || d.PeakSecond != 31 || len(d.Callers) != 1) {
			t.Errorf("triage data not used: %+v", d)
		}
	}
}

// TestRequestStatusFlagsOverdue: a request still open after three business
// days is flagged with the escalation step.
func TestRequestStatusFlagsOverdue(t *testing.T) {
	clk := &manualClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)} // a Friday
	f := newFixture(t, sim.Options{Now: clk.Now, Seed: 1})
	f.sim.ServiceQuotas().SetSchedule(time.Hour, 60*24*time.Hour)
	ctx := context.Background()
	if _, err := usage.Submit(ctx, f.clients.SQ, "CreateUser", "L-CBDEE3E4", 4, true); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		after   time.Duration
		status  string
		days    int
		overdue bool
	}{
		{time.Minute, "PENDING", 0, false},
		{3 * 24 * time.Hour, "CASE_OPENED", 1, false}, // Monday
		{3 * 24 * time.Hour, "CASE_OPENED", 4, true},  // Thursday
	}
	for i, s := range steps {
		clk.Add(s.after)
		rs, err := usage.RequestStatus(ctx, f.clients.SQ, clk.Now())
		if err != nil || len(rs) != 1 {
			t.Fatalf("step %d: %v %+v", i, err, rs)
		}
		r := rs[0]
		if r.Status != s.status || r.BusinessDays != s.days || r.Overdue != s.overdue {
			t.Fatalf("step %d: %+v want %s %d days overdue %v", i, r, s.status, s.days, s.overdue)
		}
		if s.overdue && !strings.Contains(r.Escalation, "support case "+r.CaseID) {
			t.Fatalf("step %d: escalation %q", i, r.Escalation)
		}
	}
	var out bytes.Buffer
	rs, _ := usage.RequestStatus(ctx, f.clients.SQ, clk.Now())
	if err := usage.RenderTracked(&out, rs); err != nil || !strings.Contains(out.String(), "ESCALATE") {
		t.Fatalf("render: %v\n%s", err, out.String())
	}
}
