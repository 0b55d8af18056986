package gateway_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/smithy-go"

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
	resp, err := http.Get(e.gwURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
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

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
