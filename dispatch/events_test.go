package dispatch_test

import (
	"context"
	"testing"
	"time"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/contactevents"
	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/internal/testenv/moto"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// TestCallPacingByContactEvents: the simulator publishes its contact
// events to an SQS queue on moto_server; the dispatcher learns each call's
// end from them (no DescribeContact polling for answered calls), keeps
// within a budget of 2 calls in progress and records the outcomes.
func TestCallPacingByContactEvents(t *testing.T) {
	srv := moto.Start(t)
	sq := awssqs.NewFromConfig(srv.AWSConfig())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	url, err := contactevents.ResolveQueue(ctx, sq, "dispatch-contact-events", true)
	if err != nil {
		t.Fatal(err)
	}
	const callDur = 500 * time.Millisecond
	s := newSim(t, 10, func(o *sim.Options) {
		o.CallDuration = sim.Distribution{Kind: sim.DistFixed, Min: callDur, Max: callDur}
		o.ContactEvents = contactevents.NewPublisher(sq, url)
	})
	defer s.Close()
	if err := s.SetResourceQuota(quotas.ConcurrentActiveCalls, 2); err != nil {
		t.Fatal(err)
	}
	q := queue.NewMemory(queue.MemoryOptions{})
	jobs := make([]queue.Job, 8)
	for i, n := range numbers(len(jobs)) {
		jobs[i] = sovc(n)
	}
	jobs, err = q.Enqueue(ctx, jobs...)
	if err != nil {
		t.Fatal(err)
	}
	b := callbudget.New(callbudget.Options{Limit: 2})
	d, err := dispatch.New(dispatch.Options{
		Queue: q, Governor: newGovernor(10, 5*time.Second), AWS: awsConfig(s),
		Endpoint: "http://connect.sim.local", CallTimeout: 5 * time.Second,
		CallBudget: b, ContactEvents: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := contactevents.NewConsumer(sq, contactevents.ConsumerOptions{QueueURL: url, WaitTime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	consCtx, stopCons := context.WithCancel(ctx)
	consDone := make(chan error, 1)
	go func() {
		consDone <- cons.Run(consCtx, func(ev contactevents.Event) {
			if ev.Ended() {
				d.ContactEnded(dispatch.ContactEnd{ContactID: ev.ContactID, Answered: ev.Answered(),
					Reason: ev.DisconnectReason, Initiation: ev.Initiation, Disconnect: ev.Disconnect})
			}
		})
	}()
	start := time.Now()
	stop := runDispatcher(d)
	waitDone(t, q, time.Minute)
	for deadline := time.Now().Add(time.Minute); d.Stats().Connected < int64(len(jobs)); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("ends not learned: %+v", d.Stats())
		}
	}
	elapsed := time.Since(start)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	stopCons()
	if err := <-consDone; err != nil {
		t.Fatal(err)
	}
	ss := s.Stats()
	st := d.Stats()
	t.Logf("8 calls of %v, 2 at a time: %v (4 waves: ≥ %v); events received %d, polls %d", callDur, elapsed, 4*callDur, st.ContactEvents, st.ContactPolls)
	if ss.RejectedReorder != 0 || ss.ContactsStarted != 8 {
		t.Fatalf("simulator: rejected_reorder %d contacts_started %d", ss.RejectedReorder, ss.ContactsStarted)
	}
	if st.ContactPolls != 0 || st.ContactEvents < 8 {
		t.Errorf("ends came from polls %d, events %d; want events only", st.ContactPolls, st.ContactEvents)
	}
	if elapsed < 4*callDur {
		t.Errorf("elapsed %v: faster than 4 waves of %v allow", elapsed, callDur)
	}
	for _, j := range jobs {
		g, _ := q.Get(ctx, j.ID)
		if g.Outcome != queue.OutcomeConnected || len(g.ContactIDs) != 1 {
			t.Errorf("job %s: outcome %q contacts %v", j.ID, g.Outcome, g.ContactIDs)
		}
	}
}
