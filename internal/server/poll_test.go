package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/poller"
	"github.com/tollgatehq/tollgate/sim"
)

func withPoll(interval time.Duration) func(*config.Config) {
	return func(c *config.Config) {
		c.Poll.Instance, c.Poll.Queues, c.Poll.Interval = sim.DefaultInstanceID, sim.DefaultQueueID, interval
	}
}

// TestPollEndpointsRefuseStrangers: every new endpoint refuses a request
// without the token or a session: 401, and the page is the login form,
// never data.
func TestPollEndpointsRefuseStrangers(t *testing.T) {
	s, _ := newServer(t, newSim(t), withPoll(time.Second))
	h := s.Handler()
	for _, path := range []string{"/v1/metrics", "/v1/metrics/queues", "/v1/events", "/v1/state", "/assets/dashboard.js", "/assets/style.css"} {
		for _, tok := range []string{"", "wrong-token-0123456789"} {
			code, body := do(t, h, "GET", path, tok, nil)
			if code != http.StatusUnauthorized || !strings.Contains(body, "unauthorized") {
				t.Errorf("GET %s token %q: %d %s", path, tok, code, body)
			}
		}
		req, _ := http.NewRequest("GET", path, nil)
		req.AddCookie(&http.Cookie{Name: server.SessionCookie, Value: strings.Repeat("a", 64)})
		if code, _ := serve(h, req); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a made-up session: %d want 401", path, code)
		}
	}
	code, body := do(t, h, "GET", "/", "", nil)
	if code != http.StatusUnauthorized || !strings.Contains(body, `action="/login"`) || strings.Contains(body, "dashboard.js") {
		t.Errorf("GET / without a session: %d, want 401 and the login form: %s", code, body)
	}
	code, body = postForm(t, h, "/login", "token=wrong-token-0123456789")
	if code != http.StatusUnauthorized || !strings.Contains(body, "does not match") {
		t.Errorf("login with a wrong token: %d %s", code, body)
	}
	code, _ = postForm(t, h, "/login?token="+testToken, "token="+testToken)
	if code != http.StatusBadRequest {
		t.Errorf("login with the token in the URL: %d want 400", code)
	}
}

func serve(h http.Handler, req *http.Request) (int, string) {
	rec := newRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func postForm(t *testing.T, h http.Handler, path, form string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", path, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return serve(h, req)
}

// TestDashboardSession: the login form sets an HttpOnly, SameSite=Strict
// session cookie that is not the token; it opens the page, the metrics and
// the stream, and nothing that writes.
func TestDashboardSession(t *testing.T) {
	s, _ := newServer(t, newSim(t), withPoll(time.Second))
	h := s.Handler()
	req, _ := http.NewRequest("POST", "/login", strings.NewReader("token="+testToken))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := newRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Value == testToken || strings.Contains(cookies[0].Value, testToken) {
		t.Fatalf("session cookie: %+v", cookies)
	}
	if loc := rec.Header().Get("Location"); loc != "/" {
		t.Errorf("redirect to %q", loc)
	}
	get := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, path, nil)
		req.AddCookie(cookies[0])
		return serve(h, req)
	}
	if code, body := get("GET", "/"); code != 200 || !strings.Contains(body, "/assets/dashboard.js") {
		t.Errorf("GET / with the session: %d", code)
	}
	for _, p := range []string{"/v1/metrics", "/v1/metrics/queues", "/v1/state", "/assets/dashboard.js"} {
		if code, body := get("GET", p); code != 200 {
			t.Errorf("GET %s with the session: %d %s", p, code, body)
		}
	}
	if code, _ := get("POST", "/v1/jobs"); code != http.StatusUnauthorized {
		t.Errorf("POST /v1/jobs with only the session: %d want 401", code)
	}
	if code, _ := get("POST", "/logout"); code != http.StatusSeeOther {
		t.Errorf("logout: %d", code)
	}
	if code, _ := get("GET", "/v1/metrics"); code != http.StatusUnauthorized {
		t.Errorf("after logout: %d want 401", code)
	}
}

// TestPollShareRefusedAtStart: a poll configuration over the quota share
// is refused at start, naming the query and the smallest interval.
func TestPollShareRefusedAtStart(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Token = testToken
	cfg.AWS.Endpoint = "http://connect.sim.local"
	cfg.Poll.Queries = []config.PollQuery{
		{Name: "wallboard", Op: "GetCurrentMetricData", Interval: 200 * time.Millisecond, Input: json.RawMessage(`{"InstanceId":"i"}`)},
		{Name: "agents", Op: "GetCurrentMetricData", Interval: time.Second, Input: json.RawMessage(`{"InstanceId":"i"}`)},
	}
	_, err := server.New(context.Background(), cfg, app.Options{AWS: staticAWSFor(newSim(t))})
	var fe *poller.FitError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), `"wallboard"`) || !strings.Contains(err.Error(), "670ms") {
		t.Fatalf("got %v; want the query wallboard refused with 670ms (5/s × 50%% less 1/s = 1.5/s)", err)
	}
}

