package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/stagger"
)

const testDesktopToken = "desktop-token-abcdefghij"

// TestStaggerReserve checks the desktop reservation endpoint through the
// whole serve handler: the desktop token reserves start-ups spaced by the
// start-up bucket (GetCurrentUserData's 2/s, burst 5 less one of headroom:
// 2 start-ups per second, 4 at once), the same login gets the same start,
// and the admin token is not accepted there.
func TestStaggerReserve(t *testing.T) {
	s, _ := newServer(t, newSim(t), func(c *config.Config) {
		c.Stagger.DesktopToken = testDesktopToken
		c.Limits.RateScale = 1
	})
	h := s.Handler()
	ask := func(token, login string) (int, stagger.ReserveResponse) {
		req := httptest.NewRequest("POST", "/v1/stagger/reserve", strings.NewReader(`{"login":"`+login+`"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var rr stagger.ReserveResponse
		_ = json.Unmarshal(w.Body.Bytes(), &rr)
		return w.Code, rr
	}
	if code, _ := ask(testToken, "ann"); code != http.StatusUnauthorized {
		t.Fatalf("admin token on the reservation route: %d, want 401", code)
	}
	var last stagger.ReserveResponse
	for i, l := range []string{"a1", "a2", "a3", "a4", "a5", "a6"} {
		code, rr := ask(testDesktopToken, l)
		if code != http.StatusOK {
			t.Fatalf("login %s: %d", l, code)
		}
		if want := int64(max(0, i-3)) * 500; rr.DelayMS < want-50 || rr.DelayMS > want {
			t.Errorf("login %d: delay %d ms; want %d (0 for the first 4, then 500 ms apart)", i, rr.DelayMS, want)
		}
		last = rr
	}
	if _, again := ask(testDesktopToken, "a6"); !again.Repeat || !again.StartAt.Equal(last.StartAt) {
		t.Errorf("same login again: %+v, want the same start %v", again, last.StartAt)
	}
}

// TestDesktopTokenReachesNoOtherRoute sends the desktop token to every
// other route of serve: each must refuse it.
func TestDesktopTokenReachesNoOtherRoute(t *testing.T) {
	s, _ := newServer(t, newSim(t), func(c *config.Config) { c.Stagger.DesktopToken = testDesktopToken })
	h := s.Handler()
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/v1/jobs", `{"op":"DescribeUser"}`},
		{"GET", "/v1/jobs/abc", ""},
		{"GET", "/v1/stats", ""},
		{"GET", "/v1/ops", ""},
		{"GET", "/v1/dlq", ""},
		{"GET", "/v1/dlq/abc", ""},
		{"POST", "/v1/dlq/redrive", `{"all":true}`},
		{"GET", "/metrics", ""},
	} {
		req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
		req.Header.Set("Authorization", "Bearer "+testDesktopToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s with the desktop token: %d %s, want 401", r.method, r.path, w.Code, w.Body.String())
		}
	}
}

// TestDesktopTokenGenerated checks the generated desktop token: its own
// file (0600), different from the admin token, and it works.
func TestDesktopTokenGenerated(t *testing.T) {
	var dir string
	s, _ := newServer(t, newSim(t), func(c *config.Config) { dir = c.DataDir })
	path := filepath.Join(dir, server.DesktopTokenDir, server.TokenFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", path, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	tok := strings.TrimSpace(string(b))
	if tok == testToken || len(tok) < 32 {
		t.Fatalf("generated desktop token is the admin token or too short")
	}
	req := httptest.NewRequest("POST", "/v1/stagger/reserve", strings.NewReader(`{"login":"ann"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("generated token: %d %s", w.Code, w.Body.String())
	}
}

func TestStaggerConfigErrors(t *testing.T) {
	for _, c := range []struct {
		mod  func(*config.Config)
		want string
	}{
		{func(c *config.Config) { c.Stagger.Share = 1.5 }, "stagger.share"},
		{func(c *config.Config) { c.Stagger.Calls = "GetCurrentUser:0" }, "stagger.calls"},
		{func(c *config.Config) { c.Stagger.DesktopToken = testToken }, "must differ from token"},
		{func(c *config.Config) { c.Stagger.Calls = "GetCurrentUser" }, "unknown operation"},
	} {
		cfg := config.Default()
		cfg.Token = testToken
		cfg.DataDir = t.TempDir()
		cfg.AWS.Endpoint = "http://connect.sim.local"
		cfg.AWS.Region = "us-east-1"
		c.mod(&cfg)
		awsCfg := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}
		_, err := server.New(t.Context(), cfg, app.Options{AWS: &awsCfg, Queue: queue.NewMemory(queue.MemoryOptions{})})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error containing %q", err, c.want)
		}
	}
}
