package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/client"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

const testToken = "test-token-0123456789"

// memTransport serves requests with a handler in memory.
type memTransport struct{ h http.Handler }

func (t memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.RequestURI = r.URL.RequestURI()
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r2)
	res := rec.Result()
	res.Request = r
	return res, nil
}

func newSim(t *testing.T) *sim.Server {
	t.Helper()
	s, err := sim.New(sim.Options{RateScale: 50, Seed: 1, CallDuration: sim.Distribution{Kind: sim.DistFixed, Min: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetResourceQuota(quotas.ConcurrentActiveCalls, 1_000_000); err != nil {
		t.Fatal(err)
	}
	return s
}

// newServer returns a server on the in-memory queue whose upstream is the
// simulator h, in memory.
func newServer(t *testing.T, h http.Handler, mod func(*config.Config)) (*server.Server, *queue.Memory) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Token = testToken
	cfg.AWS.Endpoint = "http://connect.sim.local"
	cfg.Limits.RateScale = 50
	cfg.Dispatch.CallTimeout = 5 * time.Second
	if mod != nil {
		mod(&cfg)
	}
	q := queue.NewMemory(queue.MemoryOptions{})
	awsCfg := aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDSERVER", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient: &http.Client{Transport: memTransport{h}},
	}
	s, err := server.New(context.Background(), cfg, app.Options{AWS: &awsCfg, Queue: q})
	if err != nil {
		t.Fatal(err)
	}
	return s, q
}

func do(t *testing.T, h http.Handler, method, path, token string, body []byte) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func sovcLine(number string) string {
	return fmt.Sprintf(`{"op":"StartOutboundVoiceContact","input":{"InstanceId":%q,"ContactFlowId":%q,"DestinationPhoneNumber":%q}}`,
		sim.DefaultInstanceID, sim.DefaultContactFlowID, number)
}

// TestBadInput: every kind of bad submission gets a 4xx naming the problem,
// and nothing is stored.
func TestBadInput(t *testing.T) {
	s, q := newServer(t, newSim(t), func(c *config.Config) { c.MaxBodyBytes = 1 << 20 })
	h := s.Handler()
	good := sovcLine("+12065550100")
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	cases := []struct {
		name   string
		token  string
		body   string
		status int
		want   []string
	}{
		{"malformed JSON", testToken, `{"op":"StartOutboundVoiceContact",`, 400, []string{"job 1 (line 1)", "not valid JSON"}},
		{"malformed array", testToken, "[" + good + ", {\"op\": }]", 400, []string{"not a valid JSON array", "line 1"}},
		{"malformed second line", testToken, good + "\n{\"op\":", 400, []string{"job 2 (line 2)", "not valid JSON"}},
		{"unknown operation", testToken, `{"op":"FrobnicateContact","input":{}}`, 400, []string{`"field":"op"`, "job 1 (line 1): op ", "FrobnicateContact", "is not a supported operation"}},
		{"missing required field", testToken, good + "\n" + `{"op":"StartOutboundVoiceContact","input":{"InstanceId":"i","ContactFlowId":"f"}}`, 400,
			[]string{"job 2 (line 2)", "input.DestinationPhoneNumber is required", `"field":"input.DestinationPhoneNumber"`}},
		{"unknown input member", testToken, `{"op":"StopContact","input":{"InstanceId":"i","ContactId":"c","Reason":"x"}}`, 400, []string{"input.Reason", "not a member"}},
		{"unknown job member", testToken, `{"op":"ListInstances","not_afterr":"2030-01-01T00:00:00Z"}`, 400, []string{"not_afterr", "not a job member"}},
		{"deadline passed", testToken, `{"op":"ListInstances","not_after":"` + past + `"}`, 400, []string{`"field":"not_after"`, "not_after has already passed"}},
		{"bad id", testToken, `{"id":"a b","op":"ListInstances"}`, 400, []string{`"field":"id"`, "id must be"}},
		{"invalid UTF-8 in input", testToken, good + "\n" + `{"op":"StopContact","input":{"InstanceId":"i","ContactId":"c` + "\xff" + `"}}`, 400,
			[]string{"job 2 (line 2)", `"field":"input"`, "not valid UTF-8"}},
		{"invalid UTF-8 elsewhere", testToken, `{"op":"ListInstances","group_key":"g` + "\xc3" + `"}`, 400, []string{"job 1", "not valid UTF-8"}},
		{"invalid UTF-8 in an array", testToken, `[` + good + `,{"op":"StopContact","input":{"InstanceId":"` + "\xfe" + `"}}]`, 400, []string{"job 2:", `"index":1`, `"field":"input"`}},
		{"empty body", testToken, "  \n", 400, []string{"body", "empty"}},
		{"oversized body", testToken, strings.Repeat(good+"\n", (1<<20)/len(good)+10), 413, []string{"limit", "1048576"}},
		{"wrong token", "not-the-token-at-all", good, 401, []string{"wrong bearer token"}},
		{"no token", "", good, 401, []string{"missing bearer token"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, h, "POST", "/v1/jobs", tc.token, []byte(tc.body))
			if code != tc.status {
				t.Fatalf("status %d, want %d: %s", code, tc.status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body %s does not mention %q", body, w)
				}
			}
			if strings.Contains(body, testToken) {
				t.Errorf("the answer shows the token")
			}
			for _, goName := range []string{"NotAfter", "NotBefore", "ClientToken", "GroupKey", "Input.", " Op ", "job 0"} {
				if strings.Contains(body, goName) {
					t.Errorf("body %s names %q, not what the user wrote", body, goName)
				}
			}
			st, _ := q.Stats(context.Background())
			if st.Ready+st.Delayed+st.InFlight+st.Dead+st.Succeeded != 0 {
				t.Errorf("something was stored: %+v", st)
			}
		})
	}
	// And a good submission is stored, all of it.
	code, body := do(t, h, "POST", "/v1/jobs", testToken, []byte(good+"\n\n"+sovcLine("+12065550101")+"\n"))
	if code != http.StatusAccepted || !strings.Contains(body, `"accepted":2`) {
		t.Fatalf("good submission: %d %s", code, body)
	}
	if st, _ := q.Stats(context.Background()); st.Ready != 2 {
		t.Errorf("ready %d, want 2", st.Ready)
	}
}

