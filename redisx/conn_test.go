package redisx

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// TestAuth: a server with requirepass (ElastiCache AUTH) works with the
// password in the URL; a wrong password leaves the limiter in fallback
// mode, and no log line carries either password.
func TestAuth(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{Password: "s3cr3t-token"})
	o := testOptions(t, srv, ratelimit.Limit{}, map[string]ratelimit.Limit{"A": {Rate: 10, Burst: 2}})
	if !strings.Contains(o.URL, "s3cr3t-token") {
		t.Fatalf("test URL %q lacks the password", RedactURL(o.URL))
	}
	l := newTestLimiter(t, o)
	if d, err := l.Try(context.Background(), ratelimit.Request{Op: "A"}); err != nil || !d.OK {
		t.Fatalf("Try with AUTH: %+v, %v", d, err)
	}
	assertShared(t, l)

	var logs strings.Builder
	var mu sync.Mutex
	bad := o
	bad.URL = strings.Replace(o.URL, "s3cr3t-token", "wrong-token", 1)
	bad.Logger = newLockedLogger(&mu, &logs)
	bl := newTestLimiter(t, bad)
	if bl.Mode() != ModeFallback {
		t.Errorf("mode with a wrong password: got %v want fallback", bl.Mode())
	}
	bl.Close()
	mu.Lock()
	defer mu.Unlock()
	if s := logs.String(); strings.Contains(s, "wrong-token") || strings.Contains(s, "s3cr3t") {
		t.Errorf("a password was logged: %s", s)
	}
	if !strings.Contains(logs.String(), "Redis unavailable") {
		t.Errorf("the fallback was not logged: %s", logs.String())
	}
}

// TestTLS: rediss:// with the server's CA (ElastiCache in-transit
// encryption) runs the shared limiter and the cache; without the CA the
// handshake fails and the limiter falls back.
func TestTLS(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{TLS: true, Password: "tls-auth"})
	// 0.5/s: no token comes back between the steps, however slow.
	o := testOptions(t, srv, ratelimit.Limit{}, map[string]ratelimit.Limit{"A": {Rate: 0.5, Burst: 2}})
	if !strings.HasPrefix(o.URL, "rediss://") {
		t.Fatalf("URL %q is not rediss://", RedactURL(o.URL))
	}
	l := newTestLimiter(t, o)
	for i, want := range []bool{true, true, false} {
		d, err := l.Try(context.Background(), ratelimit.Request{Op: "A"})
		if err != nil || d.OK != want {
			t.Fatalf("step %d over TLS: %+v, %v want OK=%v", i, d, err, want)
		}
	}
	assertShared(t, l)
	c := newTestCache(t, o, CacheOptions{})
	if err := c.Set(context.Background(), "k", []byte("v"), time.Second); err != nil {
		t.Fatalf("cache Set over TLS: %v", err)
	}

	untrusted := o
	untrusted.TLSConfig = nil // system roots do not know the test CA
	ul := newTestLimiter(t, untrusted)
	if ul.Mode() != ModeFallback {
		t.Errorf("mode without the CA: got %v want fallback", ul.Mode())
	}
}

func TestOptionsValidation(t *testing.T) {
	good := Options{URL: "redis://127.0.0.1:6379", Account: "123456789012", Region: "eu-west-2"}
	cases := []struct {
		field string
		edit  func(*Options)
	}{
		{"URL", func(o *Options) { o.URL = "" }},
		{"URL", func(o *Options) { o.URL = "http://127.0.0.1:6379" }},
		{"URL", func(o *Options) { o.URL = "redis://" }},
		{"Account", func(o *Options) { o.Account = "" }},
		{"Account", func(o *Options) { o.Account = "12{3}" }},
		{"Region", func(o *Options) { o.Region = "" }},
		{"KeyPrefix", func(o *Options) { o.KeyPrefix = "a:b" }},
		{"Timeout", func(o *Options) { o.Timeout = -time.Second }},
		{"LiveWindow", func(o *Options) { o.Heartbeat = 2 * time.Second; o.LiveWindow = time.Second }},
		{"Lease.Max", func(o *Options) { o.Lease.Max = -1 }},
		{"Ops[A]", func(o *Options) { o.Ops = map[string]ratelimit.Limit{"A": {Rate: -1}} }},
		{"AccountLimit", func(o *Options) { o.AccountLimit = ratelimit.Limit{Burst: -1} }},
	}
	for i, c := range cases {
		o := good
		c.edit(&o)
		_, err := o.withDefaults()
		if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), c.field+":") {
			t.Errorf("step %d: got %v want an ErrInvalidOptions naming %s", i, err, c.field)
		}
	}
	if _, err := good.withDefaults(); err != nil {
		t.Errorf("valid options: %v", err)
	}
	// A URL with a password is never echoed in an error.
	o := good
	o.URL = "redis://:pa55word@host:bad-port/x/y"
	if _, err := New(o); err == nil || strings.Contains(err.Error(), "pa55word") {
		t.Errorf("New with a bad URL: got %v; want an error without the password", err)
	}
}

func TestRedactURL(t *testing.T) {
	steps := []struct{ in, want string }{
		{"redis://:secret@host:6379/0", "redis://:xxxxx@host:6379/0"},
		{"rediss://user:secret@host", "rediss://user:xxxxx@host"},
		{"redis://host:6379", "redis://host:6379"},
	}
	for i, s := range steps {
		if got := RedactURL(s.in); got != s.want {
			t.Errorf("step %d: got %q want %q", i, got, s.want)
		}
	}
}
