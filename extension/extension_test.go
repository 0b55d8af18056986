package extension_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/extension"
	"github.com/tollgatehq/tollgate/extension/extensiontest"
	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

// The function's credentials, as the Lambda runtime puts them in the
// environment (temporary: key, secret and session token).
var fnCreds = aws.Credentials{AccessKeyID: "ASIAFUNCTION00000001", SecretAccessKey: "function-secret", SessionToken: "function-session-token"}

// harness is an extension in front of a simulator that knows only the
// function's key, driven by a fake Extensions API.
type harness struct {
	api   *extensiontest.API
	sim   *sim.Server
	url   string // the extension's gateway
	logs  *syncBuf
	done  chan error
	stats extension.Stats
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func start(t *testing.T, wrap func(http.Handler) http.Handler) *harness {
	t.Helper()
	s, err := sim.New(sim.Options{Seed: 1, RateScale: 20, Credentials: map[string]string{fnCreds.AccessKeyID: fnCreds.SecretAccessKey},
		CallDuration: sim.Distribution{Kind: sim.DistFixed, Min: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(s)
	t.Cleanup(up.Close)
	h := &harness{api: extensiontest.New(), sim: s, logs: &syncBuf{}, done: make(chan error, 1)}
	apiSrv := httptest.NewServer(h.api)
	t.Cleanup(apiSrv.Close)
	client, err := extension.NewClient(strings.TrimPrefix(apiSrv.URL, "http://"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	reg, err := client.Register(ctx, "tollgate", extension.Invoke, extension.Shutdown)
	if err != nil {
		t.Fatal(err)
	}
	if reg.AccountID != "123456789012" || reg.FunctionName != "test-function" {
		t.Fatalf("registration %+v", reg)
	}
	callers, err := extension.FunctionCallers(fnCreds, reg.FunctionName, nil)
	if err != nil {
		t.Fatal(err)
	}
	lim := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: quotas.Default().Scale(20)})
	gw, err := gateway.New(gateway.Options{Upstream: up.URL, Credentials: credentials.StaticCredentialsProvider{Value: fnCreds},
		Governor: governor.New(lim, governor.Options{MaxAttempts: -1}), Callers: callers})
	if err != nil {
		t.Fatal(err)
	}
	var handler http.Handler = extension.Guard(fnCreds.SessionToken, gw)
	if wrap != nil {
		handler = wrap(handler)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String()
	go func() {
		st, err := extension.Run(ctx, extension.Options{Client: client, Handler: handler, Listener: ln,
			Logger: slog.New(slog.NewTextHandler(h.logs, nil))})
		h.stats = st
		h.done <- err
	}()
	<-h.api.Waiting() // init done: the extension asked for its first event
	return h
}

func (h *harness) connect(creds aws.Credentials) *connect.Client {
	return connect.New(connect.Options{Region: "us-east-1", BaseEndpoint: aws.String(h.url),
		Credentials: credentials.StaticCredentialsProvider{Value: creds}})
}

func (h *harness) stop(t *testing.T, deadline time.Duration) error {
	t.Helper()
	h.api.Shutdown("spindown", time.Now().Add(deadline))
	select {
	case err := <-h.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after SHUTDOWN")
		return nil
	}
}

// TestFunctionCredentials: the function's own SDK client (its key, secret
// and session token) is served; another key, a wrong secret or another
// session token is refused before anything reaches Connect; the simulator
// sees only the function's key, re-signed.
func TestFunctionCredentials(t *testing.T) {
	h := start(t, nil)
	ctx := context.Background()
	in := &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)}
	if _, err := h.connect(fnCreds).ListQueues(ctx, in); err != nil {
		t.Fatalf("the function's own call: %v", err)
	}
	bad := []aws.Credentials{
		{AccessKeyID: "ASIAOTHER00000000001", SecretAccessKey: "function-secret", SessionToken: fnCreds.SessionToken},
		{AccessKeyID: fnCreds.AccessKeyID, SecretAccessKey: "wrong", SessionToken: fnCreds.SessionToken},
		{AccessKeyID: fnCreds.AccessKeyID, SecretAccessKey: fnCreds.SecretAccessKey, SessionToken: "another-token"},
		{AccessKeyID: fnCreds.AccessKeyID, SecretAccessKey: fnCreds.SecretAccessKey},
	}
	for i, c := range bad {
		if _, err := h.connect(c).ListQueues(ctx, in); err == nil {
			t.Errorf("step %d: %s/%s accepted", i, c.AccessKeyID, c.SessionToken)
		}
	}
	st := h.sim.Stats()
	if st.Totals.Requests != 1 || st.Callers[fnCreds.AccessKeyID].Accepted != 1 {
		t.Errorf("simulator saw %+v (callers %v), want the one good call", st.Totals, st.Callers)
	}
	if err := h.stop(t, 2*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestShutdownDrains: calls in flight when SHUTDOWN arrives finish and are
// answered; Run returns once they are done, before the deadline.
func TestShutdownDrains(t *testing.T) {
	release := make(chan struct{})
	var entered sync.WaitGroup
	h := start(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entered.Done()
			<-release
			next.ServeHTTP(w, r)
		})
	})
	h.api.Invoke("req-1", time.Now().Add(10*time.Second))
	<-h.api.Waiting()
	const n = 3
	entered.Add(n)
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := h.connect(fnCreds).ListQueues(context.Background(), &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)})
			errs <- err
		}()
	}
	entered.Wait()
	h.api.Shutdown("spindown", time.Now().Add(5*time.Second))
	time.Sleep(100 * time.Millisecond) // the shutdown has begun, with the calls held
	close(release)
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("call in flight at SHUTDOWN: %v", err)
		}
	}
	if h.stats.Drained != n || h.stats.Invocations != 1 || h.stats.Calls != n {
		t.Errorf("stats %+v, want %d drained of %d calls in 1 invocation", h.stats, n, n)
	}
	if !strings.Contains(h.logs.String(), "drained 3 in flight") {
		t.Errorf("shutdown line missing:\n%s", h.logs.String())
	}
}

