package usage_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/usage"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestEMFGolden: one line per operation per minute, matching the golden
// file and the EMF specification's required fields.
func TestEMFGolden(t *testing.T) {
	var buf bytes.Buffer
	e := usage.EMF(&buf)
	t0 := time.Date(2026, 12, 1, 9, 0, 5, 0, time.UTC)
	throttle := errors.New("ThrottlingException: Rate exceeded")
	for i := 0; i < 5; i++ {
		e.ObserveAttempt(governor.Attempt{Op: "CreateUser", Attempt: 1, Start: t0.Add(time.Duration(i) * 10 * time.Second), Wait: 250 * time.Millisecond})
	}
	e.ObserveAttempt(governor.Attempt{Op: "CreateUser", Attempt: 2, Start: t0.Add(51 * time.Second), Err: throttle, Info: awserr.Info{Class: awserr.ClassRateThrottle}})
	e.ObserveAttempt(governor.Attempt{Op: "ListUsers", Attempt: 1, Start: t0.Add(52 * time.Second)})
	e.ObserveAttempt(governor.Attempt{Op: "ListUsers", Attempt: 1, Start: t0.Add(70 * time.Second), Wait: time.Second}) // next minute: flushes the first
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	golden := "testdata/emf.golden"
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("EMF output differs from %s:\n%s", golden, buf.String())
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3 (two operations in minute 1, one in minute 2)", len(lines))
	}
	for i, l := range lines {
		validateEMF(t, i, l)
	}
}

// validateEMF checks the specification's required members: _aws.Timestamp
// (epoch ms), CloudWatchMetrics[] with Namespace, Dimensions (a non-empty
// array of arrays of ≤ 30 member names present in the document) and
// Metrics (≤ 100 definitions whose Name resolves to a number).
func validateEMF(t *testing.T, i int, line []byte) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(line, &doc); err != nil {
		t.Fatalf("line %d: not JSON: %v", i, err)
	}
	meta, ok := doc["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("line %d: no _aws object", i)
	}
	ts, ok := meta["Timestamp"].(float64)
	if !ok || ts < 1e12 || ts != float64(int64(ts)) || int64(ts)%60000 != 0 {
		t.Fatalf("line %d: _aws.Timestamp %v is not an epoch-ms minute", i, meta["Timestamp"])
	}
	dirs, ok := meta["CloudWatchMetrics"].([]any)
	if !ok || len(dirs) == 0 {
		t.Fatalf("line %d: CloudWatchMetrics missing", i)
	}
	for _, d := range dirs {
		dir := d.(map[string]any)
		if ns, _ := dir["Namespace"].(string); ns == "" || len(ns) > 256 {
			t.Fatalf("line %d: Namespace %v", i, dir["Namespace"])
		}
		sets, ok := dir["Dimensions"].([]any)
		if !ok || len(sets) == 0 {
			t.Fatalf("line %d: Dimensions must be a non-empty array", i)
		}
		for _, s := range sets {
			keys := s.([]any)
			if len(keys) > 30 {
				t.Fatalf("line %d: more than 30 dimensions", i)
			}
			for _, k := range keys {
				if _, ok := doc[k.(string)].(string); !ok {
					t.Fatalf("line %d: dimension %v has no string member", i, k)
				}
			}
		}
		ms, ok := dir["Metrics"].([]any)
		if !ok || len(ms) == 0 || len(ms) > 100 {
			t.Fatalf("line %d: Metrics %v", i, dir["Metrics"])
		}
		for _, m := range ms {
			name, _ := m.(map[string]any)["Name"].(string)
			if _, ok := doc[name].(float64); !ok {
				t.Fatalf("line %d: metric %q has no numeric member", i, name)
			}
		}
	}
}
