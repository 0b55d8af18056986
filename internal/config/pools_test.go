package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// twoPools is a valid pools section the steps below break one way each.
const twoPools = `
pools:
  - name: east
    account: "111111111111"
    region: us-east-1
    instance_id: 11111111-0000-4000-8000-000000000001
    credentials:
      access_key_id: AKIDEAST00000001
      secret_env: EAST_SECRET
    ids:
      contact_flows: {outbound-sales: f1, retention: f2}
      queues: {sales: q1}
  - name: west
    account: "222222222222"
    region: us-west-2
    instance_id: 22222222-0000-4000-8000-000000000002
    weight: 2.5
    credentials:
      role_arn: arn:aws:iam::222222222222:role/tollgate
      external_id: xid-1
      sts_endpoint: http://127.0.0.1:8999
    ids:
      contact_flows: {outbound-sales: f3, retention: f4}
      queues: {sales: q2}
`

func loadPools(t *testing.T, yml string) (Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "serve.yaml")
	if err := os.WriteFile(p, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(Sources{File: p})
}

func TestPoolsParsed(t *testing.T) {
	c, err := loadPools(t, twoPools)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Pools) != 2 {
		t.Fatalf("pools %+v", c.Pools)
	}
	e, w := c.Pools[0], c.Pools[1]
	type step struct {
		name      string
		got, want any
	}
	for i, s := range []step{
		{"east weight (default)", e.Weight, DefaultPoolWeight},
		{"west weight", w.Weight, 2.5},
		{"east credentials", e.Credentials.Kind(), "access-key"},
		{"west credentials", w.Credentials.Kind(), "role"},
		{"west external id", w.Credentials.ExternalID, "xid-1"},
		{"east flow", e.IDs.ByMember()["ContactFlowId"]["outbound-sales"], "f1"},
		{"west queue", w.IDs.ByMember()["QueueId"]["sales"], "q2"},
		{"no phone numbers", len(w.IDs.ByMember()["SourcePhoneNumber"]), 0},
		{"label", w.Label(1), "pools[1] (west)"},
	} {
		if s.got != s.want {
			t.Errorf("step %d %s: got %v want %v", i, s.name, s.got, s.want)
		}
	}
	// No pools: exactly today's configuration.
	if d := Default(); d.Pools != nil || d.Validate() != nil {
		t.Errorf("Default has pools %v", d.Pools)
	}
}

