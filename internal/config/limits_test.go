package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestLimitsRedisAndAdaptive: the new settings parse from every source and
// Validate rejects the bad combinations, naming the field.
func TestLimitsRedisAndAdaptive(t *testing.T) {
	if d := Default(); d.Limits.Adaptive || d.Limits.RedisURL != "" {
		t.Fatalf("defaults: adaptive %v redis_url %q, want off", d.Limits.Adaptive, d.Limits.RedisURL)
	}

	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse([]string{"--adaptive"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Sources{Flags: fs})
	if err != nil || !c.Limits.Adaptive {
		t.Fatalf("--adaptive: adaptive %v, err %v", c.Limits.Adaptive, err)
	}

	env := map[string]string{
		"TOLLGATE_LIMITS_REDIS_URL": "rediss://:pw@cache.example:6379/0",
		"TOLLGATE_LIMITS_ACCOUNT":   "123456789012",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err = Load(Sources{LookupEnv: lookup})
	if err != nil || c.Limits.RedisURL != env["TOLLGATE_LIMITS_REDIS_URL"] {
		t.Fatalf("env: redis_url %q, err %v", c.Limits.RedisURL, err)
	}
	env["TOLLGATE_LIMITS_ADAPTIVE"] = "maybe"
	if _, err := Load(Sources{LookupEnv: lookup}); err == nil || !strings.Contains(err.Error(), "limits.adaptive") {
		t.Errorf("adaptive=maybe: %v, want an error naming limits.adaptive", err)
	}

	ok := func(c *Config) { c.Limits.RedisURL = "redis://127.0.0.1:6379"; c.Limits.Account = "123456789012" }
	for _, tc := range []struct {
		name, field string
		mod         func(*Config)
	}{
		{"no account", "limits.account", func(c *Config) { ok(c); c.Limits.Account = "" }},
		{"bad scheme", "limits.redis_url", func(c *Config) { ok(c); c.Limits.RedisURL = "http://:s3cret@127.0.0.1:6379" }},
		{"no host", "limits.redis_url", func(c *Config) { ok(c); c.Limits.RedisURL = "redis://" }},
	} {
		c := Default()
		tc.mod(&c)
		err := c.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: got %v, want a *FieldError naming %s", tc.name, err, tc.field)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the password appears in %v", tc.name, err)
		}
	}
	c = Default()
	ok(&c)
	if err := c.Validate(); err != nil {
		t.Errorf("redis_url with account: %v", err)
	}
	c.Limits.Adaptive = true // the fleet's learner, on state shared through Redis
	if err := c.Validate(); err != nil {
		t.Errorf("redis_url with adaptive: %v", err)
	}
	c.Limits.Adaptive = false
	c.Limits.RedisURL = "rediss://:tok@cache.example:6380/1"
	if err := c.Validate(); err != nil {
		t.Errorf("rediss: %v", err)
	}
	for _, f := range c.Fields() {
		if f.Key == "limits.redis_url" && !f.Secret {
			t.Error("limits.redis_url may hold a password: it must be Secret")
		}
	}
}
