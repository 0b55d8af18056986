package gateway_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

// TestSlowBodyTimesOut: a caller that announces a body and stops sending it
// gets 408 RequestTimeoutException once BodyTimeout passes, and nothing
// reaches the simulator.
func TestSlowBodyTimesOut(t *testing.T) {
	e := newEnv(t, envOptions{bodyWait: 200 * time.Millisecond})
	c, err := net.Dial("tcp", strings.TrimPrefix(e.gwURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The test's own bound: far above BodyTimeout; reaching it is the failure.
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write([]byte("POST /contact/outbound-voice HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"Ins")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("X-Amzn-ErrorType") != "RequestTimeoutException" {
		t.Fatalf("stalled body: %d %q", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	if total, _ := e.simCounts(t); total.Requests != 0 {
		t.Fatalf("%d requests reached the simulator", total.Requests)
	}
}

// TestWaitOutlastsBodyTimeout: the body deadline is lifted once the body is
// read, so a request that waits for admission longer than BodyTimeout is
// still answered (a deadline left set would cancel it).
func TestWaitOutlastsBodyTimeout(t *testing.T) {
	e := newEnv(t, envOptions{bodyWait: 100 * time.Millisecond, deadline: 10 * time.Second,
		limits: map[string]ratelimit.Limit{"ListQueues": {Rate: 2, Burst: 1}}})
	c := e.client(dialerKey, dialerSec)
	in := &connect.ListQueuesInput{InstanceId: aws.String(sim.DefaultInstanceID)}
	for i := range 3 { // the 2nd and 3rd wait about 0.5 s each for a token
		if _, err := c.ListQueues(context.Background(), in); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if _, gw := e.simCounts(t); gw.Accepted != 3 {
		t.Fatalf("the simulator accepted %d of 3 calls (%+v)", gw.Accepted, gw)
	}
}
