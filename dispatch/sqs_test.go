package dispatch_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/internal/testenv/moto"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/sqs"
)

// TestDispatchSQS delivers calls and dial requests from Amazon SQS (a
// moto_server on loopback) to the simulator: acknowledged jobs leave the
// queue, the refused call lands in the dead-letter queue with its reason.
func TestDispatchSQS(t *testing.T) {
	srv := moto.Start(t)
	q, err := sqs.Open(context.Background(), awssqs.NewFromConfig(srv.AWSConfig()), sqs.Options{
		QueueName: fmt.Sprintf("dispatch-%d", time.Now().UnixNano()), WaitTime: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	s := newSim(t, 50, nil)
	rec := &recorder{}
	d, err := dispatch.New(dispatch.Options{
		Queue: q, Governor: newGovernor(50, 2*time.Second), AWS: awsConfig(s), Endpoint: "http://connect.sim.local",
		CallTimeout: 2 * time.Second, Observer: rec.observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	var jobs []queue.Job
	for i := range 20 {
		jobs = append(jobs, sovc(fmt.Sprintf("+1206555%04d", i)))
	}
	jobs = append(jobs, sovc("+15550009999"))
	for i := range 10 {
		jobs = append(jobs, dial(i))
	}
	if _, err := q.Enqueue(context.Background(), jobs...); err != nil {
		t.Fatal(err)
	}
	stop := runDispatcher(d)
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := d.Stats()
		if st.Succeeded+st.Dead == int64(len(jobs)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done after 60s: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := d.Stats(); st.Succeeded != 30 || st.Dead != 1 || st.Lost != 0 {
		t.Errorf("dispatcher: %+v, want 30 succeeded and 1 dead", st)
	}
	ss := s.Stats()
	if ss.ContactsStarted != 20 || ss.DialRequests["Accepted"] != 10 {
		t.Errorf("simulator: contacts %d dial accepted %d, want 20 and 10", ss.ContactsStarted, ss.DialRequests["Accepted"])
	}
	dead, err := q.ListDead(context.Background(), queue.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].DeadReason != queue.ReasonClientFault || !strings.Contains(dead[0].DeadDetail, "DestinationNotAllowedException") {
		t.Errorf("dead letters %+v, want the refused call as client-fault", dead)
	}
}
