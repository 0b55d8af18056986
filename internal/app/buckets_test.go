package app_test

import (
	"math"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
)

func TestBucketDeficits(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	limit := func(string) ratelimit.Limit { return ratelimit.Limit{Rate: 2, Burst: 5} }
	type step struct {
		saved float64
		after time.Duration
		want  float64
	}
	for i, st := range []step{
		{saved: 0, after: 0, want: 5},                       // empty: take the whole burst back
		{saved: 0, after: 1500 * time.Millisecond, want: 3}, // refilled 2 since the next save was due
		{saved: 1, after: time.Second, want: 3},             // 1 + 1
		{saved: 0, after: 250 * time.Millisecond, want: 5},  // within the unsaved interval: assumed spent
		{saved: 4, after: 2 * time.Second, want: 0},         // full again
		{saved: -3, after: 0, want: 5},                      // reservations outstanding: at most the burst
		{saved: 0, after: -time.Second, want: 5},            // a clock step back counts as no time
	} {
		lv := app.BucketLevels{SavedAt: t0, Ops: map[string]float64{"StartOutboundVoiceContact": st.saved}}
		got := lv.Deficits(t0.Add(st.after), 500*time.Millisecond, limit)["StartOutboundVoiceContact"]
		if math.Abs(got-st.want) > 1e-9 {
			t.Errorf("step %d: got %v want %v", i, got, st.want)
		}
	}
}

// TestBucketSnapshotRestore: the levels a hierarchy saved, taken back from
// a fresh one, leave it where the old one was, less the refill since.
func TestBucketSnapshotRestore(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	table := quotas.Default()
	op := "StartOutboundVoiceContact"
	old := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: table})
	for range 4 {
		if d, err := old.TryAt(t0, ratelimit.Request{Op: op}); err != nil || !d.OK {
			t.Fatalf("admit: %v %v", d, err)
		}
	}
	lv := app.SnapshotBuckets(old, []string{op, "ListQueues"}, t0)
	if len(lv.Ops) != 1 {
		t.Fatalf("snapshot %v, want only the drained operation", lv.Ops)
	}
	fresh := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: table})
	now := t0.Add(250 * time.Millisecond)
	for o, d := range lv.Deficits(now, 0, fresh.Limit) {
		if dec, err := fresh.TryAt(now, ratelimit.Request{Op: o, Cost: d, Priority: ratelimit.PriorityCritical}); err != nil || !dec.OK {
			t.Fatalf("restore %s: %v %v", o, dec, err)
		}
	}
	got, _ := fresh.TokensAt(now, op)
	want, _ := old.TokensAt(now, op)
	if math.Abs(got-want) > 1e-9 {
		t.Fatalf("restored bucket holds %v, the old one %v", got, want)
	}
}
