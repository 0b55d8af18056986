package cli

import (
	"strings"
	"testing"
)

// TestBenchTextNoBar: `tollgate bench 2>err` (text output, standard error a
// regular file, not a terminal) writes no progress frames; only the chart
// notice, when a chart is asked for.
func TestBenchTextNoBar(t *testing.T) {
	chart := t.TempDir() + "/bench.html"
	out, errOut := benchCLI(t, "--scenario", "burst", "--strategy", "none", "--size", "0.05", "--rate-scale", "20", "--chart", chart)
	if !strings.Contains(out, "burst") {
		t.Errorf("stdout holds no table:\n%.300s", out)
	}
	if want := "chart written to " + chart + "\n"; errOut != want {
		t.Errorf("standard error holds %d bytes, want only %q:\n%.300s", len(errOut), want, errOut)
	}
}
