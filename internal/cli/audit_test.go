package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgatehq/tollgate/audit"
	"github.com/tollgatehq/tollgate/audit/audittest"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/usage"
)

// TestAuditExitStatus: 1 while a high-severity finding remains (JSON for
// CI, plus the fix plan), 0 for a clean account, 3 when a check could not
// run, 2 for bad flags or configuration.
func TestAuditExitStatus(t *testing.T) {
	t.Run("bad account", func(t *testing.T) {
		a := audittest.Start(t)
		audittest.BadAccount(t, a)
		a.Env(t)
		plan := filepath.Join(t.TempDir(), "fix.sh")
		code, out, errOut := runCLI(t, "audit", "--format", "json", "--fix-plan", plan)
		if code != ExitFailure {
			t.Fatalf("exit %d, stderr %s", code, errOut)
		}
		var rep audit.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.HighCount() == 0 || rep.TotalCalls() == 0 {
			t.Fatalf("JSON: %v, %d high, %d calls\n%s", err, rep.HighCount(), rep.TotalCalls(), out)
		}
		b, err := os.ReadFile(plan)
		st, _ := os.Stat(plan)
		if err != nil || !strings.HasPrefix(string(b), "#!/bin/sh\n") || st.Mode().Perm()&0o100 == 0 || !strings.Contains(string(b), "aws sqs set-queue-attributes") {
			t.Fatalf("plan %v %v:\n%s", err, st.Mode(), b)
		}
		code, out, _ = runCLI(t, "audit", "--format", "md")
		if code != ExitFailure || !strings.HasPrefix(out, "# Throttling audit") || !strings.Contains(out, "```sh\naws ") {
			t.Fatalf("md exit %d:\n%s", code, out)
		}
	})
	t.Run("good account", func(t *testing.T) {
		a := audittest.Start(t)
		audittest.GoodAccount(t, a)
		a.Env(t)
		code, out, errOut := runCLI(t, "audit", "--region", a.Region, "--instance-id", a.InstanceID)
		if code != ExitOK || !strings.Contains(out, "No findings.") {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		// --applied-quotas reads Service Quotas (served by the simulator):
		// still clean; sized against the applied values.
		t.Setenv("AWS_ENDPOINT_URL_SERVICE_QUOTAS", a.SimURL)
		code, out, errOut = runCLI(t, "audit", "--applied-quotas", "--region", a.Region, "--instance-id", a.InstanceID)
		if code != ExitOK || !strings.Contains(out, "No findings.") || errOut != "" {
			t.Fatalf("--applied-quotas: exit %d\n%s%s", code, out, errOut)
		}
		// moto does not serve DescribeInstanceAttribute: with --endpoint at
		// moto the flow-log check cannot run, the rest still does.
		code, out, errOut = runCLI(t, "audit", "--endpoint", a.Moto.URL, "--instance-id", a.InstanceID)
		if code != ExitPartial || !strings.Contains(out, "could not check contact flow logs") || !strings.Contains(errOut, "partial audit") {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "not-echoed")
		t.Setenv("AWS_CONFIG_FILE", "/nonexistent/config")
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"audit", "--region", "mars-north-1"}, "unknown Region"},
			{[]string{"audit", "--format", "xml"}, `--format "xml"`},
		} {
			code, _, errOut := runCLI(t, tc.args...)
			if code != ExitUsage || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "not-echoed") {
				t.Fatalf("%v: exit %d, stderr %s", tc.args, code, errOut)
			}
		}
		code, out, _ := runCLI(t, "audit", "--print-policy")
		if code != ExitOK || !strings.Contains(out, `"lambda:ListFunctions"`) || strings.Contains(out, "Put") {
			t.Fatalf("print-policy exit %d:\n%s", code, out)
		}
	})
}

// TestApplyAppliedQuotas: applied values replace the published rates (burst
// kept); operations Service Quotas does not list, or lists without a value,
// keep the table's.
func TestApplyAppliedQuotas(t *testing.T) {
	table := quotas.Default()
	applyAppliedQuotas(table, map[string]usage.Quota{
		"StartOutboundVoiceContact": {Op: "StartOutboundVoiceContact", Applied: 20},
		"ListQueues":                {Op: "ListQueues", Applied: 0},
		"NoSuchOperation":           {Op: "NoSuchOperation", Applied: 9},
	})
	published := func(op string) (float64, float64) {
		a, _ := quotas.Default().API(op)
		return a.Rate, float64(a.Burst)
	}
	lqRate, lqBurst := published("ListQueues")
	gcRate, gcBurst := published("GetCurrentMetricData")
	_, sovcBurst := published("StartOutboundVoiceContact")
	steps := []struct {
		op          string
		rate, burst float64
	}{
		{"StartOutboundVoiceContact", 20, sovcBurst},
		{"ListQueues", lqRate, lqBurst},
		{"GetCurrentMetricData", gcRate, gcBurst},
	}
	for i, st := range steps {
		a, ok := table.API(st.op)
		if !ok || a.Rate != st.rate || float64(a.Burst) != st.burst {
			t.Errorf("step %d: %s got %v/%v (%v) want %v/%v", i, st.op, a.Rate, a.Burst, ok, st.rate, st.burst)
		}
	}
	if _, ok := table.API("NoSuchOperation"); ok {
		t.Error("an operation outside the table was added")
	}
}
