package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/sim"
)

type memRoundTripper struct{ h http.Handler }

func (m memRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.RequestURI = r.URL.RequestURI()
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, r2)
	res := rec.Result()
	res.Request = r
	return res, nil
}

// startServer runs a server on the in-memory queue, upstream the
// simulator in memory, and returns its URL and queue.
func startServer(t *testing.T) (string, *queue.Memory) {
	t.Helper()
	s, err := sim.New(sim.Options{RateScale: 50})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Token = "queue-cli-token-0123456789"
	cfg.AWS.Endpoint = "http://connect.sim.local"
	cfg.Limits.RateScale = 50
	q := queue.NewMemory(queue.MemoryOptions{})
	awsCfg := aws.Config{Region: "us-east-1", HTTPClient: &http.Client{Transport: memRoundTripper{s}},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDCLI", SecretAccessKey: "x"}, nil
		})}
	srv, err := server.New(context.Background(), cfg, app.Options{AWS: &awsCfg, Queue: q})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	t.Setenv("TOLLGATE_TOKEN", cfg.Token)
	return "http://" + ln.Addr().String(), q
}

func cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRoot(&out, &errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := ExitOK
	if err != nil {
		fmt.Fprintln(&errOut, "tollgate:", err)
		code = ExitFailure
		if ee, ok := err.(*ExitError); ok {
			code = ee.Code
		}
	}
	return code, out.String(), errOut.String()
}

func TestQueueCommands(t *testing.T) {
	url, q := startServer(t)
	dir := t.TempDir()
	line := func(n string) string {
		return fmt.Sprintf(`{"op":"StartOutboundVoiceContact","input":{"InstanceId":%q,"ContactFlowId":%q,"DestinationPhoneNumber":%q}}`,
			sim.DefaultInstanceID, sim.DefaultContactFlowID, n)
	}
	good := filepath.Join(dir, "jobs.jsonl")
	os.WriteFile(good, []byte(line("+12065550100")+"\n"+line("+15550001234")+"\n"), 0o600)
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(line("+12065550100")+"\n"+`{"op":"StartOutboundVoiceContact","input":{"InstanceId":"i"}}`+"\n"), 0o600)

	code, _, errOut := cli(t, "", "queue", "submit", "--server", url, "--file", bad)
	if code != ExitFailure || !strings.Contains(errOut, "job 2 (line 2)") || !strings.Contains(errOut, "input.DestinationPhoneNumber is required") {
		t.Errorf("bad file: exit %d, %s", code, errOut)
	}
	code, out, errOut := cli(t, "", "queue", "submit", "--server", url, "--file", good)
	if code != ExitOK || !strings.Contains(out, "accepted 2 job(s)") {
		t.Fatalf("good file: exit %d, %s %s", code, out, errOut)
	}
	code, out, _ = cli(t, line("+12065550101"), "queue", "submit", "--server", url, "--file", "-", "--format", "json")
	if code != ExitOK || !strings.Contains(out, `"accepted": 1`) {
		t.Errorf("stdin: exit %d, %s", code, out)
	}

	// Wait for the dispatcher to settle all three.
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, _ := q.Stats(context.Background())
		if st.Succeeded+st.Dead == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, out, _ = cli(t, "", "queue", "stats", "--server", url, "--format", "json")
	var st api.StatsResponse
	if code != ExitOK || json.Unmarshal([]byte(out), &st) != nil || st.Queue.Succeeded != 2 || st.Queue.Dead != 1 {
		t.Errorf("stats json: exit %d, %s", code, out)
	}
	code, out, _ = cli(t, "", "queue", "stats", "--server", url)
	if code != ExitOK || !strings.Contains(out, "succeeded") || !strings.Contains(out, "dead: client-fault") {
		t.Errorf("stats text: exit %d, %s", code, out)
	}
	code, out, _ = cli(t, "", "queue", "dlq", "list", "--server", url)
	if code != ExitOK || !strings.Contains(out, "client-fault") || !strings.Contains(out, "DestinationNotAllowed") {
		t.Fatalf("dlq list: exit %d, %s", code, out)
	}
	var list api.DeadLettersResponse
	_, out, _ = cli(t, "", "queue", "dlq", "list", "--server", url, "--format", "json")
	if json.Unmarshal([]byte(out), &list) != nil || len(list.Jobs) != 1 {
		t.Fatalf("dlq list json: %s", out)
	}
	id := list.Jobs[0].ID
	code, out, _ = cli(t, "", "queue", "dlq", "show", "--server", url, id)
	if code != ExitOK || !strings.Contains(out, `"dead_reason": "client-fault"`) {
		t.Errorf("dlq show: exit %d, %s", code, out)
	}
	if code, _, errOut := cli(t, "", "queue", "dlq", "redrive", "--server", url); code != ExitUsage {
		t.Errorf("redrive with nothing: exit %d %s", code, errOut)
	}
	code, out, _ = cli(t, "", "queue", "dlq", "redrive", "--server", url, id)
	if code != ExitOK || !strings.Contains(out, "redriven 1 job(s)") {
		t.Errorf("redrive: exit %d, %s", code, out)
	}
	t.Setenv("TOLLGATE_TOKEN", "not-the-right-token-at-all")
	if code, _, errOut := cli(t, "", "queue", "stats", "--server", url); code != ExitFailure || !strings.Contains(errOut, "401") {
		t.Errorf("wrong token: exit %d %s", code, errOut)
	}
}

