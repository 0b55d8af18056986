package server

import (
	"os"
	"testing"
	"time"
)

// TestExampleJobsFile reads examples/jobs.jsonl through the submit
// parser and checks (parseJobs, prepareJobs): every job is valid and none
// has expired.
func TestExampleJobsFile(t *testing.T) {
	data, err := os.ReadFile("../../examples/jobs.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	specs, lines, err := parseJobs(data)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	jobs, err := prepareJobs(specs, lines, now, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 4 {
		t.Fatalf("%d jobs, want 4", len(jobs))
	}
	for i, j := range jobs {
		if !j.NotAfter.IsZero() && !j.NotAfter.After(now) {
			t.Errorf("job %d (line %d): not_after %v is in the past", i, lines[i], j.NotAfter)
		}
	}
}
