package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/smithy-go/middleware"

	"github.com/tollgatehq/tollgate/audit/audittest"
	"github.com/tollgatehq/tollgate/audit/collect"
	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/client"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/iampolicy"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/internal/testenv/moto"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// opSet is the set of IAM actions (service:Operation) seen during a run.
type opSet struct {
	mu  sync.Mutex
	ops map[string]bool
}

func (s *opSet) add(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ops == nil {
		s.ops = map[string]bool{}
	}
	s.ops[action] = true
}

func (s *opSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.ops))
	for k := range s.ops {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// addSim adds the Connect and Outbound Campaigns operations the simulator
// answered (it routes them itself, from method and path).
func (s *opSet) addSim(st sim.Stats) {
	for op := range st.Operations {
		prefix := "connect:"
		if op == "PutDialRequestBatch" || op == "PutOutboundRequestBatch" {
			prefix = "connect-campaigns:"
		}
		s.add(prefix + op)
	}
}

// iamPrefixOf maps a SigV4 signing name or an SDK service id to its IAM
// prefix.
func iamPrefixOf(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, " ", ""))
	switch s {
	case "monitoring":
		return "cloudwatch"
	case "eventbridge":
		return "events"
	}
	return s
}

// recordSDK is an aws-sdk-go-v2 middleware recording every operation a
// client built from the configuration calls, before it is sent.
func recordSDK(rec *opSet) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("iamPolicyRecorder",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				rec.add(iamPrefixOf(awsmiddleware.GetServiceID(ctx)) + ":" + awsmiddleware.GetOperationName(ctx))
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
}

// recordWire wraps h and records the JSON-RPC (X-Amz-Target), query
// (Action=) and rpcv2 (…/operation/Op) calls that pass, by the signing name
// in the credential scope. restJson calls (Connect) are left to the
// simulator's own per-operation counts.
func recordWire(rec *opSet, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, scope, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
		parts := strings.Split(scope, "/")
		svc := ""
		if len(parts) > 3 {
			svc = iamPrefixOf(parts[3])
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		op := ""
		switch t := r.Header.Get("X-Amz-Target"); {
		case t != "":
			op = t[strings.LastIndex(t, ".")+1:]
		case strings.Contains(r.URL.Path, "/operation/"):
			op = r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
			v, _ := url.ParseQuery(string(body))
			op = v.Get("Action")
		}
		if svc != "" && op != "" {
			rec.add(svc + ":" + op)
		}
		h.ServeHTTP(w, r)
	})
}

// checkPolicy asserts every observed action is granted, and logs what the
// policy grants beyond the run, with its reason (each grant must have one).
func checkPolicy(t *testing.T, p iampolicy.Policy, observed []string) {
	t.Helper()
	if len(observed) == 0 && p.Command != iampolicy.Triage {
		t.Fatalf("%s: the run recorded no operation", p.Command)
	}
	for _, a := range observed {
		if _, ok := p.Grant(a); !ok {
			t.Errorf("%s called %s, which its policy does not grant", p.Command, a)
		}
	}
	var beyond []string
	for _, g := range p.Grants {
		if g.Source == "" {
			t.Errorf("%s: grant %s has no source", p.Command, g.Action)
		}
		if !slices.ContainsFunc(observed, func(a string) bool { return strings.EqualFold(a, g.Action) }) {
			beyond = append(beyond, g.Action+" ("+g.Source+")")
		}
	}
	t.Logf("%s: observed %d actions %v; granted beyond this run, with the reason: %s", p.Command, len(observed), observed, strings.Join(beyond, "; "))
}

// isolatedAWSEnv gives a command static credentials and nothing else from
// the machine's AWS set-up.
func isolatedAWSEnv(t *testing.T, key, secret string) {
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SERVICE_QUOTAS", "AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL_CONNECT"} {
		t.Setenv(k, "")
	}
}

