package config_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/redisx"
)

// redisURLOutputs runs a --redis-url through everything that reports on it
// without dialing: the configuration pipeline (flag → Load → Validate),
// RedactURL, and redisx.NewClient's parsing, with a logger recording what
// the redisx client's logging would print. It returns everything shown.
func redisURLOutputs(t *testing.T, raw string) string {
	var out strings.Builder
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	config.RegisterFlags(fs)
	if err := fs.Parse([]string{"--redis-url=" + raw, "--account", "123456789012"}); err != nil {
		out.WriteString(err.Error())
		return out.String()
	}
	if _, err := config.Load(config.Sources{Flags: fs, LookupEnv: func(string) (string, bool) { return "", false }}); err != nil {
		out.WriteString(err.Error() + "\n")
	}
	out.WriteString(redisx.RedactURL(raw) + "\n")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	log.Info("sharing rate limits through Redis", "redis", redisx.RedactURL(raw))
	c, err := redisx.NewClient(redisx.Options{URL: raw, Logger: log})
	if err != nil {
		out.WriteString(err.Error() + "\n")
	} else {
		_ = c.Close()
	}
	out.WriteString(logs.String())
	return out.String()
}

// The malformed URLs and well-formed ones: none shows its password.
func TestRedisURLRedacted(t *testing.T) {
	for i, raw := range []string{
		"redis//:PASSWORD@host:6379", "redis:/:PASSWORD@h:1", "h:1?password=PASSWORD",
		"redis://:PASSWORD@host:6379/0", "rediss://user:PASSWORD@host", "redis://:PASSWORD@host:bad-port/x/y",
		"redis://user:PASSWORD@host:6379?db=x", "PASSWORD@host:6379", "user:PASSWORD@host:6379",
		"redis://:PASS%57ORD@host", "redis://host:6379?client_name=PASS/WORD", "redis://:PASSWORD@[::1",
		"redis://:PASSWORD@host#x", "ftp://:PASSWORD@host", "redis://host?password=PASSWORD&db=1",
	} {
		got := redisURLOutputs(t, raw)
		if strings.Contains(got, "PASSWORD") || strings.Contains(got, "PASSW") || strings.Contains(got, "WORD") {
			t.Errorf("step %d: %q shown as:\n%s", i, raw, got)
		}
	}
}

// FuzzRedisURLRedaction: for any string given as --redis-url, the password
// it holds — in the user information (well formed or not) or as a query
// value — appears in no error and no log line. The password is the fuzzed
// part wrapped in markers that appear nowhere else, so any echo of it (or
// of its start or end) is caught.
func FuzzRedisURLRedaction(f *testing.F) {
	for _, seed := range []struct {
		mode          byte
		pre, pw, post string
	}{
		{0, "redis//", "PASSWORD", "host:6379"},
		{0, "redis:/", "pw", "h:1"},
		{1, "h:1", "pw", ""},
		{0, "redis://", "secret", "host:6379/0"},
		{0, "rediss://user", "s/e?c#r", "host"},
		{2, "redis://", "pw", "host:1"},
		{0, "redis://", "p@ss", "host:bad-port"},
		{1, "redis://host:1", "a%20b", "&db=1"},
		{3, "", "anything", ""},
	} {
		f.Add(seed.mode, seed.pre, seed.pw, seed.post)
	}
	f.Fuzz(func(t *testing.T, mode byte, pre, pw, post string) {
		const open, end = "QzJ", "KvW"
		if strings.Contains(pre+post, open) || strings.Contains(pre+post, end) || strings.ContainsAny(pw, "\x00") {
			return
		}
		secret := open + pw + end
		var raw string
		switch mode % 4 {
		case 0: // user:password@host
			raw = pre + ":" + secret + "@" + post
		case 1: // ?password=
			raw = pre + "?password=" + secret + post
		case 2: // password in the user name position
			raw = pre + secret + "@" + post
		default: // any string: the password is what net/url finds, if any
			raw = pre + pw + post
			u, err := url.Parse(raw)
			if err != nil || u.User == nil {
				return
			}
			p, ok := u.User.Password()
			if !ok || len(p) < 6 || strings.Count(raw, p) != 1 || strings.Contains("redis://host:port rediss://", p) {
				return
			}
			secret = p
		}
		got := redisURLOutputs(t, raw)
		for _, leak := range []string{secret, open, end} {
			if mode%4 == 3 && leak != secret {
				continue
			}
			if strings.Contains(got, leak) {
				t.Fatalf("%q: %q appears in\n%s", raw, leak, got)
			}
		}
	})
}

// FuzzPoolSecretRedaction: a secret written where a pool's credentials go
// — under a key that is not a setting (secret_access_key, …), or by
// mistake in access_key_id, external_id or secret_env — appears in no
// error of the configuration pipeline. The secret is the fuzzed part
// wrapped in markers that appear nowhere else.
func FuzzPoolSecretRedaction(f *testing.F) {
	for _, seed := range []struct {
		mode byte
		pw   string
	}{
		{0, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, {1, "AKIDSECRET"}, {2, "x"}, {3, "EAST SECRET"},
		{4, "sess/ion+tok=en"}, {0, `"quoted"`}, {1, "\n"}, {2, ""},
	} {
		f.Add(seed.mode, seed.pw)
	}
	keys := []string{"secret_access_key", "access_key_id", "external_id", "secret_env", "session_token"}
	f.Fuzz(func(t *testing.T, mode byte, pw string) {
		const open, end = "QzJ", "KvW"
		if !utf8.ValidString(pw) || strings.ContainsAny(pw, "\x00") {
			return
		}
		secret := open + pw + end
		quoted, _ := json.Marshal(secret) // a JSON string is a YAML scalar
		key := keys[int(mode)%len(keys)]
		yml := "pools:\n  - name: east\n    account: \"111111111111\"\n    region: us-east-1\n    instance_id: i-1\n" +
			"    credentials:\n      " + key + ": " + string(quoted) + "\n"
		if key != "access_key_id" {
			yml += "      access_key_id: AKIDEAST00000001\n"
		}
		if key != "secret_env" {
			yml += "      secret_env: EAST_SECRET\n"
		}
		p := filepath.Join(t.TempDir(), "serve.yaml")
		if err := os.WriteFile(p, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := config.Load(config.Sources{File: p})
		if err == nil {
			return // e.g. an external id is fine; nothing is shown
		}
		for _, leak := range []string{secret, open, end} {
			if strings.Contains(err.Error(), leak) {
				t.Fatalf("%s: %q appears in\n%s", key, leak, err)
			}
		}
	})
}
