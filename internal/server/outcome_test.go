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
	body := []byte(fmt.Sprintf(`{"id":"call-ok",%s`+"\n"+`{"id":"call-reorder",%s`+"\n"+`{"id":"call-refused",%s`+"\n",
		sovcLine("+12065550100")[1:], sovcLine("+12065550101")[1:], sovcLine("+15550001111")[1:]))
	if res, err := c.SubmitRaw(ctx, body); err != nil || res.Accepted != 3 {
		t.Fatalf("submit: %+v %v", res, err)
	}
	want := map[string]string{"call-ok": queue.OutcomeConnected, "call-reorder": queue.OutcomeEndedWithoutConnecting, "call-refused": queue.OutcomeRefused}
	got := map[string]queue.Job{}
	for deadline := time.Now().Add(30 * time.Second); len(got) < len(want); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("outcomes not final: %+v", got)
		}
		for id, w := range want {
			j, err := c.Job(ctx, id)
			if err == nil && j.Outcome == w {
				got[id] = j
			}
		}
	}
	ok, reorder, refused := got["call-ok"], got["call-reorder"], got["call-refused"]
	if len(ok.ContactIDs) != 1 || ok.Receives != 1 || ok.OutcomeReason != sim.ReasonCustomerDisconnect {
		t.Errorf("connected job: %+v", ok)
	}
	if len(reorder.ContactIDs) != 1 || reorder.Status != queue.StatusSucceeded {
		t.Errorf("reorder job: %+v", reorder)
	}
	if refused.Status != queue.StatusDead || len(refused.ContactIDs) != 0 || refused.OutcomeReason == "" {
		t.Errorf("refused job: %+v", refused)
	}
	// The wire form carries the contract's field names.
	code, raw := do(t, s.Handler(), "GET", "/v1/jobs/call-reorder", testToken, nil)
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); code != 200 || err != nil || m["outcome"] != "ended_without_connecting" || m["contact_ids"] == nil || m["outcome_reason"] == nil {
		t.Errorf("GET /v1/jobs/call-reorder: %d %s", code, raw)
	} else {
		t.Logf("GET /v1/jobs/call-reorder: %s", raw)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