func TestSplitJobs(t *testing.T) {
	var b strings.Builder
	for i := range 10 {
		fmt.Fprintf(&b, `{"op":"ListInstances","id":"job-%d"}`+"\n", i)
	}
	data := []byte(b.String())
	chunks, starts, err := splitJobs(data, 100, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var joined []byte
	for i, c := range chunks {
		if len(c) > 100 {
			t.Errorf("chunk %d is %d bytes", i, len(c))
		}
		joined = append(joined, c...)
	}
	if string(joined) != string(data) || len(starts) != len(chunks) || starts[0] != 1 {
		t.Errorf("chunks do not reassemble: starts %v", starts)
	}
	if _, _, err := splitJobs([]byte("["+strings.Repeat(" ", 200)+"]"), 100, 10000); err == nil {
		t.Errorf("a large JSON array must be refused")
	}
}

// TestQueueStatsPools: with quota pools, `queue stats` prints a row per
// pool (delivered, throttled, in flight, health) and --format json keeps
// them under "pools".
func TestQueueStatsPools(t *testing.T) {
	body := api.StatsResponse{Pools: []api.PoolStats{
		{Name: "east", Account: "100000000001", Region: "us-east-1", Delivered: 612, Throttled: 3, InFlight: 4, Healthy: true, Health: "ok"},
		{Name: "west", Account: "100000000002", Region: "us-east-1", Delivered: 388, Failed: 9, Health: "out: AccessDeniedException, back in 8s"},
	}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/stats" || r.Header.Get("Authorization") != "Bearer pools-cli-token-0123456789" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	defer ts.Close()
	t.Setenv("TOLLGATE_TOKEN", "pools-cli-token-0123456789")
	code, out, errOut := cli(t, "", "queue", "stats", "--server", ts.URL)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"POOL", "HEALTH", "east", "612", "ok", "west", "388", "out: AccessDeniedException, back in 8s"} {
		if !strings.Contains(out, want) {
			t.Errorf("stats text lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = cli(t, "", "queue", "stats", "--server", ts.URL, "--format", "json")
	var st api.StatsResponse
	if code != ExitOK || json.Unmarshal([]byte(out), &st) != nil || len(st.Pools) != 2 || st.Pools[1].Healthy || st.Pools[0].Delivered != 612 {
		t.Errorf("stats json: exit %d, %s", code, out)
	}
}
