package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgatehq/tollgate/triage/triagegen"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestTriageGenerateThenTriage runs `triage generate` and then `triage` on
// what it wrote, and checks the diagnosis against the generator's own
// expectations.
func TestTriageGenerateThenTriage(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "triage", "generate", "--cause", "retry-storm", "--seed", "3", "--out", dir, "--format", "json", "--duration", "10m", "--background", "-1")
	if code != ExitOK {
		t.Fatalf("generate: exit %d: %s", code, errOut)
	}
	var gen triagegen.GenerateResult
	if err := json.Unmarshal([]byte(out), &gen); err != nil {
		t.Fatalf("generate output: %v\n%s", err, out)
	}
	if len(gen.Expect) != 1 || len(gen.Files) == 0 {
		t.Fatalf("generate result: %+v", gen)
	}
	want := gen.Expect[0]
	for _, f := range gen.Files {
		if !strings.HasPrefix(f, filepath.FromSlash("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/111122223333_CloudTrail_us-east-1_20261125T")) || !strings.HasSuffix(f, ".json.gz") {
			t.Errorf("file %s is not in CloudTrail's S3 layout", f)
		}
	}

	code, out, errOut = runCLI(t, "triage", dir, "--format", "json")
	if code != ExitOK {
		t.Fatalf("triage: exit %d: %s", code, errOut)
	}
	var rep struct {
		Findings []struct {
			Operation  string `json:"operation"`
			Class      string `json:"class"`
			Cause      string `json:"cause"`
			Throttles  int64  `json:"throttles"`
			TopCallers []struct {
				Principal string `json:"principal"`
			} `json:"top_callers"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("triage output: %v", err)
	}
	if len(rep.Findings) == 0 {
		t.Fatal("no findings")
	}
	f := rep.Findings[0]
	if f.Operation != want.Operation || f.Cause != want.Cause || f.Class != want.Class || f.Throttles != want.Throttles ||
		len(f.TopCallers) == 0 || f.TopCallers[0].Principal != want.TopCaller {
		t.Errorf("got %+v\nwant %+v", f, want)
	}

	// The text report starts with the diagnosis.
	code, out, _ = runCLI(t, "triage", dir)
	if code != ExitOK || !strings.HasPrefix(out, "DIAGNOSIS  StartTaskContact is rate-throttled") || !strings.Contains(out, "cause: retry-storm") {
		t.Errorf("text: exit %d, first line %q", code, strings.SplitN(out, "\n", 2)[0])
	}

	// HTML to a file.
	page := filepath.Join(t.TempDir(), "report.html")
	if code, _, errOut := runCLI(t, "triage", dir, "--format", "html", "-o", page); code != ExitOK {
		t.Fatalf("html: exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(page)
	if err != nil || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("html file: %v, %d bytes", err, len(b))
	}

	// A non-regular output is written in place, never replaced.
	if code, _, errOut := runCLI(t, "triage", dir, "--format", "json", "-o", os.DevNull); code != ExitOK {
		t.Fatalf("-o %s: exit %d: %s", os.DevNull, code, errOut)
	}
	if st, err := os.Stat(os.DevNull); err != nil || st.Mode().IsRegular() {
		t.Fatalf("%s was replaced: %v %v", os.DevNull, st.Mode(), err)
	}

	// Bad input makes the result partial: exit 3, the report still written.
	if err := os.WriteFile(filepath.Join(dir, "broken.json.gz"), []byte("\x1f\x8b\x08\x00garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "triage", dir, "--format", "md")
	if code != ExitPartial {
		t.Errorf("partial: exit %d, want %d", code, ExitPartial)
	}
	if !strings.Contains(out, "## 1. StartTaskContact") || !strings.Contains(out, "broken.json.gz: byte 0: gzip") || !strings.Contains(errOut, "partial result") {
		t.Errorf("partial report:\n%s\nstderr: %s", out, errOut)
	}
}

func TestTriageStdin(t *testing.T) {
	rec := `{"eventVersion":"1.11","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/R/s"},"eventTime":"2026-11-25T10:00:00Z",` +
		`"eventSource":"connect.amazonaws.com","eventName":"DescribeUser","awsRegion":"us-east-1","recipientAccountId":"1"}`
	var out, errOut bytes.Buffer
	root := NewRoot(&out, &errOut)
	root.SetIn(strings.NewReader(rec + "\n" + rec + "\n"))
	root.SetArgs([]string{"triage", "--format", "json"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	var rep struct {
		Records int64 `json:"records"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Records != 2 {
		t.Errorf("records %d, err %v", rep.Records, err)
	}
}

func TestTriageUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for i, args := range [][]string{
		{"triage", dir, "--format", "pdf"},
		{"triage", filepath.Join(dir, "missing")},
		{"triage", "generate", "--cause", "spike"},
		{"triage", "generate", "--cause", "meteor", "--out", dir},
		{"triage", "generate", "--cause", "spike", "--out", dir, "--duration", "5m"},
		{"triage", "generate", "--cause", "spike", "--out", dir, "--start", "yesterday"},
	} {
		if code, _, errOut := runCLI(t, args...); code != ExitUsage {
			t.Errorf("step %d: %v: exit %d want %d (%s)", i, args, code, ExitUsage, errOut)
		}
	}
}
