package app_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// TestCallBudgetFromServiceQuotas: with limits.quota_sync and call pacing
// on, an instance's calls-in-progress budget follows its applied
// concurrent-active-calls quota in Service Quotas (here 3, the quota
// table's 10 until read), less dispatch.call_reserve.
func TestCallBudgetFromServiceQuotas(t *testing.T) {
	table := quotas.Default()
	r, _ := table.Resource(quotas.ConcurrentActiveCalls)
	r.Default = 3
	if err := table.SetResource(r); err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Options{Quotas: table})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.AWS.Endpoint = ts.URL
	cfg.Limits.QuotaSync = time.Second
	cfg.Dispatch.Voice.CallReserve = 1
	a, err := app.New(context.Background(), cfg, app.Options{AWS: staticAWS(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if q, b := a.CallBudget.Limit(sim.DefaultInstanceID); q != 10 || b != 9 {
		t.Fatalf("before the sync: quota %d budget %d, want the table's 10 and 9", q, b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// A hang guard, not a speed target: the first read is due at once.
	guard, stop := context.WithTimeout(ctx, time.Minute)
	defer stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		q, b := a.CallBudget.Limit(sim.DefaultInstanceID)
		if q == 3 && b == 2 {
			return
		}
		select {
		case <-guard.Done():
			t.Fatalf("after the sync: quota %d budget %d, want Service Quotas' 3 and 2", q, b)
		case <-tick.C:
		}
	}
}
