package gateway_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

// lqWithDeadline sends a signed ListQueues with an X-Tollgate-Deadline.
func lqWithDeadline(t *testing.T, e *env, deadline string) (answer, http.Header) {
	t.Helper()
	r := signedReq(t, e, "GET", "/queues-summary/"+sim.DefaultInstanceID, "", dialerKey, dialerSec, "connect", "us-east-1", time.Now())
	if deadline != "" {
		r.Header.Set("X-Tollgate-Deadline", deadline)
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return answer{status: resp.StatusCode, code: resp.Header.Get("X-Amzn-ErrorType"), class: resp.Header.Get("X-Tollgate-Class")}, resp.Header
}

// TestUpstreamThrottleRetriedInsideDeadline: the gateway's budget is wider
// than the simulator's bucket, so the simulator throttles; the gateway
// retries inside the caller's deadline and the caller sees a success.
func TestUpstreamThrottleRetriedInsideDeadline(t *testing.T) {
	e := newEnv(t, envOptions{limits: map[string]ratelimit.Limit{"ListQueues": {Rate: 1000, Burst: 1000}}})
	if err := e.sim.SetQuota("ListQueues", 4, 1); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if a, _ := lqWithDeadline(t, e, "5s"); a.status != 200 || a.class != "ok" {
			t.Fatalf("call %d: %+v", i, a)
		}
	}
	_, gw := e.simCounts(t)
	if gw.Accepted != 2 || gw.Throttled < 1 {
		t.Fatalf("simulator saw %+v, want 2 accepted after at least one throttle", gw)
	}
}

// TestThrottlePastDeadline: when the retry would end after the caller's
// deadline, the caller gets the simulator's own 429 with x-amz-retry-after.
func TestThrottlePastDeadline(t *testing.T) {
	e := newEnv(t, envOptions{limits: map[string]ratelimit.Limit{"ListQueues": {Rate: 1000, Burst: 1000}}})
	if err := e.sim.SetQuota("ListQueues", 0.5, 1); err != nil {
		t.Fatal(err)
	}
	if a, _ := lqWithDeadline(t, e, ""); a.status != 200 {
		t.Fatalf("first: %+v", a)
	}
	a, h := lqWithDeadline(t, e, "100")
	if a.status != 429 || a.code != "ThrottlingException" || a.class != "rate-throttle" {
		t.Fatalf("past the deadline: %+v", a)
	}
	ms, err := strconv.Atoi(h.Get("X-Amz-Retry-After"))
	if err != nil || ms <= 0 {
		t.Fatalf("x-amz-retry-after %q", h.Get("X-Amz-Retry-After"))
	}
	if h.Get("X-Amzn-Requestid") == "" {
		t.Fatal("the simulator's response headers were not passed through")
	}
	if _, gw := e.simCounts(t); gw.Throttled != 1 || gw.Accepted != 1 {
		t.Fatalf("simulator saw %+v, want 1 accepted and 1 throttled", gw)
	}
}

// TestAdmissionPastDeadline: the gateway's own bucket cannot admit inside
// the deadline, so nothing is sent and the caller gets a 429 at once.
func TestAdmissionPastDeadline(t *testing.T) {
	e := newEnv(t, envOptions{limits: map[string]ratelimit.Limit{"ListQueues": {Rate: 0.1, Burst: 1}}})
	if a, _ := lqWithDeadline(t, e, ""); a.status != 200 {
		t.Fatalf("first: %+v", a)
	}
	a, h := lqWithDeadline(t, e, "200ms")
	if a.status != 429 || a.code != "ThrottlingException" || a.class != "rate-throttle" || h.Get("X-Amz-Retry-After") == "" {
		t.Fatalf("admission past the deadline: %+v %v", a, h)
	}
	if total, _ := e.simCounts(t); total.Requests != 1 {
		t.Fatalf("simulator saw %d requests, want only the first", total.Requests)
	}
	for _, bad := range []string{"soon", "-1s", "10m"} {
		if a, _ := lqWithDeadline(t, e, bad); a.status != 400 {
			t.Fatalf("deadline %q: %+v", bad, a)
		}
	}
}

// TestConcurrencyQuotaAnsweredAtOnce: a concurrency quota is never retried.
func TestConcurrencyQuotaAnsweredAtOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	if err := e.sim.SetResourceQuota(quotas.ConcurrentActiveChats, 1); err != nil {
		t.Fatal(err)
	}
	c := e.client(adminKey, adminSec)
	in := func(token string) *connect.StartChatContactInput {
		return &connect.StartChatContactInput{InstanceId: aws.String(sim.DefaultInstanceID), ContactFlowId: aws.String(sim.DefaultContactFlowID),
			ParticipantDetails: &types.ParticipantDetails{DisplayName: aws.String("c")}, ClientToken: aws.String(token)}
	}
	if _, err := c.StartChatContact(ctx, in("chat-1")); err != nil {
		t.Fatal(err)
	}
	_, err := c.StartChatContact(ctx, in("chat-2"))
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 429 || apiCode(err) != "LimitExceededException" ||
		re.Response.Header.Get("X-Tollgate-Class") != "concurrency-quota" {
		t.Fatalf("second chat: %v", err)
	}
	if _, gw := e.simCounts(t); gw.Requests != 2 {
		t.Fatalf("simulator saw %d requests, want 2 (no retry)", gw.Requests)
	}
}
