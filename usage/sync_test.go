package usage_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
	"github.com/tollgatehq/tollgate/usage"
)

// TestSyncKeepsLastValuesOnFailure: a read failure keeps the limits in
// force and is logged once until a read succeeds again.
func TestSyncKeepsLastValuesOnFailure(t *testing.T) {
	clk := &manualClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	f := newFixture(t, sim.Options{Now: clk.Now, Seed: 1})
	ctx := context.Background()
	var logs bytes.Buffer
	h := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{})
	s := usage.NewSync(f.clients.SQ, h, usage.SyncOptions{RateScale: 10, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	changed, err := s.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// RateScale 10: the applied 2/s becomes 20/s, burst scaled alike.
	if l := h.Limit("ListInstances"); l.Rate != 20 || l.Burst != 50 || len(changed) == 0 {
		t.Fatalf("after first refresh: %+v, changed %v", l, changed)
	}
	f.sim.ServiceQuotas().Deny("servicequotas:ListServiceQuotas", true)
	for i := 0; i < 3; i++ {
		if _, err := s.Refresh(ctx); !errors.Is(err, usage.ErrAccessDenied) {
			t.Fatalf("refresh %d while denied: %v", i, err)
		}
	}
	if n := strings.Count(logs.String(), "keeping the last known values"); n != 1 {
		t.Fatalf("failure logged %d times, want once:\n%s", n, logs.String())
	}
	if l := h.Limit("ListInstances"); l.Rate != 20 {
		t.Fatalf("limit changed on failure: %+v", l)
	}
	if !strings.Contains(logs.String(), "servicequotas:ListServiceQuotas") {
		t.Fatalf("log does not name the IAM action:\n%s", logs.String())
	}
	f.sim.ServiceQuotas().Deny("servicequotas:ListServiceQuotas", false)
	if _, err := s.Refresh(ctx); err != nil || !strings.Contains(logs.String(), "readable again") {
		t.Fatalf("recovery: %v\n%s", err, logs.String())
	}
}
