package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/queue"
)

// TestEndpointSkipsInstanceMetadata: with --endpoint and no credentials in
// the environment or the shared files, the start never asks the EC2
// instance metadata service (here a local server that counts requests) and
// signs with the documented placeholder credentials.
func TestEndpointSkipsInstanceMetadata(t *testing.T) {
	var hits atomic.Int64
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "no role", http.StatusNotFound)
	}))
	defer imds.Close()
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "AWS_CONFIG_FILE": filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"),
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.URL, "AWS_REGION": "us-east-1",
	} {
		t.Setenv(k, v)
	}
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.AWS.Endpoint = "http://127.0.0.1:1"
	a, err := app.New(context.Background(), cfg, app.Options{Queue: queue.NewMemory(queue.MemoryOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if n := hits.Load(); n != 0 {
		t.Fatalf("the instance metadata service was asked %d times", n)
	}
	creds, err := a.AWS.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDTOLLGATEPLACEHOLDER" {
		t.Fatalf("credentials %q, %v; want the placeholder", creds.AccessKeyID, err)
	}
}
