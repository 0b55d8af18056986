package sim

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/tollgatehq/tollgate/contactevents"
	"github.com/tollgatehq/tollgate/quotas"
)

// sinkRecorder is a ContactEventSink that keeps what it got and when.
type sinkRecorder struct {
	mu     sync.Mutex
	events []contactevents.Event
	at     []time.Time
}

func (r *sinkRecorder) PublishContactEvents(_ context.Context, evs []json.RawMessage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range evs {
		ev, err := contactevents.Parse(b)
		if err != nil {
			return err
		}
		r.events = append(r.events, ev)
		r.at = append(r.at, time.Now())
	}
	return nil
}

func (r *sinkRecorder) of(contact string) (types []string, at []time.Time, evs []contactevents.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, e := range r.events {
		if e.ContactID == contact {
			types = append(types, e.Type)
			at = append(at, r.at[i])
			evs = append(evs, e)
		}
	}
	return types, at, evs
}

// TestContactLifecycle: a call the instance accepts is answered and ends
// after its duration; one past the concurrent-calls quota ends at once
// unanswered; DescribeContact and the contact events say so.
func TestContactLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &sinkRecorder{}
		s := newServer(t, Options{
			CallDuration:  Distribution{Kind: DistFixed, Min: 3 * time.Second, Max: 3 * time.Second},
			ContactEvents: rec,
		})
		defer s.Close()
		if err := s.SetResourceQuota(quotas.ConcurrentActiveCalls, 1); err != nil {
			t.Fatal(err)
		}
		c := newClient(t, s)
		ctx := t.Context()
		start := func(num string) string {
			out, err := c.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{
				InstanceId: aws.String(DefaultInstanceID), ContactFlowId: aws.String(DefaultContactFlowID),
				QueueId: aws.String(DefaultQueueID), DestinationPhoneNumber: aws.String(num),
			})
			if err != nil {
				t.Fatalf("StartOutboundVoiceContact: %v", err)
			}
			return aws.ToString(out.ContactId)
		}
		describe := func(id string) *types.Contact {
			out, err := c.DescribeContact(ctx, &connect.DescribeContactInput{InstanceId: aws.String(DefaultInstanceID), ContactId: aws.String(id)})
			if err != nil {
				t.Fatalf("DescribeContact %s: %v", id, err)
			}
			return out.Contact
		}
		t0 := time.Now()
		ok := start("+12065550100")
		reorder := start("+12065550101")

		d := describe(ok)
		if d.DisconnectTimestamp != nil || d.ConnectedToSystemTimestamp != nil || d.InitiationMethod != types.ContactInitiationMethodApi {
			t.Fatalf("at once: %+v", d)
		}
		r := describe(reorder)
		if r.DisconnectTimestamp == nil || r.ConnectedToSystemTimestamp != nil || aws.ToString(r.DisconnectReason) != ReasonOther {
			t.Fatalf("reorder: disconnect %v connected %v reason %q", r.DisconnectTimestamp, r.ConnectedToSystemTimestamp, aws.ToString(r.DisconnectReason))
		}
		time.Sleep(3 * time.Second)
		d = describe(ok)
		if d.DisconnectTimestamp == nil || d.ConnectedToSystemTimestamp == nil || aws.ToString(d.DisconnectReason) != ReasonCustomerDisconnect {
			t.Fatalf("after 3s: disconnect %v connected %v reason %q", d.DisconnectTimestamp, d.ConnectedToSystemTimestamp, aws.ToString(d.DisconnectReason))
		}
		if got := d.DisconnectTimestamp.Sub(*d.InitiationTimestamp); got != 3*time.Second {
			t.Fatalf("call lasted %v, want 3s", got)
		}
		if got := d.ConnectedToSystemTimestamp.Sub(t0); got != 300*time.Millisecond {
			t.Fatalf("answered after %v, want the 300ms ring", got)
		}
		_, err := c.DescribeContact(ctx, &connect.DescribeContactInput{InstanceId: aws.String(DefaultInstanceID), ContactId: aws.String("no-such-contact")})
		var rnf *types.ResourceNotFoundException
		if !errors.As(err, &rnf) {
			t.Fatalf("unknown contact: got %v want ResourceNotFoundException", err)
		}

		synctest.Wait()
		typs, at, evs := rec.of(ok)
		want := []string{EventInitiated, EventConnectedToSystem, EventDisconnected}
		wantAt := []time.Duration{0, 300 * time.Millisecond, 3 * time.Second}
		if len(typs) != 3 {
			t.Fatalf("events of the answered call: %v, want %v", typs, want)
		}
		for i := range want {
			if typs[i] != want[i] || at[i].Sub(t0) != wantAt[i] {
				t.Errorf("step %d: got %s at %v want %s at %v", i, typs[i], at[i].Sub(t0), want[i], wantAt[i])
			}
		}
		if last := evs[2]; !last.Ended() || !last.Answered() || last.InstanceID() != DefaultInstanceID || last.InitiationMethod != "API" || last.Channel != "VOICE" {
			t.Errorf("DISCONNECTED event: %+v", last)
		}
		// Both of the reorder call's events are due at once and published
		// in the background, so they may arrive in either order (as
		// EventBridge may deliver them).
		typs, _, evs = rec.of(reorder)
		seen := map[string]bool{}
		for i, ty := range typs {
			seen[ty] = true
			if ty == EventDisconnected && evs[i].Answered() {
				t.Errorf("the reorder call's DISCONNECTED says answered")
			}
		}
		if len(typs) != 2 || !seen[EventInitiated] || !seen[EventDisconnected] {
			t.Errorf("events of the reorder call: %v, want INITIATED and DISCONNECTED", typs)
		}
		st := s.Stats()
		if st.ContactEvents != 5 || st.RejectedReorder != 1 || st.ContactsStarted != 1 || st.CallSeconds != 3 {
			t.Errorf("stats: events %d reorder %d started %d call seconds %v", st.ContactEvents, st.RejectedReorder, st.ContactsStarted, st.CallSeconds)
		}
	})
}

// TestStopContactEndsEarly: StopContact ends the call now with OTHER, and
// its DISCONNECTED event comes then, once.
func TestStopContactEndsEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &sinkRecorder{}
		s := newServer(t, Options{CallDuration: Distribution{Kind: DistFixed, Min: time.Minute, Max: time.Minute}, ContactEvents: rec})
		defer s.Close()
		c := newClient(t, s)
		ctx := t.Context()
		out, err := c.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{
			InstanceId: aws.String(DefaultInstanceID), ContactFlowId: aws.String(DefaultContactFlowID),
			QueueId: aws.String(DefaultQueueID), DestinationPhoneNumber: aws.String("+12065550100"),
		})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		if _, err := c.StopContact(ctx, &connect.StopContactInput{InstanceId: aws.String(DefaultInstanceID), ContactId: out.ContactId}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Minute)
		typs, at, _ := rec.of(aws.ToString(out.ContactId))
		if len(typs) != 3 || typs[2] != EventDisconnected || at[2].Sub(at[0]) != 10*time.Second {
			t.Fatalf("events %v at %v", typs, at)
		}
		d, err := c.DescribeContact(ctx, &connect.DescribeContactInput{InstanceId: aws.String(DefaultInstanceID), ContactId: out.ContactId})
		if err != nil || aws.ToString(d.Contact.DisconnectReason) != ReasonOther {
			t.Fatalf("DescribeContact: %v %+v", err, d)
		}
	})
}
