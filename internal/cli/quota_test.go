package cli

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgatehq/tollgate/sim"
)

// quotaSim starts a simulator on loopback and sets static credentials.
func quotaSim(t *testing.T) (*sim.Server, string) {
	t.Helper()
	return quotaSimWith(t, sim.Options{Seed: 1})
}

// quotaSimWith is quotaSim with the simulator's options.
func quotaSimWith(t *testing.T, o sim.Options) (*sim.Server, string) {
	t.Helper()
	s, err := sim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_SERVICE_QUOTAS", "")
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH", "")
	return s, ts.URL
}

func runQuotaCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestQuotaCommandsRefuseBadInput(t *testing.T) {
	s, url := quotaSim(t)
	steps := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unknown operation", []string{"quota", "status", "--endpoint", url, "--ops", "CreateUsr"}, ExitUsage, []string{"unknown operation", "CreateUsr"}},
		{"unknown operation on submit", []string{"quota", "request", "submit", "--endpoint", url, "--op", "CreateUsr", "--desired", "5"}, ExitUsage, []string{"unknown operation", "CreateUsr"}},
		{"non-adjustable", []string{"quota", "request", "submit", "--endpoint", url, "--op", "GetMetricData", "--desired", "50", "--yes"}, ExitFailure, []string{"L-52794498", "does not adjust"}},
		{"desired at current", []string{"quota", "request", "submit", "--endpoint", url, "--op", "CreateUser", "--desired", "2", "--yes"}, ExitFailure, []string{"L-CBDEE3E4", "not above the applied value 2"}},
		{"no --desired", []string{"quota", "request", "submit", "--endpoint", url, "--op", "CreateUser"}, ExitUsage, []string{"--desired"}},
		{"bad format", []string{"quota", "status", "--endpoint", url, "--format", "xml"}, ExitUsage, []string{"--format"}},
		{"bad thresholds", []string{"quota", "alarms", "plan", "--endpoint", url, "--warn", "90", "--alarm", "80"}, ExitUsage, []string{"--warn"}},
		{"bad topic", []string{"quota", "alarms", "plan", "--endpoint", url, "--sns-topic", "ops"}, ExitUsage, []string{"--sns-topic"}},
		{"dry run", []string{"quota", "request", "submit", "--endpoint", url, "--op", "CreateUser", "--desired", "4"}, ExitOK, []string{"Dry run", "--yes"}},
	}
	for i, st := range steps {
		code, out, errs := runQuotaCLI(st.args...)
		all := out + errs
		if code != st.code {
			t.Errorf("step %d (%s): exit %d want %d\n%s", i, st.name, code, st.code, all)
		}
		for _, w := range st.want {
			if !strings.Contains(all, w) {
				t.Errorf("step %d (%s): output lacks %q:\n%s", i, st.name, w, all)
			}
		}
	}
	s.ServiceQuotas().Deny("servicequotas:RequestServiceQuotaIncrease", true)
	code, out, errs := runQuotaCLI("quota", "request", "submit", "--endpoint", url, "--op", "CreateUser", "--desired", "4", "--yes")
	if code != ExitFailure || !strings.Contains(errs, "servicequotas:RequestServiceQuotaIncrease") || !strings.Contains(errs, "L-CBDEE3E4") {
		t.Fatalf("AccessDenied: exit %d\n%s%s", code, out, errs)
	}

	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	code, out, errs = runQuotaCLI("quota", "request", "status", "--endpoint", url)
	if code != ExitFailure || !strings.Contains(errs, "no AWS credentials") || !strings.Contains(errs, "AWS_ACCESS_KEY_ID") {
		t.Fatalf("missing credentials: exit %d\n%s%s", code, out, errs)
	}
}

// TestQuotaEndpointVariables: without --endpoint the clients follow
// AWS_ENDPOINT_URL_SERVICE_QUOTAS and AWS_ENDPOINT_URL_CLOUDWATCH over
// AWS_ENDPOINT_URL.
func TestQuotaEndpointVariables(t *testing.T) {
	_, url := quotaSim(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // nothing listens there
	t.Setenv("AWS_ENDPOINT_URL_SERVICE_QUOTAS", url)
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH", url)
	code, out, errs := runQuotaCLI("quota", "status", "--since", "1h", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var st struct {
		Unused []string `json:"unused_ops"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.Unused) < 20 {
		t.Fatalf("status JSON: %v %s", err, out)
	}
	// And AWS_ENDPOINT_URL alone is honoured too.
	t.Setenv("AWS_ENDPOINT_URL", url)
	t.Setenv("AWS_ENDPOINT_URL_SERVICE_QUOTAS", "")
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH", "")
	if code, out, errs := runQuotaCLI("quota", "request", "status"); code != ExitOK || !strings.Contains(out, "No quota increase requests") {
		t.Fatalf("AWS_ENDPOINT_URL: exit %d\n%s%s", code, out, errs)
	}
}
