package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSimConfigFile(t *testing.T) {
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
	_, o, err := LoadSim(Sources{File: cfgPath})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]sim.QuotaStatus{}
	for _, q := range s.Quotas() {
		got[q.Op] = q
	}
	if q := got["DescribeUser"]; q.Rate != 2 || q.Burst != 4 || q.Code != "TooManyRequestsException" {
		t.Fatalf("DescribeUser bucket %+v (rate_scale 2 applies to file quotas)", q)
	}
	if q := got["ListQueues"]; q.Rate != 6 || q.Burst != 8 {
		t.Fatalf("ListQueues bucket from quota_file: %+v", q)
	}
	if s.Faults()["ListUsers"].ErrorRate != 0.5 || o.CallDuration.Kind != sim.DistExponential || o.CallDuration.Mean != 90*time.Second {
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

func TestSimConfigErrorsNameTheField(t *testing.T) {
	steps := []struct {
		body, want string
	}{
		{"rate_scal: 2\n", "c.yaml line 1): is not a setting"},
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
		_, _, err := LoadSim(Sources{File: p})
		if err == nil || !strings.Contains(err.Error(), st.want) {
			t.Fatalf("step %d: got %v, want an error containing %q", i, err, st.want)
		}
	}
}

// TestSimLayers: sim's settings go through the same layering as serve's:
// flags beat the environment, which beats the file, which beats the
// defaults; repeatable flags add map entries and replace lists.
func TestSimLayers(t *testing.T) {
	file := writeFile(t, "sim.yaml", `
rate_scale: 2
seed: 9
account_id: "111122223333"
quotas:
  DescribeUser: {rate: 1, burst: 2}
credentials: {AKIDFILE: file-secret}
refused_destination_prefixes: ["+1555000"]
state:
  instances: [{alias: inline}]
`)
	env := map[string]string{
		"TOLLGATE_SIM_RATE_SCALE": "3",
		"TOLLGATE_SIM_SEED":       "10",
		"TOLLGATE_SIM_ACCOUNT_ID": "222233334444",
	}
	fs := pflag.NewFlagSet("sim", pflag.ContinueOnError)
	RegisterSimFlags(fs)
	seed := writeFile(t, "state.yaml", "instances: [{alias: from-flag}]\n")
	if err := fs.Parse([]string{"--rate-scale", "4", "--quota", "ListQueues=1:1", "--access-key", "AKID2=s2",
		"--refuse-prefix", "+1", "--refuse-prefix", "+44", "--seed-file", seed}); err != nil {
		t.Fatal(err)
	}
	c, o, err := LoadSim(Sources{File: file, LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, Flags: fs})
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		name      string
		got, want any
	}
	for i, s := range []step{
		{"addr (default)", c.Addr, sim.DefaultAddr},
		{"rate_scale (flag)", c.RateScale, 4.0},
		{"seed (env)", c.Seed, int64(10)},
		{"account_id (env)", o.AccountID, "222233334444"},
		{"quotas (file + flag)", len(c.Quotas), 2},
		{"quota flag", c.Quotas["ListQueues"], sim.QuotaConfig{Rate: 1, Burst: 1}},
		{"credentials (file + flag)", len(c.Credentials), 2},
		{"refuse-prefix replaces", strings.Join(c.RefusedDestinationPrefixes, " "), "+1 +44"},
		{"--seed-file replaces inline state", o.State != nil && len(o.State.Instances) == 1 && o.State.Instances[0].Alias == "from-flag", true},
		{"call_limit (default)", o.CallLimit, sim.CallLimitReorder},
	} {
		if s.got != s.want {
			t.Errorf("step %d (%s): got %v want %v", i, s.name, s.got, s.want)
		}
	}
}

// TestSimFlagErrorsNameTheField: bad flags and variables name the field
// and where it came from, and never echo a secret.
func TestSimFlagErrorsNameTheField(t *testing.T) {
	type step struct {
		args []string
		env  map[string]string
		want string
	}
	for i, st := range []step{
		{[]string{"--quota", "ListQueues=0:1"}, nil, "quotas (--quota): ListQueues: rate must be a number > 0"},
		{[]string{"--quota", "ListQueues"}, nil, "quotas (--quota): want OP=RATE:BURST[:CODE]"},
		{[]string{"--quota", "Nope=1:1"}, nil, "quotas.Nope: unknown operation"},
		{[]string{"--access-key", "AKIDtopsecret"}, nil, "credentials (--access-key): want KEY=VALUE (the value given is not shown)"},
		{[]string{"--call-limit", "maybe"}, nil, "call_limit"},
		{[]string{"--addr", "nohostport"}, nil, "addr"},
		{nil, map[string]string{"TOLLGATE_SIM_RATE_SCALE": "fast"}, "rate_scale (TOLLGATE_SIM_RATE_SCALE): must be a number"},
		{nil, map[string]string{"TOLLGATE_SIM_CALL_DURATION": "weird:1s"}, "call_duration (TOLLGATE_SIM_CALL_DURATION)"},
	} {
		fs := pflag.NewFlagSet("sim", pflag.ContinueOnError)
		RegisterSimFlags(fs)
		if err := fs.Parse(st.args); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadSim(Sources{Flags: fs, LookupEnv: func(k string) (string, bool) { v, ok := st.env[k]; return v, ok }})
		if err == nil || !strings.Contains(err.Error(), st.want) {
			t.Errorf("step %d: got %v, want an error containing %q", i, err, st.want)
		}
		if err != nil && strings.Contains(err.Error(), "topsecret") {
			t.Errorf("step %d: the error shows the secret: %v", i, err)
		}
	}
}
