package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/queue/sqlitestore"
)

// embeddedServer is a server on the embedded store in dataDir, with no
// dispatcher traffic (the upstream is never called in these tests).
func embeddedServer(t *testing.T, dataDir string) (*server.Server, error) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.Token = testToken
	cfg.AWS.Endpoint = "http://connect.sim.local"
	awsCfg := staticAWSFor(newSim(t))
	s, err := server.New(context.Background(), cfg, app.Options{AWS: awsCfg})
	if err == nil {
		t.Cleanup(func() { _ = s.App().Close() })
	}
	return s, err
}

func healthz(t *testing.T, h http.Handler) (int, map[string]any) {
	t.Helper()
	code, body := do(t, h, "GET", "/healthz", "", nil)
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("/healthz body %q: %v", body, err)
	}
	return code, m
}

// TestHealthzReflectsStore: with the middle of queue.db overwritten,
// /healthz answers 503 (not ok while the API fails); a zero-length
// queue.db stops the start with an error naming the lost file.
func TestHealthzReflectsStore(t *testing.T) {
	dir := t.TempDir()
	s, err := embeddedServer(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	if code, m := healthz(t, h); code != 200 || m["status"] != "ok" {
		t.Fatalf("fresh store: %d %v", code, m)
	}
	pad := strings.Repeat("p", 2000)
	for b := range 20 {
		var body strings.Builder
		for i := range 100 {
			fmt.Fprintf(&body, `{"op":"StartOutboundVoiceContact","input":{"InstanceId":"i","ContactFlowId":"f","DestinationPhoneNumber":"+1206555%04d","Attributes":{"pad":%q}},"not_before":%q}`+"\n",
				b*100+i, pad, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		}
		if code, out := do(t, h, "POST", "/v1/jobs", testToken, []byte(body.String())); code != 202 {
			t.Fatalf("submit: %d %s", code, out)
		}
	}
	if err := s.App().Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, app.QueueFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(i*13 + 5)
	}
	if _, err := f.WriteAt(garbage, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s, err = embeddedServer(t, dir)
	if err != nil {
		t.Logf("start refused the corrupt store: %v", err)
	} else {
		h = s.Handler()
		deadline := time.Now().Add(30 * time.Second)
		code, m := healthz(t, h)
		for m["store_check"] == "running" && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			code, m = healthz(t, h)
		}
		if code != http.StatusServiceUnavailable || m["status"] != "unhealthy" || !strings.Contains(fmt.Sprint(m["error"]), "malformed") {
			t.Fatalf("/healthz with a corrupt queue.db: %d %v", code, m)
		}
		_ = s.App().Close()
	}

	// Zero length: reported at start, not recreated empty.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(path + "-wal")
	_, err = embeddedServer(t, dir)
	if !errors.Is(err, sqlitestore.ErrLost) || !strings.Contains(err.Error(), "queue.db") {
		t.Fatalf("start on a zero-length queue.db: %v, want ErrLost naming the file", err)
	}
}
