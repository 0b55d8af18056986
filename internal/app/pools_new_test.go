package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// multiSim is the simulator with two accounts on a real loopback port
// (account k: key AKIDSIMACCOUNT00000k, secret sim-secret-k, verified),
// and the pools over it: pool1 signs with account 1's access key (the
// secret from the environment), pool2 assumes account 2's role through
// the simulator's STS (signed with account 1's key, the "home" account).
func multiSim(t *testing.T) (*sim.Multi, config.Pools) {
	t.Helper()
	m, err := sim.NewMulti(sim.Options{Accounts: 2, RateScale: 20, Seed: 1,
		CallDuration: sim.Distribution{Kind: sim.DistFixed, Min: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	ts := httptest.NewServer(m)
	t.Cleanup(ts.Close)
	var pools config.Pools
	for _, a := range m.Accounts() {
		if err := m.Account(a.Index).SetResourceQuota(quotas.ConcurrentActiveCalls, 1_000_000); err != nil {
			t.Fatal(err)
		}
		p := config.Pool{Name: fmt.Sprintf("pool%d", a.Index), Account: a.AccountID, Region: a.Region, InstanceID: a.InstanceID,
			Endpoint: ts.URL, Weight: 1,
			IDs: config.PoolIDs{ContactFlows: map[string]string{"outbound-sales": a.ContactFlowID},
				Queues: map[string]string{"sales": a.QueueID}}}
		if a.Index == 1 {
			env := "TOLLGATE_TEST_POOL1_SECRET"
			t.Setenv(env, a.SecretAccessKey)
			p.Credentials = config.PoolCredentials{AccessKeyID: a.AccessKeyID, SecretEnv: env}
		} else {
			p.Credentials = config.PoolCredentials{RoleARN: a.RoleARN, STSEndpoint: ts.URL}
		}
		pools = append(pools, p)
	}
	return m, pools
}

// TestNewTwoPools: app.New with two pools against two simulated accounts,
// one signing with its access key (secret from the environment), the other
// with the role it assumed at start. Jobs name the logical flow and queue and no instance; every
// one is delivered, the two accounts' contacts add up to the jobs, each
// account saw only its own ids (a request signed for the other account is
// refused there), and PoolStats reports both pools.
func TestNewTwoPools(t *testing.T) {
	m, pools := multiSim(t)
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Limits.RateScale = 20
	cfg.Dispatch.CallTimeout = 5 * time.Second
	cfg.Dispatch.CallPacing = false
	cfg.Pools = pools
	q := queue.NewMemory(queue.MemoryOptions{})
	key, secret := sim.AccountKey(1)
	home := &aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")}
	a, err := app.New(context.Background(), cfg, app.Options{AWS: home, Queue: q, Logger: slog.New(slog.DiscardHandler)})
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
	s1, s2 := m.Account(1).Stats(), m.Account(2).Stats()
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

// TestPoolsQuotaSync: with limits.quota_sync each pool reads its own
// account's Service Quotas with its own credentials — the two accounts'
// applied StartOutboundVoiceContact rates (raised differently) become the
// pools' bucket rates times rate_scale, and account 2's concurrent-calls
// quota becomes pool2's instance budget while pool1 keeps account 1's.
func TestPoolsQuotaSync(t *testing.T) {
	m, pools := multiSim(t)
	table := quotas.Default()
	api, _ := table.API("StartOutboundVoiceContact")
	calls, _ := table.Resource(quotas.ConcurrentActiveCalls)
	for k, factor := range map[int]float64{1: 2, 2: 3} {
		if err := m.Account(k).ServiceQuotas().SetApplied(api.Code, api.Rate*factor); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Account(2).ServiceQuotas().SetApplied(calls.Code, 7); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Limits.RateScale = 20
	cfg.Limits.QuotaSync = time.Second
	cfg.Dispatch.Voice.CallReserve = 1
	cfg.Pools = pools
	key, secret := sim.AccountKey(1)
	home := &aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")}
	a, err := app.New(context.Background(), cfg, app.Options{AWS: home, Queue: queue.NewMemory(queue.MemoryOptions{}), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	p1, p2 := a.Pools[0], a.Pools[1]
	if r1, r2 := p1.Admission.Limiter.Limit(api.Op).Rate, p2.Admission.Limiter.Limit(api.Op).Rate; r1 != api.Rate*20 || r2 != api.Rate*20 {
		t.Fatalf("before the sync: rates %v and %v, want the table's %v", r1, r2, api.Rate*20)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	want := func() string {
		r1, r2 := p1.Admission.Limiter.Limit(api.Op).Rate, p2.Admission.Limiter.Limit(api.Op).Rate
		q1, _ := p1.CallBudget.Limit(p1.Config.InstanceID)
		q2, b2 := p2.CallBudget.Limit(p2.Config.InstanceID)
		if r1 == api.Rate*2*20 && r2 == api.Rate*3*20 && q1 == calls.Default && q2 == 7 && b2 == 6 {
			return ""
		}
		return fmt.Sprintf("rates %v and %v (want %v and %v), call quotas %d and %d (want %d and 7), pool2 budget %d (want 6)",
			r1, r2, api.Rate*2*20, api.Rate*3*20, q1, q2, calls.Default, b2)
	}
	// A hang guard, not a speed target: the first reads are due at once.
	guard := time.After(time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		miss := want()
		if miss == "" {
			return
		}
		select {
		case <-guard:
			t.Fatalf("after the sync: %s", miss)
		case <-tick.C:
		}
	}
}