// TestShutdownDeadline: a call still running at the platform's deadline is
// cut off and Run says so instead of hanging.
func TestShutdownDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{}, 1)
	h := start(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entered <- struct{}{}
			<-release
		})
	})
	go func() {
		_, _ = h.connect(fnCreds).ListQueues(context.Background(), &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)})
	}()
	<-entered
	err := h.stop(t, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "still in flight") {
		t.Fatalf("got %v, want the cut-off call reported", err)
	}
	if !strings.Contains(h.logs.String(), "1 cut off") {
		t.Errorf("log:\n%s", h.logs.String())
	}
}

// TestOneLogLinePerInvocation: an invocation whose calls are all ok logs
// nothing; one with refused calls logs exactly one line.
func TestOneLogLinePerInvocation(t *testing.T) {
	h := start(t, nil)
	ctx := context.Background()
	in := &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)}
	h.api.Invoke("req-ok", time.Now().Add(10*time.Second))
	<-h.api.Waiting()
	for range 3 {
		if _, err := h.connect(fnCreds).ListQueues(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	h.api.Invoke("req-bad", time.Now().Add(10*time.Second))
	<-h.api.Waiting()
	for range 4 {
		_, _ = h.connect(aws.Credentials{AccessKeyID: "ASIAOTHER00000000001", SecretAccessKey: "x", SessionToken: fnCreds.SessionToken}).ListQueues(ctx, in)
	}
	h.api.Invoke("req-3", time.Now().Add(10*time.Second))
	<-h.api.Waiting()
	if err := h.stop(t, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		if strings.Contains(l, "invocation ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "req-bad") || strings.Contains(lines[0], "req-ok") {
		t.Fatalf("invocation lines %q, want one for req-bad", lines)
	}
}

// TestRegisterErrors: an unreachable or refusing Extensions API is an
// error matching ErrAPI with the status.
func TestRegisterErrors(t *testing.T) {
	if _, err := extension.NewClient("", nil); err == nil {
		t.Error("empty AWS_LAMBDA_RUNTIME_API accepted")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"errorType":"Extension.Forbidden"}`, http.StatusForbidden)
	}))
	defer srv.Close()
	c, err := extension.NewClient(strings.TrimPrefix(srv.URL, "http://"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Register(context.Background(), "tollgate", extension.Invoke)
	var ae *extension.APIError
	if !errors.Is(err, extension.ErrAPI) || !errors.As(err, &ae) || ae.Status != 403 {
		t.Fatalf("got %v", err)
	}
}