// startServe runs a server and the simulator on loopback; it returns the
// server's base URL and the simulator's.
func startServe(t *testing.T, simSrv *sim.Server, mod func(*config.Config)) (srv *server.Server, base string) {
	t.Helper()
	s, _ := newServer(t, simSrv, func(c *config.Config) {
		c.Limits.RateScale = 1
		if mod != nil {
			mod(c)
		}
	})
	return s, serveOn(t, s)
}

// serveOn runs s on a free loopback port until the test ends and returns
// its base URL.
func serveOn(t *testing.T, s *server.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() { done <- s.Serve(ctx, ln, func(u string) { ready <- u }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return <-ready
}

// TestViewersDoNotCallConnect: many concurrent viewers (HTTP and SSE) of
// serve cause ceil(run/interval) ± 1 GetCurrentMetricData calls, counted at
// the simulator. TOLLGATE_VIEWERS and TOLLGATE_VIEW_SECONDS raise the load
// (the figure: 1000 viewers for 60 s).
func TestViewersDoNotCallConnect(t *testing.T) {
	viewers, seconds := envInt("TOLLGATE_VIEWERS", 200), envInt("TOLLGATE_VIEW_SECONDS", 5)
	simSrv, err := sim.New(sim.Options{Seed: 3, MetricDrift: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const interval = time.Second
	_, base := startServe(t, simSrv, withPoll(interval))
	start := time.Now()
	before := simSrv.Stats().Operations["GetCurrentMetricData"].Requests
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds)*time.Second)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: viewers, MaxConnsPerHost: 0}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var reads, events, failures atomic.Int64
	var wg sync.WaitGroup
	for i := range viewers {
		wg.Go(func() {
			if i%2 == 0 { // an SSE viewer
				req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/events", nil)
				req.Header.Set("Authorization", "Bearer "+testToken)
				res, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failures.Add(1)
					}
					return
				}
				defer res.Body.Close()
				sc := bufio.NewScanner(res.Body)
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "event: metric") {
						events.Add(1)
					}
				}
				return
			}
			for ctx.Err() == nil { // a refreshing viewer, every 250 ms
				req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/metrics/queues", nil)
				req.Header.Set("Authorization", "Bearer "+testToken)
				res, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failures.Add(1)
					}
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					failures.Add(1)
				}
				reads.Add(1)
				select {
				case <-ctx.Done():
				case <-time.After(250 * time.Millisecond):
				}
			}
		})
	}
	<-ctx.Done()
	calls := simSrv.Stats().Operations["GetCurrentMetricData"].Requests - before
	elapsed := time.Since(start)
	wg.Wait()
	want := math.Ceil(float64(seconds) / interval.Seconds())
	t.Logf("%d viewers for %v: %d reads, %d SSE metric events, %d failures; GetCurrentMetricData at the simulator: %d (ceil(%.1f/%v) = %v)",
		viewers, elapsed.Round(time.Millisecond), reads.Load(), events.Load(), failures.Load(), calls, elapsed.Seconds(), interval, want)
	if math.Abs(float64(calls)-want) > 1 {
		t.Errorf("Connect calls: got %d want %v ± 1", calls, want)
	}
	if failures.Load() > 0 {
		t.Errorf("%d viewer requests failed", failures.Load())
	}
	if events.Load() < int64(viewers/2)*int64(min(calls, 3)) {
		t.Errorf("SSE viewers got %d metric events", events.Load())
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestMetricValuesFollowTheSimulator: /v1/metrics/{name} carries what the
// simulator holds, moves when it moves, and says how old it is.
func TestMetricValuesFollowTheSimulator(t *testing.T) {
	simSrv, err := sim.New(sim.Options{Seed: 5, MetricDrift: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, base := startServe(t, simSrv, withPoll(400*time.Millisecond))
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	res, err := hc.PostForm(base+"/login", url.Values{"token": {testToken}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	seen := map[float64]bool{}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && len(seen) < 3 {
		res, err := hc.Get(base + "/v1/metrics/queues")
		if err != nil {
			t.Fatal(err)
		}
		var snap poller.Snapshot
		err = json.NewDecoder(res.Body).Decode(&snap)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET /v1/metrics/queues: %d %v", res.StatusCode, err)
		}
		if !snap.FetchedAt.IsZero() {
			if snap.Numbers["AGENTS_ONLINE"] != 6 || snap.NextRefresh.Before(snap.FetchedAt) || snap.Age < 0 {
				t.Fatalf("snapshot %+v", snap)
			}
			seen[snap.Numbers["CONTACTS_IN_QUEUE"]*100+snap.Numbers["AGENTS_AVAILABLE"]] = true
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(seen) < 3 {
		t.Errorf("values seen in 5 s: %v; want them to move with the simulator", seen)
	}
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func staticAWSFor(h http.Handler) *aws.Config {
	return &aws.Config{Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDSERVER", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient: &http.Client{Transport: memTransport{h}}}
}
