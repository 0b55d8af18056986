package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestTrailRule(t *testing.T) {
	for i, st := range []struct {
		trails []Trail
		fires  bool
		fix    string // a command the fix must contain
	}{
		{nil, true, "create-trail"},
		{[]Trail{{Name: "t", HomeRegion: "us-east-1", Logging: true, ManagementEvents: true, ReadWrite: "All"}}, false, ""},
		{[]Trail{{Name: "t", HomeRegion: "eu-west-1", MultiRegion: true, Logging: true, ManagementEvents: true, ReadWrite: "All"}}, false, ""},
		{[]Trail{{Name: "t", HomeRegion: "eu-west-1", Logging: true, ManagementEvents: true, ReadWrite: "All"}}, true, "create-trail"},
		{[]Trail{{Name: "t", HomeRegion: "us-east-1", Logging: false, ManagementEvents: true, ReadWrite: "All"}}, true, "start-logging --name t"},
		{[]Trail{{Name: "t", HomeRegion: "us-east-1", Logging: true, ManagementEvents: true, ReadWrite: "WriteOnly"}}, true, "put-event-selectors --trail-name t"},
		{[]Trail{{Name: "t", HomeRegion: "us-east-1", Logging: true}}, true, "put-event-selectors"},
	} {
		inv := &Inventory{Region: "us-east-1", Account: "123456789012", Trails: st.trails, Checked: map[string]bool{CheckTrails: true}}
		rep := Check(inv, Options{})
		if (len(rep.Findings) == 1) != st.fires {
			t.Fatalf("step %d: findings %+v", i, rep.Findings)
		}
		if st.fires && !strings.Contains(strings.Join(rep.Findings[0].Fix.CLI, "\n"), st.fix) {
			t.Fatalf("step %d: fix %v lacks %q", i, rep.Findings[0].Fix.CLI, st.fix)
		}
	}
	// Not read (e.g. AccessDenied): no finding from missing data.
	if rep := Check(&Inventory{Region: "us-east-1"}, Options{}); len(rep.Findings) != 0 {
		t.Fatalf("unchecked trails gave %+v", rep.Findings)
	}
}

func TestReservedConcurrencyRule(t *testing.T) {
	five, three := int32(5), int32(3)
	inv := &Inventory{Region: "us-east-1", Functions: []Function{{
		Name: "f", ARN: "arn:aws:lambda:us-east-1:1:function:f", Caller: true, ReservedConcurrency: &three, Timeout: 1,
		Tags:     map[string]string{TagOperations: "GetMetricDataV2"}, // 10/s
		Mappings: []Mapping{{UUID: "u", SourceARN: "arn:aws:sqs:us-east-1:1:q", MaxConcurrency: &five}},
	}}}
	rep := Check(inv, Options{})
	if len(rep.Findings) != 1 || rep.Findings[0].Rule != RuleESMAboveReserved || rep.Findings[0].Severity != Medium {
		t.Fatalf("findings %+v", rep.Findings)
	}
	if !strings.Contains(rep.Findings[0].Fix.CLI[0], "MaximumConcurrency=3") {
		t.Fatalf("fix %v", rep.Findings[0].Fix.CLI)
	}
}

func TestRenderFormats(t *testing.T) {
	inv := &Inventory{Region: "us-east-1", Gaps: []Gap{{Service: "scheduler", What: "Scheduler schedules", Action: "scheduler:ListSchedules", Err: "AccessDeniedException: no", Denied: true}},
		Instances: []Instance{{ID: "i-1", FlowLogs: new(bool)}}}
	rep := Check(inv, Options{})
	if !rep.Partial || len(rep.Findings) != 2 || rep.Findings[0].Rule != RuleConnectFlowLogsOff {
		t.Fatalf("report %+v", rep)
	}
	var js bytes.Buffer
	if err := Render(&js, rep, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Findings) != 2 || back.Findings[1].Severity != Low || !back.Partial {
		t.Fatalf("JSON round trip: %v %+v", err, back)
	}
	var txt, md bytes.Buffer
	_ = Render(&txt, rep, FormatText)
	_ = Render(&md, rep, FormatMarkdown)
	for _, want := range []string{"could not check Scheduler schedules (needs scheduler:ListSchedules)", "CONTACTFLOW_LOGS"} {
		if !strings.Contains(txt.String(), want) || !strings.Contains(md.String(), want) {
			t.Fatalf("%q missing:\n%s\n%s", want, txt.String(), md.String())
		}
	}
	if strings.Index(txt.String(), "MEDIUM") > strings.Index(txt.String(), "LOW") {
		t.Fatalf("text not worst first:\n%s", txt.String())
	}
	if err := Render(&txt, rep, "xml"); err == nil {
		t.Fatal("xml accepted")
	}
}

func TestShellQuote(t *testing.T) {
	for i, st := range []struct{ in, want string }{
		{"abc", "abc"}, {"", "''"}, {"a b", "'a b'"}, {`{"a":"b"}`, `'{"a":"b"}'`}, {"it's", `'it'\''s'`}, {"rate(1 minute)", "'rate(1 minute)'"},
	} {
		if got := ShellQuote(st.in); got != st.want {
			t.Fatalf("step %d: ShellQuote(%q) = %s, want %s", i, st.in, got, st.want)
		}
	}
}
