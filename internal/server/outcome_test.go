package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/internal/client"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// TestJobOutcome: GET /v1/jobs/{id} returns a call's ContactId, attempts,
// outcome and reason: connected, ended without connecting (past the quota,
// with pacing off) and refused.
func TestJobOutcome(t *testing.T) {
	simSrv, err := sim.New(sim.Options{RateScale: 50, Seed: 1, CallDuration: sim.Distribution{Kind: sim.DistFixed, Min: 2 * time.Second, Max: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if err := simSrv.SetResourceQuota(quotas.ConcurrentActiveCalls, 1); err != nil {
		t.Fatal(err)
	}
	s, _ := newServer(t, simSrv, func(c *config.Config) {
		c.Dispatch.CallPacing = false // today's behaviour: the second call hears a reorder tone
		c.Dispatch.ContactPoll = 200 * time.Millisecond
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	c := &client.Client{BaseURL: "http://" + ln.Addr().String(), Token: testToken}
	// Pacing is off and the quota is one call, so of two calls placed
	// together one connects and the other hears a reorder tone; which one
	// depends on the order the workers reach the simulator.
	body := []byte(fmt.Sprintf(`{"id":"call-a",%s`+"\n"+`{"id":"call-b",%s`+"\n"+`{"id":"call-refused",%s`+"\n",
		sovcLine("+12065550100")[1:], sovcLine("+12065550101")[1:], sovcLine("+15550001111")[1:]))
	if res, err := c.SubmitRaw(ctx, body); err != nil || res.Accepted != 3 {
		t.Fatalf("submit: %+v %v", res, err)
	}
	ids := []string{"call-a", "call-b", "call-refused"}
	got := map[string]queue.Job{}
	for deadline := time.Now().Add(30 * time.Second); len(got) < len(ids); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			for _, id := range ids {
				if _, ok := got[id]; !ok {
					j, err := c.Job(ctx, id)
					t.Logf("%s: status %s outcome %q reason %q contacts %v receives %d last error %q (%v)", id, j.Status, j.Outcome, j.OutcomeReason, j.ContactIDs, j.Receives, j.LastError, err)
				}
			}
			t.Fatalf("outcomes not final (%d of %d)", len(got), len(ids))
		}
		for _, id := range ids {
			j, err := c.Job(ctx, id)
			if err == nil && j.Outcome != "" && j.Outcome != queue.OutcomePlaced {
				got[id] = j
			}
		}
	}
	byOutcome := map[string]queue.Job{}
	for _, id := range ids[:2] {
		byOutcome[got[id].Outcome] = got[id]
	}
	ok, reorder, refused := byOutcome[queue.OutcomeConnected], byOutcome[queue.OutcomeEndedWithoutConnecting], got["call-refused"]
	if len(byOutcome) != 2 || ok.ID == "" || reorder.ID == "" {
		t.Fatalf("want one call connected and one ended without connecting, got %s=%s %s=%s", ids[0], got[ids[0]].Outcome, ids[1], got[ids[1]].Outcome)
	}
	if len(ok.ContactIDs) != 1 || ok.Receives != 1 || ok.OutcomeReason != sim.ReasonCustomerDisconnect {
		t.Errorf("connected job: %+v", ok)
	}
	if len(reorder.ContactIDs) != 1 || reorder.Status != queue.StatusSucceeded {
		t.Errorf("reorder job: %+v", reorder)
	}
	if refused.Status != queue.StatusDead || refused.Outcome != queue.OutcomeRefused || len(refused.ContactIDs) != 0 || refused.OutcomeReason == "" {
		t.Errorf("refused job: %+v", refused)
	}
	// The wire form carries the contract's field names.
	code, raw := do(t, s.Handler(), "GET", "/v1/jobs/"+reorder.ID, testToken, nil)
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); code != 200 || err != nil || m["outcome"] != "ended_without_connecting" || m["contact_ids"] == nil || m["outcome_reason"] == nil {
		t.Errorf("GET /v1/jobs/%s: %d %s", reorder.ID, code, raw)
	} else {
		t.Logf("GET /v1/jobs/%s: %s", reorder.ID, raw)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
