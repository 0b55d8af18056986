package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/sim"
)

// TestPoolsPanelInBrowser: the dashboard's pools panel, in headless
// Chromium, shows each pool's delivered count as serve holds it, and a
// pool whose account refuses every call (a simulated AccessDenied outage)
// as out of rotation while the other keeps delivering.
func TestPoolsPanelInBrowser(t *testing.T) {
	execPath := chromiumPath(t)
	s, sims := newPoolsServer(t)
	base := serveOn(t, s)
	ctx := t.Context()
	h := s.Handler()
	submit := func(from, n int) {
		var jobs []string
		for i := from; i < from+n; i++ {
			jobs = append(jobs, fmt.Sprintf(`{"op":"StartOutboundVoiceContact","input":{"ContactFlowId":"outbound-sales","DestinationPhoneNumber":"+1206555%04d"}}`, i))
		}
		if code, body := do(t, h, "POST", "/v1/jobs", testToken, []byte(strings.Join(jobs, "\n"))); code != 202 {
			t.Fatalf("submit: %d %s", code, body)
		}
	}
	stats := func() api.StatsResponse {
		_, body := do(t, h, "GET", "/v1/stats", testToken, nil)
		var st api.StatsResponse
		_ = json.Unmarshal([]byte(body), &st)
		return st
	}
	// waitStats is a hang guard, not a speed target.
	waitStats := func(what string, ok func(api.StatsResponse) bool) api.StatsResponse {
		guard, stop := context.WithTimeout(ctx, time.Minute)
		defer stop()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if st := stats(); ok(st) {
				return st
			}
			select {
			case <-guard.Done():
				t.Fatalf("%s: not reached; stats %+v", what, stats())
			case <-tick.C:
			}
		}
	}
	submit(0, 20)
	waitStats("20 delivered", func(st api.StatsResponse) bool { return st.Queue.Succeeded == 20 })
	if err := sims[1].SetOutage(sim.OutageAccessDenied); err != nil {
		t.Fatal(err)
	}
	submit(20, 40)
	st := waitStats("pool2 out, all 60 delivered", func(st api.StatsResponse) bool {
		return st.Queue.Succeeded == 60 && len(st.Pools) == 2 && !st.Pools[1].Healthy
	})

	bctx := newBrowser(t, execPath, 60*time.Second)
	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), testToken),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.CSS(`[data-pool="pool2"] [data-role="health"]`)),
	); err != nil {
		t.Fatalf("waiting for the pools panel: %v", err)
	}
	// One script reads every cell: the panel is redrawn as state arrives.
	cells, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]map[string]string](`(() => {
		const out = {};
		for (const tr of document.querySelectorAll("[data-pool]")) {
			const row = {};
			for (const td of tr.querySelectorAll("td")) row[td.dataset.role] = td.textContent.trim();
			out[tr.dataset.pool] = row;
		}
		return out;
	})()`))
	if err != nil {
		t.Fatalf("reading the panel: %v", err)
	}
	for _, p := range st.Pools {
		row := cells[p.Name]
		if row["delivered"] != fmt.Sprint(p.Delivered) || row["account"] != p.Account {
			t.Errorf("pool %s: the page shows %v; serve holds delivered %d, account %s", p.Name, row, p.Delivered, p.Account)
		}
	}
	if h := cells["pool2"]["health"]; !strings.HasPrefix(h, "out") && !strings.HasPrefix(h, "probing") {
		t.Errorf("pool2's health shows %q, want out of rotation", h)
	}
	if h := cells["pool1"]["health"]; h != "ok" {
		t.Errorf("pool1's health shows %q, want ok", h)
	}
	t.Logf("the page shows %v", cells)
}
