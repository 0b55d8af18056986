package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/sim"
)

// TestSimUsageErrors: bad settings stop `tollgate sim` before it listens,
// with a usage error naming the field and where it came from.
func TestSimUsageErrors(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for i, st := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "--quota", "NoSuchOp=1:1"}, "quotas.NoSuchOp"},
		{[]string{"sim", "--quota", "ListQueues=x:1"}, "quotas (--quota)"},
		{[]string{"sim", "--call-limit", "maybe"}, "call_limit"},
		{[]string{"sim", "--access-key", "AKIDsecretvalue"}, "credentials (--access-key)"},
		{[]string{"sim", "--config", "/nonexistent/sim.yaml"}, "config file"},
		{[]string{"sim", "--accounts", "65"}, "accounts: must be in 1..64, got 65"},
		{[]string{"sim", "--accounts", "-1"}, "accounts: must be in 1..64"},
		{[]string{"sim", "--accounts", "two"}, `"--accounts" flag`},
		{[]string{"sim", "--config", file("many.yaml", "accounts: 100\n")}, "accounts: must be in 1..64, got 100"},
		{[]string{"sim", "--config", file("word.yaml", "accounts: three\n")}, "accounts"},
		{[]string{"sim", "--config", file("id.yaml", "accounts: 2\naccount_id: \"111111111111\"\n")}, "account_id: cannot be set with accounts > 1"},
	} {
		code, _, errOut := runCLI(t, st.args...)
		if code != ExitUsage || !strings.Contains(errOut, st.want) {
			t.Errorf("step %d: %v: exit %d, stderr %q; want %d and %q", i, st.args, code, errOut, ExitUsage, st.want)
		}
		if strings.Contains(errOut, "secretvalue") {
			t.Errorf("step %d: stderr shows the secret: %q", i, errOut)
		}
	}
}

// TestSimAccountsStart: `tollgate sim` with accounts: 3 in its file prints
// its URL alone and one key=value line per account, matching GET
// /_sim/accounts, and stops cleanly.
func TestSimAccountsStart(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "sim.yaml")
	if err := os.WriteFile(cfg, []byte("accounts: 3\nseed: 9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut syncBuffer
	root := NewRoot(&out, &errOut)
	root.SetArgs([]string{"sim", "--config", cfg, "--addr", "127.0.0.1:0", "--quiet"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	var lines []string
	for deadline := time.Now().Add(30 * time.Second); ; {
		lines = strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(lines) != 4 {
		t.Fatalf("output %q, stderr %q", out.String(), errOut.String())
	}
	url := lines[0]
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.ContainsAny(url, " \t") {
		t.Fatalf("first line %q, want the URL alone (as gateway --quiet prints it)", lines[0])
	}
	resp, err := http.Get(url + "/_sim/accounts")
	if err != nil {
		t.Fatal(err)
	}
	var accts []sim.AccountInfo
	err = json.NewDecoder(resp.Body).Decode(&accts)
	resp.Body.Close()
	if err != nil || len(accts) != 3 {
		t.Fatalf("GET /_sim/accounts: %v %+v", err, accts)
	}
	for i, line := range lines[1:] {
		kv := map[string]string{}
		rest, ok := strings.CutPrefix(line, "tollgate sim: account ")
		if !ok {
			t.Fatalf("line %q", line)
		}
		for _, f := range strings.Fields(rest) {
			k, v, _ := strings.Cut(f, "=")
			kv[k] = v
		}
		a := accts[i]
		if kv["index"] != strconv.Itoa(a.Index) || kv["account_id"] != a.AccountID || kv["access_key_id"] != a.AccessKeyID ||
			kv["instance_id"] != a.InstanceID || kv["contact_flow_id"] != a.ContactFlowID || kv["queue_id"] != a.QueueID {
			t.Fatalf("line %d %q does not match %+v", i+1, line, a)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("sim: %v", err)
	}
}
