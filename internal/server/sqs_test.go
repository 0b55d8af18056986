package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/client"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/internal/testenv/moto"
	"github.com/tollgatehq/tollgate/queue"
)

// TestServeSQS runs serve with the SQS backend (moto_server on loopback)
// against the simulator (on loopback): jobs submitted through the API are
// delivered, the refused call is dead-lettered and listed by the API from
// the SQS dead-letter queue.
func TestServeSQS(t *testing.T) {
	m := moto.Start(t)
	simHTTP := httptest.NewServer(newSim(t))
	defer simHTTP.Close()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Token = testToken
	cfg.AWS.Endpoint = simHTTP.URL
	cfg.Limits.RateScale = 50
	cfg.Dispatch.CallTimeout = 2 * time.Second
	cfg.Queue.Backend = "sqs"
	cfg.Queue.SQS.QueueURL = m.URL + "/" + moto.AccountID + fmt.Sprintf("/serve-%d", time.Now().UnixNano())
	cfg.Queue.SQS.Endpoint = m.URL
	cfg.Queue.SQS.WaitTime = time.Second
	awsCfg := aws.Config{Region: moto.Region, Credentials: credentials.NewStaticCredentialsProvider(moto.AccessKey, moto.SecretKey, "")}
	s, err := server.New(context.Background(), cfg, app.Options{AWS: &awsCfg})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	c := &client.Client{BaseURL: "http://" + ln.Addr().String(), Token: testToken}
	var body bytes.Buffer
	for i := range 10 {
		body.WriteString(sovcLine(fmt.Sprintf("+1206555%04d", i)) + "\n")
	}
	body.WriteString(sovcLine("+15550002222") + "\n")
	if res, err := c.SubmitRaw(ctx, body.Bytes()); err != nil || res.Accepted != 11 {
		t.Fatalf("submit: %+v %v", res, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := c.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Dispatch.Succeeded+st.Dispatch.Dead == 11 {
			if st.Dispatch.Dead != 1 {
				t.Errorf("dispatcher %+v, want one dead letter", st.Dispatch)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	dl, err := c.DeadLetters(ctx, queue.ListOptions{})
	if err != nil || len(dl.Jobs) != 1 || !strings.Contains(dl.Jobs[0].DeadDetail, "DestinationNotAllowedException") {
		t.Errorf("dead letters: %d %v", len(dl.Jobs), err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
