package collect_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/tollgatehq/tollgate/audit"
	"github.com/tollgatehq/tollgate/audit/audittest"
	"github.com/tollgatehq/tollgate/audit/collect"
)

var ctx = context.Background()

// audit runs the whole audit the way the CLI does: the SDK's default
// configuration from the environment, then Collect and Check.
func runAudit(t testing.TB, tweak func(*aws.Config)) *audit.Report {
	t.Helper()
	cfg, err := collect.LoadConfig(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(&cfg)
	}
	inv, calls, err := collect.Collect(ctx, collect.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	rep := audit.Check(inv, audit.Options{})
	rep.Calls = calls
	return rep
}

// match fails unless every finding matches exactly one wanted entry and
// every wanted entry is matched exactly once.
func match(t *testing.T, got []audit.Finding, want []audittest.Want) {
	t.Helper()
	used := make([]int, len(want))
	var bad []string
	for _, f := range got {
		n := 0
		for i, w := range want {
			if f.Rule == w.Rule && strings.Contains(f.Resource, w.Resource) {
				used[i]++
				n++
			}
		}
		if n != 1 {
			bad = append(bad, fmt.Sprintf("unexpected finding %s %s (found %s = %s)", f.Rule, f.Resource, f.Evidence.Field, f.Evidence.Found))
		}
	}
	for i, w := range want {
		if used[i] != 1 {
			bad = append(bad, fmt.Sprintf("want %s on %q once, matched %d times", w.Rule, w.Resource, used[i]))
		}
	}
	if len(bad) > 0 {
		t.Fatalf("findings:\n  %s", strings.Join(bad, "\n  "))
	}
}

// TestFixtures: each rule fires exactly where its fault was planted in the
// bad account, and nowhere in the good one.
func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(testing.TB, *audittest.Account) []audittest.Want
	}{
		{"bad", audittest.BadAccount},
		{"good", audittest.GoodAccount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := audittest.Start(t)
			want := tc.build(t, a)
			a.Env(t)
			rep := runAudit(t, nil)
			match(t, rep.Findings, want)
			if rep.Partial {
				t.Fatalf("partial report")
			}
			for _, f := range rep.Findings {
				if f.Reason == "" || f.Evidence.Found == "" || f.Evidence.Expected == "" || len(f.Fix.CLI) == 0 || f.Fix.CloudFormation == "" || f.Fix.Terraform == "" {
					t.Fatalf("incomplete finding %+v", f)
				}
			}
			if rep.Summary.Callers == 0 || rep.TotalCalls() == 0 {
				t.Fatalf("summary %+v, %d calls", rep.Summary, rep.TotalCalls())
			}
		})
	}
}

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

var putInvokeConfig = regexp.MustCompile(`(?m)^aws lambda put-function-event-invoke-config --function-name (\S+)`)

// TestFixPlanCleansBadAccount runs the fix plan's commands with the real
// aws CLI against moto and the simulator; a second audit finds nothing.
func TestFixPlanCleansBadAccount(t *testing.T) {
	cli := awsCLI(t)
	a := audittest.Start(t)
	audittest.BadAccount(t, a)
	a.Env(t)
	rep := runAudit(t, nil)
	if len(rep.Findings) == 0 {
		t.Fatal("bad account has no findings")
	}
	path := filepath.Join(t.TempDir(), "fix.sh")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.WritePlan(f, rep); err != nil {
		t.Fatal(err)
	}
	f.Close()
	plan, _ := os.ReadFile(path)

	// moto 5.2.1 appends on PutFunctionEventInvokeConfig and Get returns
	// the first configuration (moto/awslambda/models.py), where AWS
	// replaces it. Deleting the old one first makes moto behave like AWS.
	for _, m := range putInvokeConfig.FindAllStringSubmatch(string(plan), -1) {
		_, _ = a.Lambda.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String(m[1])})
	}

	cmd := exec.Command("sh", path)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(cli)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fix plan failed: %v\n%s\nplan:\n%s", err, out, plan)
	}
	again := runAudit(t, nil)
	if len(again.Findings) != 0 {
		var b strings.Builder
		_ = audit.Render(&b, again, audit.FormatText)
		t.Fatalf("after the fix plan:\n%s\nplan:\n%s", b.String(), plan)
	}
}

// denyTransport answers AccessDenied for every request signed for one
// service (read from the SigV4 credential scope), as AWS does for a
// missing permission. moto does not enforce IAM, so the refusal is
// injected here, at the transport.
type denyTransport struct {
	service string // signing name: lambda, iam, sqs, events, scheduler, cloudtrail, connect
	base    http.RoundTripper
}

