package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// FuzzSimConfig feeds arbitrary files, variables and flag values through the
// simulator's pipeline: it never panics, and every failure names a setting.
func FuzzSimConfig(f *testing.F) {
	f.Add("rate_scale: 2\nquotas:\n  DescribeUser: {rate: 1, burst: 2}\n", "3", "ListQueues=1:1", "AKID=secret")
	f.Add("faults:\n  ListUsers: {latency: \"fixed:5ms\", error_rate: 0.5}\ncall_duration: \"exp:90s\"\n", "", "x", "")
	f.Add("state:\n  instances: [{alias: a}]\nresources: {concurrent-active-calls: 3}\n", "-1", "Nope=1:1:Bad", "=")
	f.Add("- a\n- b\n", "NaN", "ListQueues=1e400:1", "K=V,K2")
	f.Fuzz(func(t *testing.T, file, rateEnv, quota, key string) {
		p := filepath.Join(t.TempDir(), "sim.yaml")
		if err := os.WriteFile(p, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		fs := pflag.NewFlagSet("sim", pflag.ContinueOnError)
		RegisterSimFlags(fs)
		if err := fs.Parse([]string{"--quota", quota, "--access-key", key}); err != nil {
			return
		}
		env := map[string]string{"TOLLGATE_SIM_RATE_SCALE": rateEnv, "TOLLGATE_SIM_CREDENTIALS": key}
		_, _, err := LoadSim(Sources{File: p, Flags: fs, LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
		if err == nil {
			return
		}
		msg := err.Error()
		named := false
		for _, f := range SimTable(new(DefaultSim())).Fields {
			if strings.Contains(msg, strings.SplitN(f.Key, ".", 2)[0]) {
				named = true
				break
			}
		}
		// An unknown key is named as given.
		if !named && !strings.Contains(msg, "is not a setting") && !strings.Contains(msg, "config file") && !strings.Contains(msg, "the file") {
			t.Fatalf("error names no setting: %v", err)
		}
	})
}