func policyFor(t *testing.T, cmd string, o iampolicy.Options) iampolicy.Policy {
	t.Helper()
	p, err := iampolicy.For(cmd, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIAMPolicyQuotaBehaviour runs every quota subcommand against the
// simulator and checks the calls against `iam-policy --for quota`.
func TestIAMPolicyQuotaBehaviour(t *testing.T) {
	s, err := sim.New(sim.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var rec opSet
	ts := httptest.NewServer(recordWire(&rec, s))
	defer ts.Close()
	isolatedAWSEnv(t, "AKIDTEST", "secret")
	dir := t.TempDir()
	for _, args := range [][]string{
		{"quota", "status", "--endpoint", ts.URL, "--since", "1h"},
		{"quota", "status", "--endpoint", ts.URL, "--since", "1h", "--instance-id", sim.DefaultInstanceID},
		{"quota", "alarms", "apply", "--endpoint", ts.URL, "--since", "1h"},
		{"quota", "request", "draft", "--endpoint", ts.URL, "--op", "CreateUser", "--desired", "5", "--out", dir},
		{"quota", "request", "submit", "--endpoint", ts.URL, "--op", "CreateUser", "--desired", "4", "--yes"},
		{"quota", "request", "status", "--endpoint", ts.URL},
		{"quota", "alarms", "plan", "--endpoint", ts.URL, "--since", "1h", "--ops", ""},
	} {
		code, out, errs := runQuotaCLI(args...)
		if code != ExitOK && code != ExitPartial {
			t.Logf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	rec.addSim(s.Stats())
	checkPolicy(t, policyFor(t, iampolicy.Quota, iampolicy.Options{}), rec.list())
}

// TestIAMPolicyGatewayBehaviour runs `tollgate gateway` with a callers file
// in front of the simulator, calls it with the Go SDK, and checks what the
// gateway sent upstream (the simulator's per-caller counts of the gateway's
// own key) against `iam-policy --for gateway --callers`.
func TestIAMPolicyGatewayBehaviour(t *testing.T) {
	s, err := sim.New(sim.Options{Seed: 1, CallDuration: sim.Distribution{Kind: sim.DistFixed, Min: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(s)
	defer up.Close()
	dir := t.TempDir()
	callersPath := filepath.Join(dir, "callers.yaml")
	yaml := "callers:\n  - access_key_id: AKIDDIALER0000000001\n    secret: \"dialer-secret\"\n    principal: dialer\n    operations: [ListQueues, StartOutboundVoiceContact, DescribeInstance]\n"
	if err := os.WriteFile(callersPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	isolatedAWSEnv(t, "AKIDGATEWAYIAM000001", "gw-secret")
	url, stop := startCLIServer(t, "gateway", "--listen", "127.0.0.1:0", "--upstream", up.URL, "--callers", callersPath, "--data-dir", filepath.Join(dir, "data"), "--quiet")
	c := connect.New(connect.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDDIALER0000000001", "dialer-secret", "")})
	ctx := context.Background()
	if _, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{InstanceId: aws.String(sim.DefaultInstanceID),
		ContactFlowId: aws.String(sim.DefaultContactFlowID), DestinationPhoneNumber: aws.String("+12065550100")})
	if err != nil {
		t.Fatal(err)
	}
	if out.ContactId == nil {
		t.Fatal("no contact id")
	}
	if _, err := c.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: aws.String(sim.DefaultInstanceID)}); err != nil {
		t.Fatal(err)
	}
	stop()
	var rec opSet
	rec.addSim(s.Stats())
	cs, err := gateway.LoadCallers(callersPath, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	p := policyFor(t, iampolicy.Gateway, iampolicy.Options{Callers: cs, InstanceARN: "arn:aws:connect:us-east-1:123456789012:instance/" + sim.DefaultInstanceID})
	checkPolicy(t, p, rec.list())
	if len(p.Actions()) != 3 {
		t.Errorf("gateway policy grants %v, want exactly the callers' 3 operations", p.Actions())
	}
}

// startCLIServer runs a long-running command that prints its URL on the
// first line of standard output (--quiet) and returns the URL and a stop
// function that cancels it and waits.
func startCLIServer(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb syncBuffer
	root := NewRoot(pw, &errb)
	root.SetArgs(args)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("%s: no URL printed: %v (%v)\n%s", args[0], err, <-done, errb.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: %v", args[0], err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("%s did not stop", args[0])
			}
		})
	}
	t.Cleanup(stop)
	return strings.TrimSpace(line), stop
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestIAMPolicyServeBehaviour runs serve (SQS backend on moto_server, poll
// queries, quota sync) against the simulator, submits jobs of several
// operations, and checks every SDK call it made against
// `iam-policy --for serve` built from the same configuration.
func TestIAMPolicyServeBehaviour(t *testing.T) {
	m := moto.Start(t)
	s, err := sim.New(sim.Options{RateScale: 50, Seed: 1, CallDuration: sim.Distribution{Kind: sim.DistFixed, Min: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetResourceQuota(quotas.ConcurrentActiveCalls, 1_000_000); err != nil {
		t.Fatal(err)
	}
	var rec opSet
	simHTTP := httptest.NewServer(recordWire(&rec, s))
	defer simHTTP.Close()
	motoURL, _ := url.Parse(m.URL)
	motoProxy := httptest.NewServer(recordWire(&rec, httputil.NewSingleHostReverseProxy(motoURL)))
	defer motoProxy.Close()

	const token = "iam-policy-test-token-0123"
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Token = token
	cfg.AWS.Endpoint = simHTTP.URL
	cfg.Limits.RateScale = 50
	cfg.Limits.QuotaSync = time.Second
	cfg.Dispatch.CallTimeout = 2 * time.Second
	cfg.Queue.Backend = "sqs"
	cfg.Queue.SQS.QueueURL = fmt.Sprintf("iam-serve-%d", time.Now().UnixNano())
	cfg.Queue.SQS.Endpoint = motoProxy.URL
	cfg.Queue.SQS.WaitTime = time.Second
	cfg.Poll.Instance = sim.DefaultInstanceID
	cfg.Poll.Queues = sim.DefaultQueueID
	cfg.Poll.Interval = 200 * time.Millisecond
	awsCfg := aws.Config{Region: moto.Region, Credentials: credentials.NewStaticCredentialsProvider(moto.AccessKey, moto.SecretKey, "")}
	awsCfg.APIOptions = append(awsCfg.APIOptions, recordSDK(&rec))
	srv, err := server.New(context.Background(), cfg, app.Options{AWS: &awsCfg})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }()
	c := &client.Client{BaseURL: "http://" + ln.Addr().String(), Token: token}
	lines := []string{
		fmt.Sprintf(`{"op":"StartOutboundVoiceContact","input":{"InstanceId":%q,"ContactFlowId":%q,"DestinationPhoneNumber":"+12065550101"}}`, sim.DefaultInstanceID, sim.DefaultContactFlowID),
		fmt.Sprintf(`{"op":"ListQueues","input":{"InstanceId":%q}}`, sim.DefaultInstanceID),
		fmt.Sprintf(`{"op":"DescribeInstance","input":{"InstanceId":%q}}`, sim.DefaultInstanceID),
		`{"op":"StartOutboundVoiceContact","input":{"InstanceId":"00000000-0000-4000-8000-000000000000","ContactFlowId":"x","DestinationPhoneNumber":"+12065550102"}}`,
	}
	if res, err := c.SubmitRaw(ctx, []byte(strings.Join(lines, "\n")+"\n")); err != nil || res.Accepted != len(lines) {
		t.Fatalf("submit: %+v %v", res, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := c.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Dispatch.Succeeded+st.Dispatch.Dead == int64(len(lines)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs not done: %+v", st.Dispatch)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // a poll round and a quota sync
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec.addSim(s.Stats())
	p := policyFor(t, iampolicy.Serve, iampolicy.Options{Serve: &cfg})
	checkPolicy(t, p, rec.list())
	for _, want := range []string{"sqs:SendMessageBatch", "sqs:ReceiveMessage", "connect:GetCurrentMetricData", "servicequotas:ListServiceQuotas", "connect:StartOutboundVoiceContact"} {
		if !slices.Contains(rec.list(), want) {
			t.Errorf("the run never called %s; the test does not exercise what it claims", want)
		}
	}
}

// TestIAMPolicyAuditBehaviour runs the audit's collector against
// moto_server (Lambda, SQS, EventBridge, Scheduler, CloudTrail, IAM, STS,
// Connect) with a recording middleware, and checks its calls against
// `iam-policy --for audit`.
func TestIAMPolicyAuditBehaviour(t *testing.T) {
	a := audittest.Start(t)
	audittest.BadAccount(t, a)
	a.Env(t)
	cfg, err := collect.LoadConfig(context.Background(), a.Region, "")
	if err != nil {
		t.Fatal(err)
	}
	var rec opSet
	cfg.APIOptions = append(cfg.APIOptions, recordSDK(&rec))
	if _, _, err := collect.Collect(context.Background(), collect.Options{Config: cfg}); err != nil {
		t.Fatal(err)
	}
	checkPolicy(t, policyFor(t, iampolicy.Audit, iampolicy.Options{}), rec.list())
}

// TestIAMPolicyTriageBehaviour: triage reads files and calls no AWS API; its
// policy grants only the input-fetching actions, each with its reason.
func TestIAMPolicyTriageBehaviour(t *testing.T) {
	s, err := sim.New(sim.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var rec opSet
	ts := httptest.NewServer(recordWire(&rec, s))
	defer ts.Close()
	isolatedAWSEnv(t, "AKIDTEST", "secret")
	t.Setenv("AWS_ENDPOINT_URL", ts.URL)
	dir := t.TempDir()
	if code, out, errs := runQuotaCLI("triage", "generate", "--cause", "mixed", "--seed", "7", "--out", dir); code != ExitOK {
		t.Fatalf("generate: %d %s%s", code, out, errs)
	}
	if code, out, errs := runQuotaCLI("triage", dir); code != ExitOK && code != ExitPartial {
		t.Fatalf("triage: %d %s%s", code, out, errs)
	}
	rec.addSim(s.Stats())
	if got := rec.list(); len(got) != 0 {
		t.Fatalf("triage called %v", got)
	}
	p := policyFor(t, iampolicy.Triage, iampolicy.Options{})
	checkPolicy(t, p, nil)
	for _, g := range p.Grants {
		if g.Scope == "" {
			t.Errorf("triage grant %s has no reason for being beyond the run", g.Action)
		}
	}
}
