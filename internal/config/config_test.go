package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestDefaultValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if v := Default().EffectiveVisibility(); v != 180*time.Second {
		t.Errorf("visibility %v, want 6 × 30s", v)
	}
}

// TestLayers: flags beat the environment, which beats the file, which beats
// the defaults.
func TestLayers(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tollgate.yaml")
	os.WriteFile(file, []byte(`
listen: 127.0.0.1:9000
dispatch:
  concurrency: 4
  call_timeout: 5s
limits:
  rate_scale: 2
queue:
  sqs:
    queue_url: from-file
`), 0o600)
	env := map[string]string{
		"TOLLGATE_DISPATCH_CONCURRENCY": "8",
		"TOLLGATE_LIMITS_RATE_SCALE":    "3",
		"TOLLGATE_TOKEN":                "0123456789abcdef0123",
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse([]string{"--rate-scale", "4", "--endpoint", "http://127.0.0.1:8999"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Sources{File: file, LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, Flags: fs})
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		name      string
		got, want any
	}
	for i, s := range []step{
		{"listen (file)", c.Listen, "127.0.0.1:9000"},
		{"call_timeout (file)", c.Dispatch.CallTimeout, 5 * time.Second},
		{"concurrency (env over file)", c.Dispatch.Concurrency, 8},
		{"rate_scale (flag over env)", c.Limits.RateScale, 4.0},
		{"endpoint (flag)", c.AWS.Endpoint, "http://127.0.0.1:8999"},
		{"token (env)", c.Token, "0123456789abcdef0123"},
		{"max_batch (default)", c.Dispatch.MaxBatch, 25},
		{"sqs queue (file)", c.Queue.SQS.QueueURL, "from-file"},
		{"visibility", c.EffectiveVisibility(), 30 * time.Second},
	} {
		if s.got != s.want {
			t.Errorf("step %d %s: got %v want %v", i, s.name, s.got, s.want)
		}
	}
}

func TestErrorsNameTheField(t *testing.T) {
	dir := t.TempDir()
	n := 0
	write := func(s string) string {
		n++
		p := filepath.Join(dir, fmt.Sprintf("c%d.yaml", n))
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	cases := []struct {
		src  Sources
		want []string
	}{
		{Sources{File: write("dispatch:\n  concurency: 3\n")}, []string{"concurency", "line 2"}},
		{Sources{File: write("dispatch:\n  call_timeout: soon\n")}, []string{"call_timeout"}},
		{Sources{File: write("dispatch:\n  concurrency: 0\n")}, []string{"dispatch.concurrency", "between 1 and 4096"}},
		{Sources{File: write("queue:\n  backend: sqs\n")}, []string{"queue.sqs.queue_url", "required"}},
		{Sources{File: write("queue:\n  backend: kafka\n")}, []string{"queue.backend"}},
		{Sources{File: write("dispatch:\n  call_timeout: 10s\n  visibility: 5s\n")}, []string{"dispatch.visibility"}},
		{Sources{File: write("token: short\n")}, []string{"token", "not shown"}},
		{Sources{File: write("aws:\n  endpoint: localhost:8999\n")}, []string{"aws.endpoint", "URL"}},
		{Sources{LookupEnv: func(k string) (string, bool) { return "many", k == "TOLLGATE_DISPATCH_MAX_BATCH" }}, []string{"dispatch.max_batch", "TOLLGATE_DISPATCH_MAX_BATCH", "integer"}},
		{Sources{LookupEnv: func(k string) (string, bool) { return "30", k == "TOLLGATE_DISPATCH_MAX_BATCH" }}, []string{"dispatch.max_batch", "between 1 and 25"}},
		{Sources{File: filepath.Join(dir, "missing.yaml")}, []string{"config file", "missing.yaml"}},
	}
	for i, tc := range cases {
		_, err := Load(tc.src)
		if err == nil {
			t.Errorf("step %d: got nil want an error mentioning %v", i, tc.want)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("step %d: got %q want it to mention %q", i, err, w)
			}
		}
	}
	// Every problem is reported, each as a *FieldError.
	c := Default()
	c.Dispatch.Concurrency, c.LogLevel = 0, "loud"
	err := c.Validate()
	var fe *FieldError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "log_level") || !strings.Contains(err.Error(), "dispatch.concurrency") {
		t.Errorf("got %v, want both problems as *FieldError", err)
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	c := Default()
	c.Token = "s3cr3t"
	if err := c.Validate(); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("got %v, want an error that does not show the token", err)
	}
	for _, f := range c.Fields() {
		if f.Key == "token" && (f.Flag != "" || !f.Secret) {
			t.Errorf("token must be secret and have no flag")
		}
	}
}

func TestEnvNames(t *testing.T) {
	c := Default()
	seen := map[string]bool{}
	for _, f := range c.Fields() {
		if f.Env() == "" {
			continue // file only
		}
		if seen[f.Env()] {
			t.Errorf("duplicate variable %s", f.Env())
		}
		seen[f.Env()] = true
	}
	for _, want := range []string{"TOLLGATE_TOKEN", "TOLLGATE_AWS_ENDPOINT", "TOLLGATE_QUEUE_SQS_QUEUE_URL", "TOLLGATE_DISPATCH_CALL_TIMEOUT"} {
		if !seen[want] {
			t.Errorf("no field reads %s", want)
		}
	}
}
