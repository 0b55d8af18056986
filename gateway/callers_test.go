package gateway_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/ratelimit"
)

func env1(k string) string {
	if k == "DIALER_SECRET" {
		return "s3cret-value"
	}
	return ""
}

func TestParseCallersIssueShape(t *testing.T) {
	cs, err := gateway.ParseCallers("callers.yaml", []byte(callersYAML), func(k string) string { return "x" })
	if err != nil {
		t.Fatal(err)
	}
	d, ok := cs.Lookup(dialerKey)
	if !ok || d.Principal != "dialer" || d.Class() != ratelimit.PriorityCritical || d.Share != 1 {
		t.Fatalf("dialer: %+v", d)
	}
	if !d.Allows("ListQueues") || d.Allows("DescribeUser") || d.Allows("") {
		t.Fatal("dialer operations")
	}
	a, _ := cs.Lookup(adminKey)
	if !a.Allows("DescribeUser") || !a.Allows("") || a.Class() != ratelimit.PriorityNormal {
		t.Fatalf("admin: %+v", a)
	}
}

func TestParseCallersErrorsNameLineAndField(t *testing.T) {
	head := "callers:\n  - access_key_id: AKIDDIALER0000000001\n    principal: dialer\n    operations: [ListQueues]\n"
	steps := []struct {
		name, yaml, want string
	}{
		{"no secret", head, "callers.yaml:2: callers[0].secret_env"},
		{"env unset", head + "    secret_env: NOPE\n", "callers.yaml:2: callers[0].secret_env: environment variable NOPE is empty"},
		{"both secrets", head + "    secret_env: DIALER_SECRET\n    secret: x\n", "callers[0].secret: set secret_env or secret, not both"},
		{"unknown field", head + "    secret_env: DIALER_SECRET\n    shares: 2\n", "line 6: field shares not found"},
		{"bad priority", head + "    secret_env: DIALER_SECRET\n    priority: urgent\n", "line 6: priority"},
		{"bad operation", "callers:\n  - access_key_id: AKIDDIALER0000000001\n    principal: d\n    secret_env: DIALER_SECRET\n    operations: [list-queues]\n", "callers[0].operations[0]"},
		{"short key", "callers:\n  - access_key_id: AKID\n    principal: d\n    secret_env: DIALER_SECRET\n    operations: [\"*\"]\n", "callers.yaml:2: callers[0].access_key_id"},
		{"duplicate key", head + "    secret_env: DIALER_SECRET\n" + strings.Replace(head, "callers:\n", "", 1) + "    secret_env: DIALER_SECRET\n", "callers.yaml:6: callers[1].access_key_id: AKIDDIALER0000000001 is already used on line 2"},
		{"no principal", "callers:\n  - access_key_id: AKIDDIALER0000000001\n    secret_env: DIALER_SECRET\n    operations: [\"*\"]\n", "callers[0].principal"},
		{"empty", "callers: []\n", "callers: no callers listed"},
		{"negative share", head + "    secret_env: DIALER_SECRET\n    share: -1\n", "callers[0].share"},
	}
	for i, st := range steps {
		_, err := gateway.ParseCallers("callers.yaml", []byte(st.yaml), env1)
		if err == nil || !errors.Is(err, gateway.ErrCallers) || !strings.Contains(err.Error(), st.want) {
			t.Fatalf("step %d (%s): got %v want …%s…", i, st.name, err, st.want)
		}
		if strings.Contains(err.Error(), "s3cret-value") {
			t.Fatalf("step %d: error leaks the secret", i)
		}
	}
}

func TestLoadCallersRefusesReadableSecret(t *testing.T) {
	dir := t.TempDir()
	body := "callers:\n  - access_key_id: AKIDDIALER0000000001\n    secret: \"inline-secret\"\n    principal: dialer\n    operations: [\"*\"]\n"
	open := writeFile(t, dir, "open.yaml", body, 0o644)
	_, err := gateway.LoadCallers(open, env1)
	if err == nil || !strings.Contains(err.Error(), "open.yaml:2: secret:") || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("readable file with a secret: %v", err)
	}
	if strings.Contains(err.Error(), "inline-secret") {
		t.Fatal("error leaks the secret")
	}
	closed := writeFile(t, dir, "closed.yaml", body, 0o600)
	if _, err := gateway.LoadCallers(closed, env1); err != nil {
		t.Fatalf("0600 file: %v", err)
	}
	// secret_env in a readable file is fine: the file holds no secret.
	envOnly := writeFile(t, dir, "env.yaml", strings.Replace(body, `secret: "inline-secret"`, "secret_env: DIALER_SECRET", 1), 0o644)
	if _, err := gateway.LoadCallers(envOnly, env1); err != nil {
		t.Fatalf("secret_env file: %v", err)
	}
}

// FuzzParseCallers: arbitrary input never panics, and an accepted file
// has every caller complete.
func FuzzParseCallers(f *testing.F) {
	f.Add(callersYAML)
	f.Add("callers:\n  - access_key_id: AKIDDIALER0000000001\n    secret: x\n    principal: p\n    operations: [\"*\"]\n    priority: low\n    share: 0.5\n")
	f.Add("callers: {}")
	f.Fuzz(func(t *testing.T, in string) {
		cs, err := gateway.ParseCallers("f.yaml", []byte(in), func(string) string { return "v" })
		if err != nil {
			return
		}
		for _, c := range cs.List() {
			if c.Principal == "" || c.Share <= 0 || len(c.Operations) == 0 {
				t.Fatalf("accepted incomplete caller %+v", c)
			}
			if s, ok := cs.Secret(c.AccessKeyID); !ok || s == "" {
				t.Fatalf("caller %s without a secret", c.AccessKeyID)
			}
		}
	})
}
