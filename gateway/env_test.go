package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

const (
	gwKey     = "AKIDGATEWAYOWNKEY001"
	gwSecret  = "gateway-own-secret"
	dialerKey = "AKIDDIALER0000000001"
	dialerSec = "dialer-secret"
	adminKey  = "AKIDADMIN00000000001"
	adminSec  = "admin-secret"
	// apiToken is the bearer token of the gateway's /metrics and state.
	apiToken = "gateway-api-token-0123456789"
)

const callersYAML = `callers:
  - access_key_id: AKIDDIALER0000000001
    secret_env: DIALER_SECRET
    principal: dialer
    operations: [StartOutboundVoiceContact, ListQueues]
    priority: 1
    share: 1
  - access_key_id: AKIDADMIN00000000001
    secret_env: ADMIN_SECRET
    principal: admin
    operations: ["*"]
`

// capture records the headers of the last request the simulator received.
type capture struct {
	h    http.Handler
	mu   sync.Mutex
	last *http.Request
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.last = r.Clone(context.Background())
	c.mu.Unlock()
	c.h.ServeHTTP(w, r)
}

func (c *capture) lastRequest() *http.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

type env struct {
	sim    *sim.Server
	simURL string
	cap    *capture
	gw     *gateway.Gateway
	gwURL  string
	offset atomic.Int64 // added to the gateway's clock
}

type envOptions struct {
	limits   map[string]ratelimit.Limit
	deadline time.Duration
	maxBody  int64
	bodyWait time.Duration // Options.BodyTimeout
}

// newEnv starts the simulator (verifying only the gateway's key) and the
// gateway in front of it, both on loopback.
func newEnv(t testing.TB, eo envOptions) *env {
	t.Helper()
	s, err := sim.New(sim.Options{Credentials: map[string]string{gwKey: gwSecret}, RetryAfter: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{sim: s, cap: &capture{h: s}}
	simSrv := httptest.NewServer(e.cap)
	t.Cleanup(simSrv.Close)
	e.simURL = simSrv.URL
	cs, err := gateway.ParseCallers("callers.yaml", []byte(callersYAML), func(k string) string {
		return map[string]string{"DIALER_SECRET": dialerSec, "ADMIN_SECRET": adminSec}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	lim := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Ops: eo.limits})
	gw, err := gateway.New(gateway.Options{
		Upstream:     simSrv.URL,
		Credentials:  credentials.NewStaticCredentialsProvider(gwKey, gwSecret, ""),
		Governor:     governor.New(lim, governor.Options{}),
		Callers:      cs,
		Deadline:     eo.deadline,
		MaxBodyBytes: eo.maxBody,
		BodyTimeout:  eo.bodyWait,
		Now:          func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) },
		Token:        apiToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.gw = gw
	gwSrv := httptest.NewServer(gw)
	t.Cleanup(gwSrv.Close)
	e.gwURL = gwSrv.URL
	return e
}

// simCounts reads the simulator's per-caller stats over its admin API and
// returns the totals and the gateway key's counts.
func (e *env) simCounts(t testing.TB) (total, viaGateway sim.Counts) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.simURL+"/_sim/stats", nil)
	req.Header.Set("Authorization", "Bearer "+e.sim.AdminToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st sim.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Totals, st.Callers[gwKey]
}

// getAdmin GETs one of the gateway's own endpoints with token (none when
// empty) and returns the status and body.
func (e *env) getAdmin(t testing.TB, path, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.gwURL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// client is a real aws-sdk-go-v2 Connect client pointed at the gateway:
// only the endpoint and the keys differ from a direct client.
func (e *env) client(key, secret string) *connect.Client {
	return connect.New(connect.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(e.gwURL),
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		RetryMaxAttempts: 1,
	})
}

func writeFile(t testing.TB, dir, name, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}
