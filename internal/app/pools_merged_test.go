//go:build pools_merged

// TEMPORARY build tag (with pools_dispatch.go): the lead removes it at the
// merge of branch pcore (dispatch.Pool).

package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// accountSim is one simulated account on a real loopback port, verifying
// SigV4 for its own key pair only (the multi-account simulator's account
// k: AKIDSIMACCOUNT00000k / sim-secret-k), with its own instance, flow and
// queue ids.
func accountSim(t *testing.T, k int) (*sim.Server, string, config.Pool) {
	t.Helper()
	seed := sim.DefaultSeed()
	in := &seed.Instances[0]
	in.ID = fmt.Sprintf("5e0f0000-0000-4000-8000-00000000000%d", k)
	in.ContactFlows[0].ID = fmt.Sprintf("5e0f0000-0000-4000-8000-0000000000f%d", k)
	in.Queues[0].ID = fmt.Sprintf("5e0f0000-0000-4000-8000-0000000000a%d", k)
	key, secret := fmt.Sprintf("AKIDSIMACCOUNT%06d", k), fmt.Sprintf("sim-secret-%d", k)
	account := fmt.Sprintf("%012d", 100000000000+k)
	s, err := sim.New(sim.Options{AccountID: account, RateScale: 20, Seed: int64(k), State: seed,
		Credentials:  map[string]string{key: secret},
		CallDuration: sim.Distribution{Kind: sim.DistFixed, Min: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetResourceQuota(quotas.ConcurrentActiveCalls, 1_000_000); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	env := fmt.Sprintf("TOLLGATE_TEST_POOL%d_SECRET", k)
	t.Setenv(env, secret)
	return s, ts.URL, config.Pool{
		Name: fmt.Sprintf("pool%d", k), Account: account, Region: "us-east-1", InstanceID: in.ID, Endpoint: ts.URL, Weight: 1,
		Credentials: config.PoolCredentials{AccessKeyID: key, SecretEnv: env},
		IDs: config.PoolIDs{ContactFlows: map[string]string{"outbound-sales": in.ContactFlows[0].ID},
			Queues: map[string]string{"sales": in.Queues[0].ID}},
	}
}

// TestNewTwoPools: app.New with two pools against two simulated accounts,
// each pool signing with its own access key (secret from the
// environment). Jobs name the logical flow and queue and no instance; every
// one is delivered, the two accounts' contacts add up to the jobs, each
// account saw only its own ids (a request signed for the other account is
// refused there), and PoolStats reports both pools.
func TestNewTwoPools(t *testing.T) {
	sim1, _, p1 := accountSim(t, 1)
	sim2, _, p2 := accountSim(t, 2)
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Limits.RateScale = 20
	cfg.Dispatch.CallTimeout = 5 * time.Second
	cfg.Dispatch.CallPacing = false
	cfg.Pools = config.Pools{p1, p2}
	q := queue.NewMemory(queue.MemoryOptions{})
	a, err := app.New(context.Background(), cfg, app.Options{Queue: q, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Pools) != 2 || len(a.PoolStats()) != 2 {
		t.Fatalf("pools %d, stats %+v", len(a.Pools), a.PoolStats())
	}
	const n = 60
	now := time.Now()
	for i := range n {
		in, _ := json.Marshal(map[string]string{"ContactFlowId": "outbound-sales", "QueueId": "sales",
			"DestinationPhoneNumber": fmt.Sprintf("+1206555%04d", i)})
		j, err := a.CheckJob(queue.Job{Op: "StartOutboundVoiceContact", Input: in}, now)
		if err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
		if _, err := q.Enqueue(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	// A logical name no pool maps is refused at submission.
	if _, err := a.CheckJob(queue.Job{Op: "StartOutboundVoiceContact",
		Input: json.RawMessage(`{"ContactFlowId":"no-such-flow","DestinationPhoneNumber":"+12065550100","InstanceId":"nope"}`)}, now); err == nil {
		t.Error("a job for an instance no pool has was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := q.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Succeeded+st.Dead >= n {
			if st.Dead != 0 {
				t.Errorf("%d jobs dead", st.Dead)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered in time: %+v, pools %+v", st, a.PoolStats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	s1, s2 := sim1.Stats(), sim2.Stats()
	if s1.ContactsStarted+s2.ContactsStarted != n {
		t.Errorf("contacts started %d + %d, want %d", s1.ContactsStarted, s2.ContactsStarted, n)
	}
	if s1.ContactsStarted == 0 || s2.ContactsStarted == 0 {
		t.Errorf("one account did all the work: %d and %d", s1.ContactsStarted, s2.ContactsStarted)
	}
	var delivered int64
	for _, ps := range a.PoolStats() {
		delivered += ps.Delivered
		if !ps.Healthy {
			t.Errorf("pool %s unhealthy: %s", ps.Name, ps.Health)
		}
	}
	if delivered != n {
		t.Errorf("pools delivered %d, want %d: %+v", delivered, n, a.PoolStats())
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