func (d denyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.Contains(r.Header.Get("Authorization"), "/"+d.service+"/aws4_request") {
		return d.base.RoundTrip(r)
	}
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	msg := "User: arn:aws:iam::123456789012:user/auditor is not authorized to perform this action"
	h := http.Header{}
	var body string
	if d.service == "iam" || d.service == "sts" {
		h.Set("Content-Type", "text/xml")
		body = `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>` + msg + `</Message></Error><RequestId>1</RequestId></ErrorResponse>`
	} else {
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-ErrorType", "AccessDeniedException")
		body = `{"__type":"AccessDeniedException","message":"` + msg + `"}`
	}
	return &http.Response{StatusCode: 403, Status: "403 Forbidden", Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
}

// TestAccessDeniedPerService: refusing one service's calls leaves a
// "could not check X (needs …)" finding, a partial report, and every
// finding that does not depend on that service.
func TestAccessDeniedPerService(t *testing.T) {
	a := audittest.Start(t)
	bad := audittest.BadAccount(t, a)
	a.Env(t)
	lost := func(rules ...string) func(audittest.Want) bool {
		return func(w audittest.Want) bool {
			for _, r := range rules {
				if w.Rule+" "+w.Resource == r || w.Rule == r {
					return true
				}
			}
			return false
		}
	}
	for _, tc := range []struct {
		service string // signing name
		action  string // an IAM action the gap must name
		lost    func(audittest.Want) bool
	}{
		{"lambda", "lambda:ListFunctions", func(w audittest.Want) bool {
			return w.Rule != "CONNECT_FLOW_LOGS_OFF" && w.Rule != "CLOUDTRAIL_NO_MANAGEMENT_TRAIL"
		}},
		{"iam", "iam:GetAccountAuthorizationDetails", func(w audittest.Want) bool {
			return w.Rule != "CONNECT_FLOW_LOGS_OFF" && w.Rule != "CLOUDTRAIL_NO_MANAGEMENT_TRAIL" && w.Rule != "SQS_NO_DLQ"
		}},
		{"sqs", "sqs:ListQueues", lost("SQS_NO_DLQ", "SQS_VISIBILITY_TIMEOUT")},
		{"events", "events:ListRules", lost("ASYNC_NO_FAILURE_DESTINATION", "ASYNC_UNBOUNDED_RETRY", "POLLER_TOO_FAST events rule poller-cron")},
		{"scheduler", "scheduler:ListSchedules", lost("POLLER_TOO_FAST scheduler schedule default/poller-rate")},
		{"cloudtrail", "cloudtrail:DescribeTrails", lost("CLOUDTRAIL_NO_MANAGEMENT_TRAIL")},
		{"connect", "connect:ListInstances", lost("CONNECT_FLOW_LOGS_OFF")},
	} {
		t.Run(tc.service, func(t *testing.T) {
			rep := runAudit(t, func(cfg *aws.Config) {
				cfg.HTTPClient = &http.Client{Transport: denyTransport{tc.service, http.DefaultTransport}}
			})
			if !rep.Partial {
				t.Fatal("report not partial")
			}
			var want []audittest.Want
			for _, w := range bad {
				if !tc.lost(w) {
					want = append(want, w)
				}
			}
			var rest []audit.Finding
			named := false
			for _, f := range rep.Findings {
				if f.Rule != audit.RuleIncomplete {
					rest = append(rest, f)
					continue
				}
				if !strings.Contains(f.Reason, "could not check") || !strings.Contains(f.Reason, "(needs "+iamPrefix(tc.service)) {
					t.Fatalf("gap finding %q", f.Reason)
				}
				if strings.Contains(f.Reason, "(needs "+tc.action+")") {
					named = true
				}
			}
			if !named {
				t.Fatalf("no finding names %s: %+v", tc.action, rep.Findings)
			}
			match(t, rest, want)
		})
	}
}

func iamPrefix(signing string) string { return signing + ":" }

// TestBadConfiguration: an unknown Region and missing credentials stop the
// audit before any call with an error that says what to fix.
func TestBadConfiguration(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	for _, tc := range []struct {
		region string
		noKeys bool
		want   error
		text   string
	}{
		{"mars-north-1", false, collect.ErrRegion, `"mars-north-1": not an AWS Region name`},
		{"", false, collect.ErrRegion, "no Region"},
		{"us-east-1", true, collect.ErrCredentials, "no AWS credentials"},
	} {
		t.Run(tc.region+fmt.Sprint(tc.noKeys), func(t *testing.T) {
			t.Setenv("AWS_REGION", "")
			t.Setenv("AWS_DEFAULT_REGION", "")
			if tc.noKeys {
				t.Setenv("AWS_ACCESS_KEY_ID", "")
				t.Setenv("AWS_SECRET_ACCESS_KEY", "")
				t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
				t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
				t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
			}
			_, err := collect.LoadConfig(ctx, tc.region, "")
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("got %v, want %v containing %q", err, tc.want, tc.text)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error echoes the secret: %v", err)
			}
		})
	}
}

// TestEndpointFlag: --endpoint sends every client to one URL, over both
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_CONNECT: Connect's ListInstances
// reaches moto (no instances) instead of the simulator (one instance).
func TestEndpointFlag(t *testing.T) {
	a := audittest.Start(t)
	audittest.GoodAccount(t, a)
	a.Env(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // wrong on purpose: --endpoint must win
	cfg, err := collect.LoadConfig(ctx, "", a.Moto.URL)
	if err != nil {
		t.Fatal(err)
	}
	inv, _, err := collect.Collect(ctx, collect.Options{Config: cfg, Endpoint: a.Moto.URL})
	if err != nil {
		t.Fatal(err)
	}
	rep := audit.Check(inv, audit.Options{})
	if len(rep.Findings) != 0 || rep.Partial || rep.Summary.Callers == 0 || rep.Summary.Instances != 0 {
		t.Fatalf("findings %+v summary %+v", rep.Findings, rep.Summary)
	}
	for svc, u := range inv.Endpoints {
		if u != a.Moto.URL {
			t.Fatalf("endpoint of %s = %q", svc, u)
		}
	}
}
