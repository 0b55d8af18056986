package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPollSection(t *testing.T) {
	file := filepath.Join(t.TempDir(), "serve.yaml")
	yml := `poll:
  share: 0.4
  queries:
    - name: queues
      op: GetCurrentMetricData
      interval: 2s
      input:
        InstanceId: i-1
        Filters: {Queues: [q-1], Channels: [VOICE]}
        CurrentMetrics: [{Name: AGENTS_AVAILABLE, Unit: COUNT}]
    - name: agents
      op: GetCurrentUserData
      interval: 10s
      input: {InstanceId: i-1, Filters: {Queues: [q-1]}}
`
	if err := os.WriteFile(file, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Sources{File: file})
	if err != nil {
		t.Fatal(err)
	}
	if c.Poll.Share != 0.4 || len(c.Poll.Queries) != 2 {
		t.Fatalf("got %+v", c.Poll)
	}
	q := c.Poll.Queries[0]
	if q.Name != "queues" || q.Op != "GetCurrentMetricData" || q.Interval != 2*time.Second {
		t.Errorf("query 0: %+v", q)
	}
	var in struct {
		InstanceId string
		Filters    struct{ Queues []string }
	}
	if err := json.Unmarshal(q.Input, &in); err != nil || in.InstanceId != "i-1" || in.Filters.Queues[0] != "q-1" {
		t.Errorf("input %s: %v", q.Input, err)
	}
}

func TestPollSectionErrors(t *testing.T) {
	steps := []struct{ yml, want string }{
		{"poll:\n  queries: 3\n", "poll.queries (serve.yaml line 2): must be a list"},
		{"poll:\n  queries:\n    - name: a\n      op: GetCurrentMetricData\n      interval: soon\n", "poll.queries[0].interval (serve.yaml line 5)"},
		{"poll:\n  queries:\n    - name: a\n      colour: red\n", "poll.queries[0].colour"},
		{"poll:\n  queries:\n    - name: a\n      op: X\n      interval: 1s\n      input: [1]\n", "poll.queries[0].input"},
		{"poll:\n  queries:\n    - name: a\n      op: GetCurrentMetricData\n      interval: 10ms\n", "poll.queries[a].interval: must be at least 100ms"},
		{"poll:\n  share: 2\n", "poll.share"},
		{"poll:\n  instance: i-1\n", "poll.queues go together"},
	}
	for i, s := range steps {
		file := filepath.Join(t.TempDir(), "serve.yaml")
		if err := os.WriteFile(file, []byte(s.yml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(Sources{File: file})
		if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), file, "serve.yaml"), s.want) {
			t.Errorf("step %d: got %v want an error containing %q", i, err, s.want)
		}
	}
}

func TestPollFlagsSimpleCase(t *testing.T) {
	c := Default()
	c.Poll.Instance, c.Poll.Queues, c.Poll.Interval = "i-1", "q-1, q-2", 3*time.Second
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	qs := c.Poll.EffectiveQueries()
	if len(qs) != 1 || qs[0].Name != QueuesQuery || qs[0].Interval != 3*time.Second || !strings.Contains(string(qs[0].Input), `"Queues":["q-1","q-2"]`) {
		t.Errorf("got %+v (%s)", qs, qs[0].Input)
	}
}

// FuzzPollSection: any file either loads into queries that validate, or
// fails with an error naming a setting; it never panics.
func FuzzPollSection(f *testing.F) {
	f.Add("poll:\n  queries:\n    - name: a\n      op: GetCurrentMetricData\n      interval: 1s\n      input: {InstanceId: i}\n")
	f.Add("poll:\n  queries: [{name: a, op: X, interval: 5s, input: {A: [1, 2, {b: c}]}}]\n")
	f.Add("poll:\n  queries:\n    - [1]\n")
	f.Fuzz(func(t *testing.T, yml string) {
		file := filepath.Join(t.TempDir(), "serve.yaml")
		if err := os.WriteFile(file, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(Sources{File: file})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		for _, q := range c.Poll.EffectiveQueries() {
			if q.Name == "" || q.Op == "" || q.Interval < 100*time.Millisecond {
				t.Fatalf("a query that does not validate was accepted: %+v", q)
			}
			if len(q.Input) > 0 && !json.Valid(q.Input) {
				t.Fatalf("input is not JSON: %s", q.Input)
			}
		}
	})
}
