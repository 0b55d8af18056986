package examples

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/quotas/quotafile"
	"github.com/tollgatehq/tollgate/sim"
)

// The tests run from the repository root, as the README's commands do.
func root(t *testing.T) {
	t.Helper()
	t.Chdir("..")
}

// TestServeConfig loads serve.yaml through serve's pipeline (Default →
// Parse → Validate) and its quota file the way internal/app does.
func TestServeConfig(t *testing.T) {
	root(t)
	c, err := config.Load(config.Sources{File: "examples/serve.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if c.AWS.Endpoint != "http://127.0.0.1:8999" || c.Limits.RateScale != 10 || c.Poll.Instance != sim.DefaultInstanceID {
		t.Errorf("serve.yaml read as %+v", c)
	}
	ovs, err := quotafile.Load(c.Limits.QuotaFile)
	if err != nil {
		t.Fatal(err)
	}
	qt := quotas.Default()
	if err := qt.Apply(ovs, c.Limits.Account, c.AWS.Region); err != nil {
		t.Fatal(err)
	}
	if a, _ := qt.API("StartOutboundVoiceContact"); a.Rate != 5 || a.Burst != 10 {
		t.Errorf("quotas.yaml: StartOutboundVoiceContact %v/%d, want 5/10", a.Rate, a.Burst)
	}
	if r, _ := qt.Resource(quotas.ConcurrentActiveCalls); r.Default != 50 {
		t.Errorf("quotas.yaml: concurrent active calls %d, want 50", r.Default)
	}
}

// TestSimConfig loads sim.yaml (and through it quotas.yaml and
// sim-state.yaml) through `tollgate sim`'s pipeline and starts a simulator
// with the result.
func TestSimConfig(t *testing.T) {
	root(t)
	_, o, err := config.LoadSim(config.Sources{File: "examples/sim.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	info := s.Info()
	if len(info.Instances) != 1 || info.Instances[0].ID != sim.DefaultInstanceID || len(info.Instances[0].Queues) != 3 || len(info.Campaigns) != 1 {
		t.Errorf("sim-state.yaml not applied: %+v", info)
	}
	if a, _ := o.Quotas.API("StartOutboundVoiceContact"); a.Rate != 5 {
		t.Errorf("quotas.yaml not applied: %+v", a)
	}
	if o.Credentials["AKIDEXAMPLE"] != "example-secret" || o.RateScale != 10 || o.BodyTimeout != 30*time.Second {
		t.Errorf("sim.yaml read as %+v", o)
	}
	seed, err := sim.LoadSeed("examples/sim-state.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(seed.Instances[0].Users) != 2 {
		t.Errorf("sim-state.yaml users: %+v", seed.Instances[0].Users)
	}
}

// TestJobsNotExpired: the sample jobs' deadlines are well in the future,
// so pasting them queues calls instead of dead-lettering them as expired.
// (serve's own parser reads the file in internal/server's tests.)
func TestJobsNotExpired(t *testing.T) {
	f, err := os.Open("jobs.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for line := 1; sc.Scan(); line++ {
		var j struct {
			NotAfter *time.Time `json:"not_after"`
		}
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
			t.Fatalf("jobs.jsonl:%d: %v", line, err)
		}
		n++
		if j.NotAfter != nil && j.NotAfter.Before(time.Now().AddDate(1, 0, 0)) {
			t.Errorf("jobs.jsonl:%d: not_after %v is less than a year away", line, j.NotAfter)
		}
	}
	if n == 0 {
		t.Fatal("no jobs")
	}
}

// TestReadmeReferencesExamples: the project README points at the folder,
// and every file here is listed in this folder's README.
func TestReadmeReferencesExamples(t *testing.T) {
	top, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	local, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*")
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.IsDir() || strings.HasSuffix(f, ".go") || f == "README.md" {
			continue // sub-folders (deploy/, …) have their own README
		}
		if !strings.Contains(string(local), "`"+f+"`") {
			t.Errorf("examples/README.md does not list %s", f)
		}
		if !strings.Contains(string(top), "examples/"+f) {
			t.Errorf("README.md does not reference examples/%s", f)
		}
	}
}

// TestServePoolsConfig loads serve-pools.yaml through serve's pipeline:
// two pools, each with its account, access key (secret from the
// environment) and the same logical names.
func TestServePoolsConfig(t *testing.T) {
	root(t)
	c, err := config.Load(config.Sources{File: "examples/serve-pools.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Pools) != 2 || c.Queue.Backend != "embedded" || c.AWS.Endpoint != "http://127.0.0.1:8999" {
		t.Fatalf("serve-pools.yaml read as %+v", c)
	}
	for i, p := range c.Pools {
		k := i + 1
		if want := fmt.Sprintf("%012d", 100000000000+k); p.Account != want {
			t.Errorf("pool %s: account %s, want the simulator's account %d (%s)", p.Name, p.Account, k, want)
		}
		if want := fmt.Sprintf("AKIDSIMACCOUNT%06d", k); p.Credentials.AccessKeyID != want || p.Credentials.SecretEnv == "" {
			t.Errorf("pool %s: credentials %+v, want %s with a secret_env", p.Name, p.Credentials, want)
		}
		if p.IDs.ByMember()["ContactFlowId"]["outbound-sales"] == "" {
			t.Errorf("pool %s: no outbound-sales flow", p.Name)
		}
	}
}
