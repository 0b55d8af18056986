package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// TestServePools: serve with two pools (two simulated accounts, each
// verifying its own access key): jobs naming the logical flow and no
// instance are accepted (the pool-aware check), a logical name no pool
// maps is refused with 400, GET /v1/stats lists both pools, and /metrics
// has tollgate_pool_healthy for each.
// newPoolsServer builds serve with two pools, pool1 and pool2: two
// simulated accounts on loopback, each verifying its own access key, their
// concurrent-calls quotas raised (1 ms calls). It returns the server and
// the accounts' simulators.
func newPoolsServer(t *testing.T) (*server.Server, []*sim.Server) {
	t.Helper()
	var pools config.Pools
	var sims []*sim.Server
	for k := 1; k <= 2; k++ {
		seed := sim.DefaultSeed()
		in := &seed.Instances[0]
		in.ID = fmt.Sprintf("5e0f0000-0000-4000-8000-00000000000%d", k)
		in.ContactFlows[0].ID = fmt.Sprintf("5e0f0000-0000-4000-8000-0000000000f%d", k)
		key, secret := fmt.Sprintf("AKIDSIMACCOUNT%06d", k), fmt.Sprintf("sim-secret-%d", k)
		s, err := sim.New(sim.Options{AccountID: fmt.Sprintf("%012d", 100000000000+k), RateScale: 50, Seed: int64(k), State: seed,
			Credentials: map[string]string{key: secret}, CallDuration: sim.Distribution{Kind: sim.DistFixed, Min: time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetResourceQuota(quotas.ConcurrentActiveCalls, 1_000_000); err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s)
		t.Cleanup(ts.Close)
		env := fmt.Sprintf("TOLLGATE_TEST_SERVE_POOL%d_SECRET", k)
		t.Setenv(env, secret)
		pools = append(pools, config.Pool{Name: fmt.Sprintf("pool%d", k), Account: fmt.Sprintf("%012d", 100000000000+k), Region: "us-east-1",
			InstanceID: in.ID, Endpoint: ts.URL, Weight: 1, Credentials: config.PoolCredentials{AccessKeyID: key, SecretEnv: env},
			IDs: config.PoolIDs{ContactFlows: map[string]string{"outbound-sales": in.ContactFlows[0].ID}}})
		sims = append(sims, s)
	}
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Token = testToken
	cfg.Limits.RateScale = 50
	cfg.Dispatch.CallTimeout = 5 * time.Second
	cfg.Dispatch.CallPacing = false
	cfg.Pools = pools
	s, err := server.New(context.Background(), cfg, app.Options{Queue: queue.NewMemory(queue.MemoryOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	return s, sims
}

func TestServePools(t *testing.T) {
	s, _ := newPoolsServer(t)
	h := s.Handler()
	var jobs []string
	for i := range 10 {
		jobs = append(jobs, fmt.Sprintf(`{"op":"StartOutboundVoiceContact","input":{"ContactFlowId":"outbound-sales","DestinationPhoneNumber":"+1206555%04d"}}`, i))
	}
	if code, body := do(t, h, "POST", "/v1/jobs", testToken, []byte(strings.Join(jobs, "\n"))); code != 202 {
		t.Fatalf("submit: %d %s", code, body)
	}
	if code, body := do(t, h, "POST", "/v1/jobs", testToken, []byte(`{"op":"StartOutboundVoiceContact","input":{"InstanceId":"not-a-pool","ContactFlowId":"outbound-sales","DestinationPhoneNumber":"+12065550100"}}`)); code != 400 {
		t.Errorf("a job for an instance no pool has: %d %s", code, body)
	}
	code, body := do(t, h, "GET", "/v1/stats", testToken, nil)
	var st api.StatsResponse
	if code != 200 || json.Unmarshal([]byte(body), &st) != nil || len(st.Pools) != 2 || st.Pools[0].Name != "pool1" || st.Pools[1].Account != "100000000002" {
		t.Errorf("stats: %d %s", code, body)
	}
	code, body = do(t, h, "GET", "/metrics", testToken, nil)
	if code != 200 || !strings.Contains(body, `tollgate_pool_healthy{pool="pool1"} 1`) || !strings.Contains(body, `tollgate_pool_delivered_total{pool="pool2"}`) {
		t.Errorf("metrics: %d, no pool series", code)
	}
	// Run it: every job is delivered on one pool or the other, and each
	// pool's attempts are counted under its name.
	serveOn(t, s)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body = do(t, h, "GET", "/v1/stats", testToken, nil)
		st = api.StatsResponse{}
		_ = json.Unmarshal([]byte(body), &st)
		if len(st.Pools) == 2 && st.Pools[0].Delivered+st.Pools[1].Delivered == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, body = do(t, h, "GET", "/metrics", testToken, nil)
	for _, p := range st.Pools {
		if line := fmt.Sprintf(`tollgate_pool_attempts_total{class="ok",pool="%s"} `, p.Name); p.Delivered > 0 && !strings.Contains(body, line) {
			t.Errorf("metrics lack %s", line)
		}
	}
}
