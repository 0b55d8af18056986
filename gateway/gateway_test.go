package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/smithy-go"

	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/sim"
)

var ctx = context.Background()

func TestForwardThroughGateway(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client(dialerKey, dialerSec)
	inst := aws.String(sim.DefaultInstanceID)
	if _, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst, QueueTypes: []types.QueueType{"STANDARD", "AGENT"}}); err != nil {
		t.Fatalf("ListQueues through the gateway: %v", err)
	}
	out, err := c.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{InstanceId: inst,
		ContactFlowId: aws.String(sim.DefaultContactFlowID), DestinationPhoneNumber: aws.String("+14155550100")})
	if err != nil || out.ContactId == nil {
		t.Fatalf("StartOutboundVoiceContact through the gateway: %v", err)
	}
	total, gw := e.simCounts(t)
	if gw.Accepted != 2 || total.Requests != 2 {
		t.Fatalf("simulator saw %+v (gateway key %+v), want 2 accepted from the gateway's key", total, gw)
	}
	// The admin may call anything, including operations the gateway does
	// not list (here DescribeUser is listed; ListTagsForResource's ARN path).
	a := e.client(adminKey, adminSec)
	_, err = a.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String("no such/user:x")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("DescribeUser of a missing user: %v, want the simulator's ResourceNotFoundException unchanged", err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response.Header.Get("X-Tollgate-Class") != "client-fault" {
		t.Fatalf("class header on a client fault: %v", err)
	}
	// What reached the simulator carries the gateway's signature only.
	last := e.cap.lastRequest()
	if !strings.Contains(last.Header.Get("Authorization"), "Credential="+gwKey+"/") {
		t.Fatalf("forwarded Authorization %q is not the gateway's", last.Header.Get("Authorization"))
	}
}

func TestMetricsPerCallerAndOperation(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client(dialerKey, dialerSec)
	if _, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)}); err != nil {
		t.Fatal(err)
	}
	_, _ = c.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: aws.String(sim.DefaultInstanceID)}) // denied
	code, b := e.getAdmin(t, "/metrics", apiToken)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics with the token: %d %s", code, b)
	}
	for _, want := range []string{
		`tollgate_gateway_admitted_total{operation="ListQueues",principal="dialer"} 1`,
		`tollgate_gateway_responses_total{class="ok",operation="ListQueues",principal="dialer"} 1`,
		`tollgate_gateway_rejected_total{code="AccessDeniedException",operation="DescribeInstance",principal="dialer"} 1`,
		`tollgate_gateway_admission_wait_seconds_count{operation="ListQueues",principal="dialer"} 1`,
		`tollgate_gateway_request_duration_seconds_count{operation="ListQueues",principal="dialer"} 1`,
	} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("metrics lack %s:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), dialerSec) {
		t.Fatal("metrics leak a secret")
	}
}

// TestAdminEndpointsNeedToken: /metrics and the state answer 401 without
// the bearer token or with a wrong one (as serve's /metrics does), and the
// state holds each caller × operation: admitted, throttled upstream,
// answers, refusals, wait and latency.
func TestAdminEndpointsNeedToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client(dialerKey, dialerSec)
	for range 3 {
		if _, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)}); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = c.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: aws.String(sim.DefaultInstanceID)}) // denied
	for _, path := range []string{"/metrics", gateway.StatePath} {
		for _, tok := range []string{"", "wrong-token-0123456789", apiToken + "x"} {
			code, b := e.getAdmin(t, path, tok)
			if code != http.StatusUnauthorized || strings.Contains(string(b), "tollgate_gateway") || strings.Contains(string(b), "dialer") {
				t.Errorf("GET %s with token %q: %d %s, want 401 and no data", path, tok, code, b)
			}
		}
	}
	code, b := e.getAdmin(t, gateway.StatePath, apiToken)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", gateway.StatePath, code, b)
	}
	var st gateway.State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	var lq, di *gateway.CallerState
	for i := range st.Callers {
		switch r := &st.Callers[i]; {
		case r.Principal == "dialer" && r.Operation == "ListQueues":
			lq = r
		case r.Principal == "dialer" && r.Operation == "DescribeInstance":
			di = r
		}
	}
	if lq == nil || lq.Admitted != 3 || lq.Answers["ok"] != 3 || lq.Requests != 3 || lq.ThrottledUpstream != 0 || lq.LatencyMean <= 0 || lq.LatencyP95 <= 0 {
		t.Fatalf("dialer × ListQueues: %+v (state %s)", lq, b)
	}
	if di == nil || di.Refused != 1 || di.Admitted != 0 {
		t.Fatalf("dialer × DescribeInstance: %+v (state %s)", di, b)
	}
	if st.Refused < 1+6 { // the denied call and the six refused reads above
		t.Fatalf("refused_total %d", st.Refused)
	}
	if strings.Contains(string(b), dialerSec) || strings.Contains(string(b), dialerKey) {
		t.Fatal("the state leaks a key or secret")
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
