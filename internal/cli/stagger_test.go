package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tollgatehq/tollgate/stagger"
)

func TestStaggerPlan(t *testing.T) {
	code, out, errOut := runCLI(t, "stagger", "plan", "--agents", "50", "--trials", "40", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var p stagger.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	// 50 agents, GetCurrentUserData binds: 2 start-ups/s, 4 at once, so the
	// last starts (50 − 4)/2 = 23 s after the shift start.
	if p.Agents != 50 || len(p.Strategies) != 4 || p.LastStart.Seconds() != 23 {
		t.Fatalf("plan: %+v", p)
	}
	code, out, errOut = runCLI(t, "stagger", "plan", "--agents", "20", "--trials", "20", "--calls", "DescribeUser,ListQueues:2", "--share", "0.5")
	if code != ExitOK || !strings.Contains(out, "ListQueues  ") || !strings.Contains(out, "tollgate") {
		t.Fatalf("text: exit %d\n%s%s", code, out, errOut)
	}
}

func TestStaggerPlanUsageErrors(t *testing.T) {
	for i, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--agents", "0"}, "--agents"},
		{[]string{"--calls", "GetCurrentUser"}, "--calls: unknown operation"},
		{[]string{"--calls", "ListUsers:x"}, "--calls"},
		{[]string{"--share", "0"}, "--share"},
		{[]string{"--share", "1.01"}, "--share"},
		{[]string{"--format", "md"}, "--format"},
		{[]string{"--probability", "1"}, "--probability"},
	} {
		code, _, errOut := runCLI(t, append([]string{"stagger", "plan", "--trials", "10"}, c.args...)...)
		if code != ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("step %d: %v: exit %d %q; want %d naming %s", i, c.args, code, errOut, ExitUsage, c.want)
		}
	}
}

func TestBenchShiftChange(t *testing.T) {
	code, out, errOut := runCLI(t, "bench", "--scenario", "shift-change", "--agents", "12", "--strategy", "none,tollgate", "--rate-scale", "1", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Results []struct {
			Strategy  string `json:"strategy"`
			Throttled int    `json:"throttled"`
			Reserved  int    `json:"reserved"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Results) != 2 {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Results[0].Throttled == 0 || rep.Results[1].Reserved != 12 {
		t.Errorf("results: %+v", rep.Results)
	}
	for i, args := range [][]string{
		{"--agents", "0"},
		{"--strategy", "sdk-standard"},
		{"--share", "2"},
		{"--calls", "GetCurrentUser"},
		{"--scenario", "shift-change,burst"},
	} {
		code, _, errOut := runCLI(t, append([]string{"bench", "--scenario", "shift-change"}, args...)...)
		if code != ExitUsage || !strings.Contains(errOut, args[0]) {
			t.Errorf("step %d: %v: exit %d %q", i, args, code, errOut)
		}
	}
}
