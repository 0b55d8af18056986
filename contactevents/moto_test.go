package contactevents_test

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tollgatehq/tollgate/contactevents"
	"github.com/tollgatehq/tollgate/internal/testenv/moto"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// TestSimThroughMoto: the simulator publishes its calls' contact events to
// an SQS queue on moto_server and the Consumer reads them back, with the
// real SDK clients at both ends.
func TestSimThroughMoto(t *testing.T) {
	srv := moto.Start(t)
	sq := awssqs.NewFromConfig(srv.AWSConfig())
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	url, err := contactevents.ResolveQueue(ctx, sq, "contact-events", true)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := contactevents.ResolveQueue(ctx, sq, "contact-events", false); err != nil || again != url {
		t.Fatalf("resolving an existing queue: %q, %v", again, err)
	}
	s, err := sim.New(sim.Options{
		CallDuration:  sim.Distribution{Kind: sim.DistFixed, Min: 500 * time.Millisecond, Max: 500 * time.Millisecond},
		ContactEvents: contactevents.NewPublisher(sq, url),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SetResourceQuota(quotas.ConcurrentActiveCalls, 1); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	cc := connect.New(connect.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + ln.Addr().String()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	var ids []string
	for _, num := range []string{"+12065550100", "+12065550101"} { // the second is past the quota of 1
		out, err := cc.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{
			InstanceId: aws.String(sim.DefaultInstanceID), ContactFlowId: aws.String(sim.DefaultContactFlowID),
			QueueId: aws.String(sim.DefaultQueueID), DestinationPhoneNumber: aws.String(num)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.ContactId))
	}

	cons, err := contactevents.NewConsumer(sq, contactevents.ConsumerOptions{QueueURL: url, WaitTime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	ends := map[string]contactevents.Event{}
	seen := 0
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- cons.Run(runCtx, func(ev contactevents.Event) {
			mu.Lock()
			defer mu.Unlock()
			seen++
			if ev.Ended() {
				ends[ev.ContactID] = ev
			}
		})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(ends)
		mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ends received: %d of 2 (events %d)", n, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ev := ends[ids[0]]; !ev.Answered() || ev.InstanceID() != sim.DefaultInstanceID {
		t.Errorf("answered call's end: %+v", ev)
	}
	if ev := ends[ids[1]]; ev.Answered() || !ev.Disconnect.Equal(ev.Initiation) {
		t.Errorf("reorder call's end: %+v", ev)
	}
	if seen != 5 {
		t.Errorf("events received %d, want 5 (INITIATED, CONNECTED_TO_SYSTEM, DISCONNECTED; INITIATED, DISCONNECTED)", seen)
	}
	if st := s.Stats(); st.ContactEvents != 5 || st.ContactEventErrors != 0 {
		t.Errorf("sim stats: events %d errors %d", st.ContactEvents, st.ContactEventErrors)
	}
}
