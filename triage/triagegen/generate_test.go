package triagegen

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/triage"
)

func analyze(t *testing.T, inputs []triage.Input) *triage.Report {
	t.Helper()
	r, err := triage.Analyze(context.Background(), inputs, triage.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkDiagnosis asserts that the report diagnoses every expectation of a
// generated data set: cause, class, top caller and exact counts; and that it
// reports no other sizeable finding.
func checkDiagnosis(t *testing.T, res *GenerateResult, r *triage.Report) {
	t.Helper()
	if len(res.Expect) == 0 {
		t.Fatal("the generator expects nothing")
	}
	if r.Partial() {
		t.Fatalf("generated data has problems: %v", r.Problems)
	}
	if r.Records != res.Records {
		t.Errorf("records: got %d want %d", r.Records, res.Records)
	}
	expected := map[string]bool{}
	for _, e := range res.Expect {
		expected[e.Operation] = true
		if e.Culprit != "" && e.TopCaller != e.Culprit {
			t.Errorf("%s: the scenario meant %s to drain the bucket, but the data's top caller is %s", e.Operation, e.Culprit, e.TopCaller)
		}
		var f *triage.Finding
		for i := range r.Findings {
			if r.Findings[i].Operation == e.Operation {
				f = &r.Findings[i]
			}
		}
		if f == nil {
			t.Errorf("%s: no finding (expected %s, %s)", e.Operation, e.Cause, e.Class)
			continue
		}
		if f.Cause != e.Cause || f.Class != e.Class {
			t.Errorf("%s: got cause %s class %s, want %s %s; why: %v", e.Operation, f.Cause, f.Class, e.Cause, e.Class, f.Why)
		}
		if len(f.TopCallers) == 0 || f.TopCallers[0].Principal != e.TopCaller {
			t.Errorf("%s: top caller %+v, want %s", e.Operation, f.TopCallers, e.TopCaller)
		}
		if f.Calls != e.Calls || f.Throttles != e.Throttles {
			t.Errorf("%s: got %d calls %d throttles, want %d and %d", e.Operation, f.Calls, f.Throttles, e.Calls, e.Throttles)
		}
		if f.Fix == "" || len(f.Why) == 0 {
			t.Errorf("%s: no fix or explanation", e.Operation)
		}
		if f.QuotaRate <= 0 || f.PeakRate1s <= 0 {
			t.Errorf("%s: quota %v, peak %v", e.Operation, f.QuotaRate, f.PeakRate1s)
		}
	}
	for _, f := range r.Findings {
		if !expected[f.Operation] && f.Throttles >= minExpectThrottles {
			t.Errorf("unexpected finding %s: %s %s, %d throttles", f.Operation, f.Cause, f.Class, f.Throttles)
		}
	}
}

// TestGeneratedCauses generates each cause and the mixed set and checks the
// diagnosis.
func TestGeneratedCauses(t *testing.T) {
	for _, tc := range []struct {
		cause string
		seed  int64
	}{
		{triage.CauseSpike, 1}, {triage.CauseProvisioning, 1}, {triage.CausePolling, 1},
		{triage.CauseSynchronizedStart, 1}, {triage.CauseRetryStorm, 1}, {"mixed", 2},
	} {
		t.Run(tc.cause, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			// Ten minutes and light background keep the test quick under
			// -race; the scenarios play out within ten minutes.
			res, err := Generate(dir, GenerateOptions{Cause: tc.cause, Seed: tc.seed, Duration: 10 * time.Minute, Background: 1})
			if err != nil {
				t.Fatal(err)
			}
			inputs, err := triage.FileInputs([]string{dir}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(inputs) != len(res.Files) {
				t.Fatalf("found %d files, generator wrote %d", len(inputs), len(res.Files))
			}
			checkDiagnosis(t, res, analyze(t, inputs))
		})
	}
}

// TestGenerateDeterministic: the same seed writes byte-identical files; a
// different seed does not.
func TestGenerateDeterministic(t *testing.T) {
	read := func(seed int64) map[string][]byte {
		dir := t.TempDir()
		res, err := Generate(dir, GenerateOptions{Cause: triage.CauseProvisioning, Seed: seed, Background: -1})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]byte{}
		for _, f := range res.Files {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			out[f] = b
		}
		return out
	}
	a, b, c := read(5), read(5), read(6)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("file counts %d, %d", len(a), len(b))
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Fatalf("%s differs between two runs with the same seed", name)
		}
		if _, ok := c[name]; ok {
			t.Fatalf("%s also written with another seed", name)
		}
	}
}

// TestGeneratedRecordShape decodes generated records with encoding/json and
// checks CloudTrail's fields.
func TestGeneratedRecordShape(t *testing.T) {
	dir := t.TempDir()
	res, err := Generate(dir, GenerateOptions{Cause: triage.CauseProvisioning, Seed: 1, Background: -1})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, res.Files[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Records []map[string]any
	}
	if err := json.NewDecoder(zr).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for i, r := range doc.Records {
		for _, k := range []string{"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
			"userAgent", "requestParameters", "responseElements", "requestID", "eventID", "readOnly", "eventType", "managementEvent", "recipientAccountId", "eventCategory"} {
			if _, ok := r[k]; !ok {
				t.Fatalf("record %d lacks %s", i, k)
			}
		}
		id := r["userIdentity"].(map[string]any)
		issuer := id["sessionContext"].(map[string]any)["sessionIssuer"].(map[string]any)
		if id["type"] != "AssumedRole" || !strings.HasPrefix(id["arn"].(string), "arn:aws:sts::111122223333:assumed-role/") ||
			!strings.HasPrefix(issuer["arn"].(string), "arn:aws:iam::111122223333:role/") {
			t.Fatalf("record %d identity %v", i, id)
		}
		if r["eventSource"] != "connect.amazonaws.com" || r["eventType"] != "AwsApiCall" || r["recipientAccountId"] != "111122223333" {
			t.Fatalf("record %d: %v", i, r)
		}
		if _, err := time.Parse(time.RFC3339, r["eventTime"].(string)); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if c, ok := r["errorCode"].(string); ok {
			codes[c] = true
			if r["errorMessage"] == "" || r["responseElements"] != nil {
				t.Fatalf("record %d: failed call with message %v, response %v", i, r["errorMessage"], r["responseElements"])
			}
		}
	}
	if !codes["ThrottlingException"] {
		t.Errorf("no throttled record in %s: codes %v", res.Files[0], codes)
	}
}

func TestGenerateOptions(t *testing.T) {
	if _, err := Generate(t.TempDir(), GenerateOptions{Cause: "meteor"}); err == nil {
		t.Error("unknown cause accepted")
	}
	if _, err := Generate(t.TempDir(), GenerateOptions{Cause: triage.CauseSpike, Duration: 1}); err == nil {
		t.Error("too short a duration accepted")
	}
}
