package cli

import (
	"strings"
	"testing"
)

// TestSimUsageErrors: bad settings stop `tollgate sim` before it listens,
// with a usage error naming the field and where it came from.
func TestSimUsageErrors(t *testing.T) {
	for i, st := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "--quota", "NoSuchOp=1:1"}, "quotas.NoSuchOp"},
		{[]string{"sim", "--quota", "ListQueues=x:1"}, "quotas (--quota)"},
		{[]string{"sim", "--call-limit", "maybe"}, "call_limit"},
		{[]string{"sim", "--access-key", "AKIDsecretvalue"}, "credentials (--access-key)"},
		{[]string{"sim", "--config", "/nonexistent/sim.yaml"}, "config file"},
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
