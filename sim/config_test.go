package sim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(`{"instances":[{"id":"11111111-1111-4111-8111-111111111111","alias":"seeded",
		"queues":[{"name":"Q1"}],"contact_flows":[{"id":"flow-1","name":"F"}],"users":[{"username":"u1"},{"username":"u2"}],
		"phone_numbers":[{"number":"+14155550123"}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "quotas.yaml"), []byte("overrides:\n  - op: ListQueues\n    rate: 3\n    burst: 4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "sim.yaml")
	if err := os.WriteFile(cfgPath, []byte(`
rate_scale: 2
seed: 7
call_limit: error
quota_file: quotas.yaml
quotas:
  DescribeUser: {rate: 1, burst: 2, code: TooManyRequestsException}
resources:
  concurrent-active-calls: 3
faults:
  ListUsers: {latency: "fixed:5ms", error_rate: 0.5}
call_duration: "exp:90s"
seed_file: state.json
`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.Options()
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, o)
	got := map[string]QuotaStatus{}
	for _, q := range s.Quotas() {
		got[q.Op] = q
	}
	if q := got["DescribeUser"]; q.Rate != 2 || q.Burst != 4 || q.Code != "TooManyRequestsException" {
		t.Fatalf("DescribeUser bucket %+v (rate_scale 2 applies to file quotas)", q)
	}
	if q := got["ListQueues"]; q.Rate != 6 || q.Burst != 8 {
		t.Fatalf("ListQueues bucket from quota_file: %+v", q)
	}
	if s.Faults()["ListUsers"].ErrorRate != 0.5 || o.CallDuration.Kind != DistExponential || o.CallDuration.Mean != 90*time.Second {
		t.Fatalf("faults %+v duration %+v", s.Faults(), o.CallDuration)
	}
	if v, _ := o.Quotas.Resource(quotas.ConcurrentActiveCalls); v.Default != 3 {
		t.Fatalf("resource override: %+v", v)
	}
	info := s.Info()
	if len(info.Instances) != 1 || info.Instances[0].Alias != "seeded" || len(info.Instances[0].Users) != 2 || info.Instances[0].PhoneNumbers[0].Name != "+14155550123" {
		t.Fatalf("seeded state: %+v", info)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	steps := []struct {
		body, want string
	}{
		{"rate_scal: 2\n", "field rate_scal not found"},
		{"rate_scale: -1\n", "rate_scale"},
		{"call_limit: maybe\n", "call_limit"},
		{"quotas:\n  NoSuchOp: {rate: 1, burst: 1}\n", "quotas.NoSuchOp"},
		{"quotas:\n  DescribeUser: {rate: -1, burst: 1}\n", "quotas.DescribeUser"},
		{"quotas:\n  DescribeUser: {rate: 1, burst: 1, code: Nope}\n", "quotas.DescribeUser.code"},
		{"resources:\n  bogus: 1\n", "resources.bogus"},
		{"faults:\n  DescribeUser: {error_rate: 3}\n", "faults.DescribeUser"},
		{"faults:\n  DescribeUser: {latency: \"uniform:5ms\"}\n", "uniform wants MIN..MAX"},
		{"call_duration: \"weird:1s\"\n", "kind must be"},
		{"addr: nohostport\n", "addr"},
		{"state:\n  instances:\n    - users: [{username: \"\"}]\n", "state.instances[0].users[0].username"},
		{"state:\n  instances:\n    - phone_numbers: [{number: \"555\"}]\n", "state.instances[0].phone_numbers[0].number"},
		{"state:\n  instances: []\n", "state.instances"},
		{"account_id: abc\n", "account_id"},
	}
	for i, st := range steps {
		p := writeFile(t, "c.yaml", st.body)
		c, err := LoadConfig(p)
		if err == nil {
			_, err = c.Options()
		}
		if err == nil || !strings.Contains(err.Error(), st.want) {
			t.Fatalf("step %d: got %v, want an error containing %q", i, err, st.want)
		}
	}
}
