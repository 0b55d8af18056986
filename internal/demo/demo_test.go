package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/queue"
)

// TestDemo runs a small campaign end to end and checks the summary against
// what the campaign was built to produce.
func TestDemo(t *testing.T) {
	var out, progress bytes.Buffer
	o := Options{Calls: 200, Refused: 10, Expiring: 10, RateScale: 10, Out: &out, Progress: &progress, ProgressEvery: 500 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())
	type step struct {
		name      string
		got, want int64
	}
	for i, st := range []step{
		{"placed", s.Placed, 180},
		{"acknowledged", s.Succeeded, 180},
		{"client-fault dead letters", s.Dead[queue.ReasonClientFault], 10},
		{"expired dead letters", s.Dead[queue.ReasonExpired], 10},
		{"duplicate_client_tokens", s.Duplicates, 0},
		{"calls past the concurrent-calls quota (rejected_reorder)", s.Reorders, 0},
		{"outcomes: connected", s.Connected, 180},
		{"concurrent-calls quota (not raised)", int64(s.CallQuota), 10},
		{"requests to StartOutboundVoiceContact, less throttles", s.Requests - s.ThrottlesBy["StartOutboundVoiceContact"], 190},
	} {
		if st.got != st.want {
			t.Errorf("step %d %s: got %d want %d", i, st.name, st.got, st.want)
		}
	}
	if s.Polls == 0 {
		t.Errorf("the dashboard never polled")
	}
	// Never faster than the quota allows (that would be a wrong minimum or
	// a limiter over its quota). How close to the minimum the run comes is
	// the demo's own printed figure, not a wall-clock assertion a loaded
	// laptop could fail.
	if s.Elapsed < s.Minimum-200*time.Millisecond {
		t.Errorf("elapsed %v: faster than the theoretical minimum of %v", s.Elapsed, s.Minimum)
	}
	t.Logf("elapsed %v against a theoretical minimum of %v (ratio %.3f)", s.Elapsed, s.Minimum, s.Elapsed.Seconds()/s.Minimum.Seconds())
	if !strings.Contains(s.DeadExamples[queue.ReasonClientFault], "DestinationNotAllowedException") {
		t.Errorf("client-fault example %q", s.DeadExamples[queue.ReasonClientFault])
	}
	if s.CallsBound <= s.RateBound || s.Minimum != s.CallsBound {
		t.Errorf("bounds: rate %v, calls in progress %v, bound %v; with 10 calls at once the calls set the bound", s.RateBound, s.CallsBound, s.Minimum)
	}
	for _, w := range []string{"summary", "calls placed", "limit 1, the rate", "limit 2, calls in progress", "the longer of the two", "duplicate_client_tokens", "expired"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("summary lacks %q", w)
		}
	}
	if !strings.Contains(progress.String(), "progress: 200/200 done") {
		t.Errorf("progress lines lack the final one:\n%s", progress.String())
	}
}

func TestOptionsValidated(t *testing.T) {
	for i, o := range []Options{{Calls: 5}, {Calls: 100, Refused: 60, Expiring: 50}, {RateScale: -1}} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("step %d: got nil want an error for %+v", i, o)
		}
	}
}
