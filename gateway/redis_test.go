package gateway_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/redisx"
	"github.com/tollgatehq/tollgate/sim"
)

// TestTwoGatewaysShareRedisBuckets: two gateways on one real redis-server
// share ListQueues' bucket (burst 2): after two calls through the first,
// the second cannot admit a third inside its deadline, and the simulator
// saw two requests.
func TestTwoGatewaysShareRedisBuckets(t *testing.T) {
	rs := redis.Start(t, redis.Options{})
	s, err := sim.New(sim.Options{Credentials: map[string]string{gwKey: gwSecret}})
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(s)
	defer up.Close()
	table := quotas.Default()
	a, _ := table.API("ListQueues")
	a.Rate, a.Burst = 0.1, 2
	if err := table.SetAPI(a); err != nil {
		t.Fatal(err)
	}
	cs, err := gateway.ParseCallers("callers.yaml", []byte(callersYAML), func(string) string { return dialerSec })
	if err != nil {
		t.Fatal(err)
	}
	start := func() string {
		rl, err := redisx.New(redisx.Options{URL: rs.URL(), Account: sim.DefaultAccountID, Region: "us-east-1", Table: table})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rl.Close() })
		gw, err := gateway.New(gateway.Options{Upstream: up.URL, Credentials: credentials.NewStaticCredentialsProvider(gwKey, gwSecret, ""),
			Governor: governor.New(rl, governor.Options{}), Callers: cs})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(gw)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	e1, e2 := &env{gwURL: start(), simURL: up.URL, sim: s}, &env{gwURL: start(), simURL: up.URL, sim: s}
	lq := "/queues-summary/" + sim.DefaultInstanceID
	for i := range 2 {
		if a := send(t, signedReq(t, e1, "GET", lq, "", dialerKey, dialerSec, "connect", "us-east-1", time.Now())); a.status != 200 {
			t.Fatalf("call %d through the first gateway: %+v", i, a)
		}
	}
	r := signedReq(t, e2, "GET", lq, "", dialerKey, dialerSec, "connect", "us-east-1", time.Now())
	r.Header.Set("X-Tollgate-Deadline", "300ms")
	if a := send(t, r); a.status != 429 || a.class != "rate-throttle" {
		t.Fatalf("third call through the second gateway: %+v, want a 429 from the shared, empty bucket", a)
	}
	if got := s.Stats().Totals.Requests; got != 2 {
		t.Fatalf("simulator saw %d requests, want 2", got)
	}
}
