package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShowBar: the one decision, step by step. A bytes.Buffer and a
// regular file are not terminals.
func TestShowBar(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "err"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type step struct {
		w      any
		format string
		p      progressFlags
		want   bool
	}
	for i, s := range []step{
		{&bytes.Buffer{}, "text", progressFlags{}, false},
		{f, "text", progressFlags{}, false},
		{f, "json", progressFlags{}, false},
		{f, "json", progressFlags{force: true}, true},
		{f, "text", progressFlags{force: true}, true},
		{f, "text", progressFlags{quiet: true, force: true}, false},
	} {
		w, _ := s.w.(interface{ Write([]byte) (int, error) })
		if got := showBar(w, s.format, s.p); got != s.want {
			t.Errorf("step %d: got %v want %v", i, got, s.want)
		}
	}
}

// benchCLI runs `tollgate bench args…` in process with standard error a
// regular file (as with 2>err) and returns stdout and the file's content.
func benchCLI(t *testing.T, args ...string) (string, string) {
	t.Helper()
	errPath := filepath.Join(t.TempDir(), "err")
	ef, err := os.Create(errPath)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	root := NewRoot(&out, ef)
	root.SetArgs(append([]string{"bench"}, args...))
	if err := root.Execute(); err != nil {
		t.Fatalf("bench %v: %v", args, err)
	}
	ef.Close()
	b, err := os.ReadFile(errPath)
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), string(b)
}

// TestBenchJSONNoBar: `tollgate bench --format json 2>err` leaves nothing
// in err, and the same run with --progress does draw the bar there (so the
// first check can fail).
func TestBenchJSONNoBar(t *testing.T) {
	args := []string{"--scenario", "burst", "--strategy", "none", "--size", "0.05", "--rate-scale", "20", "--format", "json"}
	out, errOut := benchCLI(t, args...)
	if errOut != "" {
		t.Errorf("standard error holds %d bytes, want none:\n%.300s", len(errOut), errOut)
	}
	var results []map[string]any
	if err := json.Unmarshal([]byte(out), &results); err != nil || len(results) != 1 {
		t.Errorf("stdout is not one JSON result (%v):\n%.300s", err, out)
	}
	_, forced := benchCLI(t, append(args, "--progress")...)
	if !strings.Contains(forced, "bench") {
		t.Errorf("with --progress standard error holds no bar:\n%.300s", forced)
	}
}
