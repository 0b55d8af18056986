package cli

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgatehq/tollgate/sim"
)

// awsCLI finds the aws CLI (the machine's pyenv awscli); without it the
// test fails when CI=true and is skipped otherwise.
func awsCLI(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("aws"); err == nil {
		return p
	}
	if h, err := os.UserHomeDir(); err == nil {
		if p := filepath.Join(h, ".pyenv", "shims", "aws"); fileExists(p) {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("aws CLI not found (it comes with the pyenv awscli)")
	}
	t.Skip("aws CLI not found (set CI=true to make this a failure)")
	return ""
}

func fileExists(p string) bool { st, err := os.Stat(p); return err == nil && !st.IsDir() }

// TestReadmeAWSCLIExample runs the README's `aws connect list-queues`
// lines as pasted (only the simulator's address differs) with the real aws
// CLI, with no configured Region or profile: against the simulator as the
// README starts it, and against one that verifies SigV4 for the exported
// key pair (repeated --queue-types values in the canonical query, the
// credential scope's Region). A Region the simulator does not serve is
// refused.
func TestReadmeAWSCLIExample(t *testing.T) {
	cli := awsCLI(t)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	export := regexp.MustCompile(`(?m)^export AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)`).FindSubmatch(readme)
	line := regexp.MustCompile(`(?m)^aws connect list-queues --endpoint-url http://127\.0\.0\.1:8999 .*$`).Find(readme)
	if export == nil || line == nil {
		t.Fatal("README: no `export AWS_ACCESS_KEY_ID=…` or `aws connect list-queues` line in the simulator section")
	}
	key, secret := string(export[1]), string(export[2])
	home := t.TempDir()
	run := func(h *sim.Server, cmdline string) (string, error) {
		ts := httptest.NewServer(h)
		defer ts.Close()
		cmdline = strings.Replace(cmdline, "http://127.0.0.1:8999", ts.URL, 1)
		args := strings.Fields(cmdline)[1:]
		c := exec.Command(cli, args...)
		c.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
			"AWS_ACCESS_KEY_ID=" + key, "AWS_SECRET_ACCESS_KEY=" + secret,
			"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
			"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true"}
		if p := os.Getenv("PYENV_ROOT"); p != "" {
			c.Env = append(c.Env, "PYENV_ROOT="+p)
		}
		out, err := c.CombinedOutput()
		return string(out), err
	}
	open, err := sim.New(sim.Options{RateScale: 10})
	if err != nil {
		t.Fatal(err)
	}
	verifying, err := sim.New(sim.Options{RateScale: 10, Credentials: map[string]string{key: secret}})
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]*sim.Server{"open": open, "verifying": verifying} {
		out, err := run(h, string(line))
		if err != nil || !strings.Contains(out, `"QueueType": "AGENT"`) || !strings.Contains(out, `"QueueType": "STANDARD"`) {
			t.Errorf("%s simulator: %v\n%s", name, err, out)
		}
		if strings.Contains(out, "NextToken") {
			t.Errorf("%s simulator: a one-page answer with a NextToken:\n%s", name, out)
		}
	}
	out, err := run(verifying, strings.Replace(string(line), "--region us-east-1", "--region eu-west-2", 1))
	if err == nil || !strings.Contains(out, "InvalidSignatureException") || !strings.Contains(out, "region") {
		t.Errorf("a foreign Region's scope was not refused: %v\n%s", err, out)
	}
}