func TestRoutes(t *testing.T) {
	s, q := newServer(t, newSim(t), nil)
	h := s.Handler()
	ctx := context.Background()
	stored, err := q.Enqueue(ctx, queue.Job{Op: "ListInstances"}, queue.Job{Op: "ListInstances"})
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := q.Lease(ctx, 2, time.Minute)
	for _, l := range ls {
		if err := q.DeadLetter(ctx, l.Receipt, queue.ReasonClientFault, "AccessDeniedException (HTTP 403): no"); err != nil {
			t.Fatal(err)
		}
	}
	type step struct {
		method, path, token, body string
		status                    int
		want                      string
	}
	id := stored[0].ID
	for i, st := range []step{
		{"GET", "/healthz", "", "", 200, `"status":"ok"`},
		{"GET", "/metrics", "", "", 401, "missing bearer token"},
		{"GET", "/metrics", testToken, "", 200, "tollgate_queue_jobs"},
		{"GET", "/v1/stats", testToken, "", 200, `"dead":2`},
		{"GET", "/v1/ops", testToken, "", 200, "PutDialRequestBatch"},
		{"GET", "/v1/jobs/" + id, testToken, "", 200, `"status":"dead"`},
		{"GET", "/v1/jobs/nope", testToken, "", 404, "not known"},
		{"GET", "/v1/jobs/a%20b", testToken, "", 400, "job id"},
		{"GET", "/v1/dlq", testToken, "", 200, "AccessDeniedException"},
		{"GET", "/v1/dlq?reason=expired", testToken, "", 200, `"jobs":[]`},
		{"GET", "/v1/dlq?limit=0", testToken, "", 400, "limit"},
		{"GET", "/v1/dlq/" + id, testToken, "", 200, `"dead_reason":"client-fault"`},
		{"POST", "/v1/dlq/redrive", testToken, `{}`, 400, "exactly one"},
		{"POST", "/v1/dlq/redrive", testToken, `{"ids":["` + id + `"],"colour":1}`, 400, "colour"},
		{"POST", "/v1/dlq/redrive", testToken, `{"ids":["` + id + `","no-such-job"]}`, 404, "job no-such-job is not known"},
		{"POST", "/v1/dlq/redrive", testToken, `{"all":true,"reason":"no-such-reason"}`, 404, "dead letters have: client-fault (2)"},
		{"POST", "/v1/dlq/redrive", testToken, `{"ids":["` + id + `"]}`, 200, `"redriven":1`},
		{"POST", "/v1/dlq/redrive", testToken, `{"ids":["` + id + `"]}`, 409, "is queued, not a dead letter"},
		{"GET", "/v1/dlq/" + id, testToken, "", 404, "not a dead letter"},
		{"POST", "/v1/dlq/redrive", testToken, `{"all":true,"reason":"client-fault"}`, 200, `"redriven":1`},
		{"POST", "/v1/dlq/redrive", testToken, `{"all":true,"reason":"client-fault"}`, 404, "there are no dead letters"},
		{"GET", "/v1/nothing", testToken, "", 404, "no route"},
		{"DELETE", "/v1/jobs/" + id, testToken, "", 405, ""},
	} {
		code, body := do(t, h, st.method, st.path, st.token, []byte(st.body))
		if code != st.status || !strings.Contains(body, st.want) {
			t.Errorf("step %d %s %s: got %d %s want %d containing %q", i, st.method, st.path, code, body, st.status, st.want)
		}
	}
	if st, _ := q.Stats(ctx); st.Ready != 2 || st.Dead != 0 {
		t.Errorf("after redrive: ready %d dead %d, want 2 and 0", st.Ready, st.Dead)
	}
}

func TestLoadToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	tok, src, err := server.LoadToken("", dir)
	if err != nil || src != "generated" || len(tok) != 64 {
		t.Fatalf("first start: %q %q %v", tok, src, err)
	}
	fi, _ := os.Stat(filepath.Join(dir, server.TokenFile))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %#o, want 0600", fi.Mode().Perm())
	}
	again, src, err := server.LoadToken("", dir)
	if err != nil || again != tok || src != "file" {
		t.Errorf("second start: same token %v, source %q, err %v", again == tok, src, err)
	}
	os.Chmod(filepath.Join(dir, server.TokenFile), 0o644)
	if _, _, err := server.LoadToken("", dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("readable token file: got %v, want a refusal", err)
	}
	if tok, src, _ := server.LoadToken("configured-token-xyz", dir); tok != "configured-token-xyz" || src != "config" {
		t.Errorf("configured: %q %q", tok, src)
	}
}

// TestServeEndToEnd runs the server on a loopback port against the
// simulator: calls, a refused number, dial requests; then shuts down.
func TestServeEndToEnd(t *testing.T) {
	simSrv := newSim(t)
	s, _ := newServer(t, simSrv, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	c := &client.Client{BaseURL: "http://" + ln.Addr().String(), Token: testToken}
	var body bytes.Buffer
	for i := range 20 {
		body.WriteString(sovcLine(fmt.Sprintf("+1206555%04d", i)) + "\n")
	}
	body.WriteString(sovcLine("+15550001111") + "\n")
	for i := range 30 {
		fmt.Fprintf(&body, `{"op":"PutDialRequestBatch","input":{"campaignId":%q,"phoneNumber":"+1206666%04d"}}`+"\n", sim.DefaultCampaignID, i)
	}
	// The account has one instance; the quota is two: the second create
	// meets a hard quota.
	for i := range 2 {
		fmt.Fprintf(&body, `{"op":"CreateInstance","input":{"InstanceAlias":"extra-%d","IdentityManagementType":"CONNECT_MANAGED","InboundCallsEnabled":true,"OutboundCallsEnabled":true}}`+"\n", i)
	}
	res, err := c.SubmitRaw(ctx, body.Bytes())
	if err != nil || res.Accepted != 53 {
		t.Fatalf("submit: %+v %v", res, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var st api.StatsResponse
	for {
		st, err = c.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Queue.Succeeded+st.Queue.Dead == 53 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st.Queue.Dead != 2 || st.Queue.DeadByReason[queue.ReasonClientFault] != 1 || st.Queue.DeadByReason[queue.ReasonHardQuota] != 1 {
		t.Errorf("dead %d by reason %v, want the refused number and the second instance", st.Queue.Dead, st.Queue.DeadByReason)
	}
	if st.Dispatch.Alarms != 1 {
		t.Errorf("alarms %d, want 1", st.Dispatch.Alarms)
	}
	dl, err := c.DeadLetters(ctx, queue.ListOptions{Reason: queue.ReasonClientFault})
	if err != nil || len(dl.Jobs) != 1 || !strings.Contains(dl.Jobs[0].DeadDetail, "DestinationNotAllowedException") {
		t.Errorf("client-fault dead letters: %d %v", len(dl.Jobs), err)
	}
	dl, err = c.DeadLetters(ctx, queue.ListOptions{Reason: queue.ReasonHardQuota})
	if err != nil || len(dl.Jobs) != 1 || !strings.Contains(dl.Jobs[0].DeadDetail, "L-AA17A6B9") {
		t.Errorf("hard-quota dead letters: %d %v", len(dl.Jobs), err)
	} else {
		t.Logf("hard quota dead letter: %s", dl.Jobs[0].DeadDetail)
	}
	req, _ := http.NewRequest("GET", c.BaseURL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`tollgate_dispatch_alarms_total{kind="hard-quota",op="CreateInstance"} 1`,
			`tollgate_dispatch_outcomes_total{op="StartOutboundVoiceContact",reason="",result="succeeded"} 20`,
			`tollgate_queue_jobs{state="dead"} 2`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	}
	if sst := simSrv.Stats(); sst.ContactsStarted != 20 || sst.DialRequests["Accepted"] != 30 {
		t.Errorf("simulator: contacts %d dial accepted %d, want 20 and 30", sst.ContactsStarted, sst.DialRequests["Accepted"])
	}
	var apiErr *client.APIError
	if _, err := (&client.Client{BaseURL: c.BaseURL, Token: "wrong-wrong-wrong"}).Stats(ctx); !errors.As(err, &apiErr) || apiErr.Status != 401 {
		t.Errorf("wrong token: %v", err)
	}
	resp, err := http.Get(c.BaseURL + "/metrics")
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("/metrics without a token: %d", resp.StatusCode)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}