// TestPoolsRefused: each bad pools section is refused, the error naming
// the pool and the field.
func TestPoolsRefused(t *testing.T) {
	type step struct {
		name    string
		edit    func(string) string
		want    []string
		notWant string
	}
	r := func(old, new string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, old) {
				t.Fatalf("%q not in the base", old)
			}
			return strings.Replace(s, old, new, 1)
		}
	}
	for i, s := range []step{
		{"logical name missing", r("{outbound-sales: f3, retention: f4}", "{retention: f4}"),
			[]string{`pools[1] (west).ids.contact_flows: "outbound-sales" is missing (pool east has it)`}, ""},
		{"logical name only in the second", r("queues: {sales: q2}", "queues: {sales: q2, support: q3}"),
			[]string{`pools[0] (east).ids.queues: "support" is missing (pool west has it)`}, ""},
		{"same account and region", r("account: \"222222222222\"\n    region: us-west-2", "account: \"111111111111\"\n    region: us-east-1"),
			[]string{"pools[1] (west).account", "one pool per account and Region"}, ""},
		{"duplicate name", r("name: west", "name: east"), []string{"pools[1] (east).name", "used twice"}, ""},
		{"invalid name", r("name: west", "name: West_1"), []string{"pools[1] (West_1).name", "a-z 0-9"}, ""},
		{"missing name", r("  - name: west\n", "  - region: us-west-2\n"), []string{"pools[1]"}, ""},
		{"bad account", r(`account: "222222222222"`, `account: "2222"`), []string{"pools[1] (west).account", "12-digit"}, ""},
		{"account as a float", r(`account: "111111111111"`, `account: 1.1e11`), []string{"pools[0] (east).account"}, ""},
		{"zero weight", r("weight: 2.5", "weight: 0"), []string{"pools[1] (west).weight", "> 0"}, ""},
		{"negative weight", r("weight: 2.5", "weight: -1"), []string{"pools[1] (west).weight"}, ""},
		{"two credential kinds", r("role_arn:", "profile: west\n      role_arn:"), []string{"pools[1] (west).credentials", "at most one"}, ""},
		{"access key without secret_env", r("      secret_env: EAST_SECRET\n", ""), []string{"pools[0] (east).credentials.secret_env", "required"}, ""},
		{"inline secret", r("secret_env: EAST_SECRET", "secret_access_key: wJalrXUtnFEMIsecretvalue"),
			[]string{"pools[0] (east).credentials.secret_access_key", "never written in the file", "line 9"}, "wJalrXUtnFEMIsecretvalue"},
		{"inline secret, another spelling", r("secret_env: EAST_SECRET", "secret: hunter2hunter2"),
			[]string{"pools[0] (east).credentials.secret", "secret_env"}, "hunter2hunter2"},
		{"unknown pool key", r("weight: 2.5", "wieght: 2.5"), []string{"pools[1] (west).wieght", "not a setting", "line 17"}, ""},
		{"role of another account", r("arn:aws:iam::222222222222:role", "arn:aws:iam::333333333333:role"),
			[]string{"pools[1] (west).credentials.role_arn", "333333333333"}, ""},
		{"not a role arn", r("arn:aws:iam::222222222222:role/tollgate", "tollgate"), []string{"pools[1] (west).credentials.role_arn", "IAM role ARN"}, ""},
		{"external id without role", r("secret_env: EAST_SECRET", "secret_env: EAST_SECRET\n      external_id: x1"),
			[]string{"pools[0] (east).credentials.external_id", "role_arn"}, ""},
		{"bad sts endpoint", r("sts_endpoint: http://127.0.0.1:8999", "sts_endpoint: 127.0.0.1"), []string{"pools[1] (west).credentials.sts_endpoint", "URL"}, ""},
		{"missing instance", r("    instance_id: 22222222-0000-4000-8000-000000000002\n", ""), []string{"pools[1] (west).instance_id", "required"}, ""},
		{"shared instance", r("22222222-0000-4000-8000-000000000002", "11111111-0000-4000-8000-000000000001"), []string{"pools[1] (west).instance_id"}, ""},
		{"bad region", r("region: us-west-2", "region: west"), []string{"pools[1] (west).region"}, ""},
		{"bad env name", r("secret_env: EAST_SECRET", "secret_env: EAST-SECRET"), []string{"pools[0] (east).credentials.secret_env"}, ""},
		{"not a list", func(string) string { return "pools: {name: east}\n" }, []string{"pools", "list"}, ""},
		{"sqs backend", func(s string) string { return s + "queue:\n  backend: sqs\n  sqs: {queue_url: q}\n" },
			[]string{"queue.backend", "pools", "embedded store", "pin"}, ""},
		{"limits.account", func(s string) string { return s + "limits:\n  account: \"111111111111\"\n" }, []string{"limits.account", "pools"}, ""},
	} {
		_, err := loadPools(t, s.edit(twoPools))
		if err == nil {
			t.Errorf("step %d %s: accepted", i, s.name)
			continue
		}
		for _, w := range s.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("step %d %s: got %q want it to mention %q", i, s.name, err, w)
			}
		}
		if s.notWant != "" && strings.Contains(err.Error(), s.notWant) {
			t.Errorf("step %d %s: the error shows the secret: %q", i, s.name, err)
		}
	}
	// Quota sync with pools reads each pool's account.
	if _, err := loadPools(t, twoPools+"limits:\n  quota_sync: 5m\n"); err != nil {
		t.Errorf("quota_sync with pools: %v", err)
	}
	// Redis with pools needs no limits.account: each pool's account keys
	// its own buckets.
	if _, err := loadPools(t, twoPools+"limits:\n  redis_url: redis://127.0.0.1:6379\n"); err != nil {
		t.Errorf("redis_url with pools: %v", err)
	}
}
