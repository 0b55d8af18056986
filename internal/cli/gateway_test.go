package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/sim"
)

// TestGatewayCommand runs `tollgate gateway` in front of the simulator and
// calls it with the real Go SDK, changed only in endpoint and keys.
func TestGatewayCommand(t *testing.T) {
	s, err := sim.New(sim.Options{Credentials: map[string]string{"AKIDGATEWAYCLI000001": "gw-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(s)
	defer up.Close()
	dir := t.TempDir()
	callers := filepath.Join(dir, "callers.yaml")
	yaml := "callers:\n  - access_key_id: AKIDDIALER0000000001\n    secret: \"dialer-secret\"\n    principal: dialer\n    operations: [ListQueues]\n    priority: 1\n    share: 1\n"
	if err := os.WriteFile(callers, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDGATEWAYCLI000001")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "gw-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	root := NewRoot(pw, io.Discard)
	root.SetArgs([]string{"gateway", "--listen", "127.0.0.1:0", "--region", "us-east-1", "--upstream", up.URL, "--callers", callers, "--data-dir", filepath.Join(dir, "data"), "--quiet"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no URL printed: %v (%v)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	url := strings.TrimSpace(line)
	c := connect.New(connect.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDDIALER0000000001", "dialer-secret", "")})
	if _, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)}); err != nil {
		t.Fatalf("ListQueues through tollgate gateway: %v", err)
	}
	if got := s.Stats().Callers["AKIDGATEWAYCLI000001"].Accepted; got != 1 {
		t.Fatalf("simulator saw %d accepted from the gateway's key", got)
	}
	// /metrics needs serve's token, generated in --data-dir (mode 0600).
	tok, err := os.ReadFile(filepath.Join(dir, "data", "token"))
	if err != nil {
		t.Fatalf("no token generated in --data-dir: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "data", "token")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v", fi.Mode().Perm())
	}
	for _, bearer := range []string{"", strings.TrimSpace(string(tok))} {
		req, _ := http.NewRequestWithContext(ctx, "GET", url+"/metrics", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := http.StatusUnauthorized
		if bearer != "" {
			want = http.StatusOK
		}
		if resp.StatusCode != want || (want == http.StatusOK) != strings.Contains(string(b), `tollgate_gateway_admitted_total{operation="ListQueues",principal="dialer"} 1`) {
			t.Fatalf("GET /metrics with token %v: %d %.200s", bearer != "", resp.StatusCode, b)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("gateway did not stop")
	}
}

func TestGatewayUsageErrors(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.yaml")
	yaml := "callers:\n  - access_key_id: AKIDDIALER0000000001\n    secret: \"x\"\n    principal: d\n    operations: [\"*\"]\n"
	if err := os.WriteFile(open, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(open, 0o644)
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"gateway", "--listen", "0.0.0.0:8443", "--callers", open}, "not a loopback address"},
		{[]string{"gateway", "--tls-cert", "a.pem", "--callers", open}, "--tls-cert and --tls-key go together"},
		{[]string{"gateway", "--callers", open}, "chmod 600"},
		{[]string{"gateway", "--callers", filepath.Join(dir, "missing.yaml")}, "--callers"},
		{[]string{"gateway", "--redis-url", "redis://127.0.0.1:1", "--callers", open}, "--account"},
	}
	for i, st := range steps {
		var out strings.Builder
		root := NewRoot(&out, &out)
		root.SetArgs(st.args)
		err := root.ExecuteContext(context.Background())
		var ee *ExitError
		if err == nil || !strings.Contains(err.Error(), st.want) || !asExit(err, &ee) || ee.Code != ExitUsage {
			t.Fatalf("step %d: %v, want usage error with %q", i, err, st.want)
		}
	}
}

func asExit(err error, target **ExitError) bool {
	e, ok := err.(*ExitError)
	if ok {
		*target = e
	}
	return ok
}
