package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/chromedp/chromedp"

	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

const gatewayCallers = `callers:
  - access_key_id: AKIDDIALER0000000001
    secret: "dialer-secret"
    principal: dialer
    operations: [ListQueues]
`

// startGateway runs a tollgate gateway in front of simSrv on loopback,
// accepting serve's token (testToken) on its own endpoints.
func startGateway(t *testing.T, simSrv *sim.Server) (*gateway.Gateway, string) {
	t.Helper()
	up := httptest.NewServer(simSrv)
	t.Cleanup(up.Close)
	cs, err := gateway.ParseCallers("callers.yaml", []byte(gatewayCallers), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	lim := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Ops: map[string]ratelimit.Limit{"ListQueues": {Rate: 100, Burst: 100}}})
	gw, err := gateway.New(gateway.Options{
		Upstream:    up.URL,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDGATEWAY", "gateway-secret", ""),
		Governor:    governor.New(lim, governor.Options{}),
		Callers:     cs,
		Deadline:    3 * time.Second,
		Token:       testToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return gw, srv.URL
}

// TestGatewayPanelInBrowser: serve with gateway_url shows the gateway's
// state per caller × operation. A real SDK client calls through the
// gateway; the simulator then throttles ListQueues below what the gateway
// believes, so the gateway meets upstream 429s; a call outside the
// caller's operations is refused. Headless Chromium logs in to serve's
// dashboard and must see the row dialer/ListQueues with the gateway's own
// counts (admitted, throttled upstream) and the refusal, and a wrong
// gateway token must show as an error, not as data.
func TestGatewayPanelInBrowser(t *testing.T) {
	execPath := chromiumPath(t)
	simSrv := newSim(t)
	gw, gwURL := startGateway(t, simSrv)
	_, base := startServe(t, simSrv, func(c *config.Config) { c.GatewayURL = gwURL })

	c := connect.New(connect.Options{Region: "us-east-1", BaseEndpoint: aws.String(gwURL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDDIALER0000000001", "dialer-secret", ""), RetryMaxAttempts: 1})
	ctx := context.Background()
	for range 5 {
		if _, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)}); err != nil {
			t.Fatalf("ListQueues through the gateway: %v", err)
		}
	}
	if err := simSrv.SetQuota("ListQueues", 2, 1); err != nil {
		t.Fatal(err)
	}
	for range 4 { // the gateway retries the simulator's 429s inside its deadline
		_, _ = c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)})
	}
	_, _ = c.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: aws.String(sim.DefaultInstanceID)}) // refused
	want := rowOf(gw.State(time.Now()), "dialer", "ListQueues")
	if want == nil || want.Admitted < 9 || want.ThrottledUpstream < 1 {
		t.Fatalf("the gateway's own state: %+v", want)
	}

	// serve's /v1/state carries the gateway's state (with serve's token).
	req, _ := http.NewRequest("GET", base+"/v1/state", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Gateway *struct {
			Error string         `json:"error"`
			State *gateway.State `json:"state"`
		} `json:"gateway"`
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.Gateway == nil || st.Gateway.State == nil || rowOf(*st.Gateway.State, "dialer", "ListQueues") == nil {
		t.Fatalf("serve's /v1/state has no gateway state: %v %+v", err, st.Gateway)
	}

	bctx := newBrowser(t, execPath, 60*time.Second)
	row := `[data-gateway-row="dialer/ListQueues"] `
	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), testToken),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.CSS(row+`[data-role="admitted"]`)),
	); err != nil {
		t.Fatalf("waiting for the gateway panel: %v", err)
	}
	// read reads one row's cells in one script: the panel is redrawn every
	// second, so reading cell by cell could tear.
	read := func(key string) map[string]string {
		m, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]string](`(() => {
			const out = {};
			const tr = document.querySelector('[data-gateway-row="' + `+strconv.Quote(key)+` + '"]');
			if (tr) for (const td of tr.querySelectorAll("td")) out[td.dataset.role] = td.textContent.trim();
			return out;
		})()`))
		if err != nil {
			t.Fatalf("reading the row %s: %v", key, err)
		}
		return m
	}
	now := rowOf(gw.State(time.Now()), "dialer", "ListQueues")
	cells := read("dialer/ListQueues")
	admittedText, throttledText := cells["admitted"], cells["throttled"]
	admitted, _ := strconv.ParseInt(admittedText, 10, 64)
	throttled, _ := strconv.ParseInt(throttledText, 10, 64)
	if admitted != now.Admitted || throttled != now.ThrottledUpstream {
		t.Fatalf("the page shows admitted %q, throttled upstream %q; the gateway holds %d, %d", admittedText, throttledText, now.Admitted, now.ThrottledUpstream)
	}
	if lat := cells["latency"]; !strings.HasSuffix(lat, "ms") && !strings.HasSuffix(lat, " s") {
		t.Fatalf("latency cell %q (row %v)", lat, cells)
	}
	if got := read("dialer/DescribeInstance")["refused"]; got != "1" {
		t.Fatalf("refused DescribeInstance shows %q", got)
	}
	t.Logf("the page shows dialer × ListQueues: %d admitted, %d throttled upstream, answers %q, mean wait %s, mean latency %s, p95 %s",
		admitted, throttled, cells["answers"], cells["waited"], cells["latency"], cells["p95"])
}

// TestGatewayPanelWrongToken: a gateway that does not accept serve's token
// shows as an error in serve's state, never as data, and serve refuses a
// gateway_url that would send its token in clear off the machine.
func TestGatewayPanelWrongToken(t *testing.T) {
	simSrv := newSim(t)
	_, gwURL := startGateway(t, simSrv)
	s, _ := newServer(t, simSrv, func(c *config.Config) { c.GatewayURL = gwURL; c.Token = "another-token-0123456789" })
	code, body := do(t, s.Handler(), "GET", "/v1/state", "another-token-0123456789", nil)
	if code != http.StatusOK || !strings.Contains(body, "refused serve's token") || strings.Contains(body, `"callers"`) {
		t.Fatalf("state with a gateway that refuses the token: %d %s", code, body)
	}
	if strings.Contains(body, "another-token") {
		t.Fatal("the state echoes serve's token")
	}
	for _, bad := range []string{"http://10.0.0.5:8443", "ftp://127.0.0.1", "https://user:pw@gw.example:8443", "http://127.0.0.1:8443/?x=1"} {
		cfg := config.Default()
		cfg.DataDir, cfg.Token, cfg.GatewayURL = t.TempDir(), testToken, bad
		if _, err := serverNew(cfg, simSrv); err == nil || strings.Contains(err.Error(), "pw@") {
			t.Errorf("gateway_url %q: %v", bad, err)
		}
	}
}

// serverNew builds a server on cfg against h, for the configuration
// checks (it fails before opening anything).
func serverNew(cfg config.Config, h http.Handler) (*server.Server, error) {
	return server.New(context.Background(), cfg, app.Options{AWS: staticAWSFor(h), Queue: queue.NewMemory(queue.MemoryOptions{})})
}

func rowOf(st gateway.State, principal, op string) *gateway.CallerState {
	for i := range st.Callers {
		if st.Callers[i].Principal == principal && st.Callers[i].Operation == op {
			return &st.Callers[i]
		}
	}
	return nil
}
