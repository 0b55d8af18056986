package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"

	"github.com/tollgatehq/tollgate/internal/client"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/usage"
)

// TestQuotaSyncRaisesRunningServe: a running serve with --quota-sync 1s
// picks up an increase the simulator approves, without a restart; its
// gauges show the new applied quota. The 20 s wait is a timeout, not a
// speed target.
func TestQuotaSyncRaisesRunningServe(t *testing.T) {
	simSrv := newSim(t) // rate scale 50
	simSrv.ServiceQuotas().SetSchedule(100*time.Millisecond, 300*time.Millisecond)
	s, _ := newServer(t, simSrv, func(c *config.Config) {
		c.Limits.QuotaSync = time.Second
		c.Dispatch.Concurrency = 16
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	defer func() { cancel(); <-done }()
	c := &client.Client{BaseURL: "http://" + ln.Addr().String(), Token: testToken}

	metric := func(name string) string {
		req, _ := http.NewRequest("GET", c.BaseURL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, name) {
				return l
			}
		}
		return ""
	}
	const applied = `tollgate_quota_applied_rps{code="L-4E9BCC96",op="StartOutboundVoiceContact"}`
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("the first sync", func() bool { return metric(applied) == applied+" 2" })

	// Keep the queue full and measure what the simulator accepts.
	submit := func(n, base int) {
		var body strings.Builder
		for i := range n {
			body.WriteString(sovcLine(fmt.Sprintf("+1206%07d", base+i)) + "\n")
		}
		if _, err := c.SubmitRaw(ctx, []byte(body.String())); err != nil {
			t.Fatal(err)
		}
	}
	accepted := func() int64 { return simSrv.Stats().Operations["StartOutboundVoiceContact"].Accepted }
	measure := func(base int) float64 {
		submit(600, base)
		time.Sleep(500 * time.Millisecond) // past the burst
		a0, t0 := accepted(), time.Now()
		time.Sleep(time.Second)
		return float64(accepted()-a0) / time.Since(t0).Seconds()
	}
	before := measure(0)

	cfg := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, HTTPClient: &http.Client{Transport: memTransport{simSrv}}}
	sq := servicequotas.NewFromConfig(cfg, func(o *servicequotas.Options) { o.BaseEndpoint = aws.String("http://sim.local") })
	res, err := usage.Submit(ctx, sq, "StartOutboundVoiceContact", "L-4E9BCC96", 4, true)
	if err != nil || res.Status != "PENDING" {
		t.Fatalf("submit: %v %+v", err, res)
	}
	approvedBy := time.Now().Add(time.Second) // the schedule decides within 0.45 s
	waitFor("the approval to reach serve", func() bool { return metric(applied) == applied+" 4" })
	lag := time.Since(approvedBy)
	after := measure(10000)
	t.Logf("StartOutboundVoiceContact accepted by the simulator (rate scale 50): before %.0f/s, after the approval %.0f/s; serve applied it %v after the decision at the latest",
		before, after, lag+time.Second)
	// How fast the sync follows is asserted in virtual time
	// (usage.TestWholeLoop); here only that a running serve follows at all.
	if metric(`tollgate_quota_usage_rps{op="StartOutboundVoiceContact"}`) == "" {
		t.Errorf("usage gauge missing")
	}
}
