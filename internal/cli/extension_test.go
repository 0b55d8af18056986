package cli

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	goredis "github.com/redis/go-redis/v9"

	"github.com/tollgatehq/tollgate/extension/extensiontest"
	"github.com/tollgatehq/tollgate/internal/iampolicy"
	redistest "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/sim"
)

// TestExtensionCommand runs `tollgate extension` as Lambda would (settings
// from the environment only) against the documented Extensions API contract
// (extensiontest) and the simulator: the function's SDK client is served
// through it, an operation outside TOLLGATE_OPERATIONS is refused, and
// SHUTDOWN ends the command cleanly. The operations it sent upstream are
// checked against `iam-policy --for extension`.
func TestExtensionCommand(t *testing.T) {
	const key, secret, token = "ASIACLIFUNCTION00001", "cli-function-secret", "cli-session-token"
	s, err := sim.New(sim.Options{Seed: 1, Credentials: map[string]string{key: secret}})
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(s)
	defer up.Close()
	api := extensiontest.New()
	apiSrv := httptest.NewServer(api)
	defer apiSrv.Close()
	port := freeLoopbackPort(t)
	isolatedAWSEnv(t, key, secret)
	for k, v := range map[string]string{
		"AWS_SESSION_TOKEN": token, "AWS_LAMBDA_RUNTIME_API": strings.TrimPrefix(apiSrv.URL, "http://"),
		"TOLLGATE_UPSTREAM": up.URL, "TOLLGATE_EXTENSION_LISTEN": fmt.Sprintf("127.0.0.1:%d", port),
		"TOLLGATE_OPERATIONS": "ListQueues,DescribeInstance", "TOLLGATE_QUOTA_SHARE": "0.5", "TOLLGATE_REDIS_URL": "",
	} {
		t.Setenv(k, v)
	}
	done := make(chan int, 1)
	var errb syncBuffer
	go func() { done <- Main([]string{"extension"}, &errb, &errb) }()
	select {
	case <-api.Waiting():
	case code := <-done:
		t.Fatalf("extension exited %d before its first event:\n%s", code, errb.String())
	case <-time.After(30 * time.Second):
		t.Fatal("the extension never asked for its first event")
	}
	if api.Name() != "tollgate" || strings.Join(api.Events(), ",") != "INVOKE,SHUTDOWN" {
		t.Errorf("registered %q for %v", api.Name(), api.Events())
	}
	api.Invoke("req-1", time.Now().Add(10*time.Second))
	<-api.Waiting()
	c := connect.New(connect.Options{Region: "us-east-1", BaseEndpoint: aws.String(fmt.Sprintf("http://127.0.0.1:%d", port)),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, token)})
	ctx := context.Background()
	if _, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)}); err != nil {
		t.Fatalf("ListQueues through the extension: %v", err)
	}
	if _, err := c.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: aws.String(sim.DefaultInstanceID)}); err != nil {
		t.Fatalf("DescribeInstance through the extension: %v", err)
	}
	if _, err := c.ListUsers(ctx, &connect.ListUsersInput{InstanceId: aws.String(sim.DefaultInstanceID)}); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("ListUsers (not in TOLLGATE_OPERATIONS): %v, want AccessDenied", err)
	}
	api.Shutdown("spindown", time.Now().Add(2*time.Second))
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("exit %d:\n%s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the extension did not stop on SHUTDOWN")
	}
	logs := errb.String()
	if lines := strings.Count(logs, "tollgate: invocation"); lines != 1 || !strings.Contains(logs, "shutdown (spindown)") {
		t.Errorf("want one invocation line (the refused call) and the shutdown line:\n%s", logs)
	}
	var rec opSet
	rec.addSim(s.Stats())
	p := policyFor(t, iampolicy.Extension, iampolicy.Options{Operations: []string{"ListQueues", "DescribeInstance"}})
	checkPolicy(t, p, rec.list())
	if got := rec.list(); len(got) != 2 {
		t.Errorf("upstream saw %v, want ListQueues and DescribeInstance only", got)
	}
}

// TestExtensionCommandRedis: with TOLLGATE_REDIS_URL the extension keeps
// its buckets in Redis, keyed by the account the Extensions API reported at
// registration (no TOLLGATE_ACCOUNT set) and the function's Region.
func TestExtensionCommandRedis(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	const key, secret = "ASIACLIFUNCTION00002", "cli-function-secret-2"
	s, err := sim.New(sim.Options{Seed: 1, Credentials: map[string]string{key: secret}})
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(s)
	defer up.Close()
	api := extensiontest.New()
	apiSrv := httptest.NewServer(api)
	defer apiSrv.Close()
	port := freeLoopbackPort(t)
	isolatedAWSEnv(t, key, secret)
	for k, v := range map[string]string{
		"AWS_LAMBDA_RUNTIME_API": strings.TrimPrefix(apiSrv.URL, "http://"), "TOLLGATE_UPSTREAM": up.URL,
		"TOLLGATE_EXTENSION_LISTEN": fmt.Sprintf("127.0.0.1:%d", port), "TOLLGATE_REDIS_URL": rs.URL(),
		"TOLLGATE_OPERATIONS": "", "TOLLGATE_ACCOUNT": "",
	} {
		t.Setenv(k, v)
	}
	done := make(chan int, 1)
	var errb syncBuffer
	go func() { done <- Main([]string{"extension"}, &errb, &errb) }()
	select {
	case <-api.Waiting():
	case code := <-done:
		t.Fatalf("extension exited %d:\n%s", code, errb.String())
	case <-time.After(30 * time.Second):
		t.Fatal("the extension never asked for its first event")
	}
	c := connect.New(connect.Options{Region: "us-east-1", BaseEndpoint: aws.String(fmt.Sprintf("http://127.0.0.1:%d", port)),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
	for range 3 {
		if _, err := c.ListQueues(context.Background(), &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)}); err != nil {
			t.Fatalf("ListQueues: %v\n%s", err, errb.String())
		}
	}
	rc := goredis.NewClient(&goredis.Options{Addr: rs.Addr})
	defer rc.Close()
	// The limiter writes its state as it admits (and may serve the first
	// calls locally while it connects): wait a little for the keys.
	var keys []string
	for deadline := time.Now().Add(5 * time.Second); len(keys) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		keys, err = rc.Keys(context.Background(), "*{"+api.AccountID+":us-east-1}*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 0 {
			_, _ = c.ListQueues(context.Background(), &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)})
		}
	}
	if len(keys) == 0 {
		t.Errorf("no Redis keys for account %s in us-east-1", api.AccountID)
	}
	api.Shutdown("spindown", time.Now().Add(2*time.Second))
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("exit %d:\n%s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the extension did not stop on SHUTDOWN")
	}
}
