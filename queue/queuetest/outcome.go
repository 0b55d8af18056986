package queuetest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tollgatehq/tollgate/queue"
)

// testRecordOutcome: every backend records the contacts a job started and
// how they ended, after the job succeeded or was dead-lettered, and Get
// returns them.
func testRecordOutcome(t *testing.T, h *harness) {
	rec, ok := h.q.(queue.OutcomeRecorder)
	if !ok {
		t.Fatalf("%T does not implement queue.OutcomeRecorder", h.q)
	}
	h.enqueue(t,
		queue.Job{ID: "oc-ok", Op: "StartOutboundVoiceContact"},
		queue.Job{ID: "oc-dead", Op: "StartOutboundVoiceContact"},
	)
	ls := h.leaseWait(t, 2, Long, 10*h.unit)
	for _, l := range ls {
		var err error
		if l.Job.ID == "oc-ok" {
			err = h.q.Ack(h.ctx, l.Receipt)
		} else {
			err = h.q.DeadLetter(h.ctx, l.Receipt, queue.ReasonClientFault, "DestinationNotAllowedException")
		}
		if err != nil {
			t.Fatalf("settle %s: %v", l.Job.ID, err)
		}
	}
	if g := h.get(t, "oc-ok"); g.Outcome != "" || len(g.ContactIDs) != 0 {
		t.Fatalf("before RecordOutcome: outcome %q contacts %v, want none", g.Outcome, g.ContactIDs)
	}
	type step struct {
		o                queue.ContactOutcome
		wantIDs          []string
		wantOut, wantWhy string
	}
	for i, st := range []step{
		{queue.ContactOutcome{ContactIDs: []string{"c-1"}, Outcome: queue.OutcomePlaced}, []string{"c-1"}, queue.OutcomePlaced, ""},
		// The same contact again (a redelivery answered by the token) adds nothing.
		{queue.ContactOutcome{ContactIDs: []string{"c-1", ""}}, []string{"c-1"}, queue.OutcomePlaced, ""},
		{queue.ContactOutcome{Outcome: queue.OutcomeEndedWithoutConnecting, Reason: "TELECOM_BUSY"}, []string{"c-1"}, queue.OutcomeEndedWithoutConnecting, "TELECOM_BUSY"},
		{queue.ContactOutcome{ContactIDs: []string{"c-2"}, Outcome: queue.OutcomeConnected}, []string{"c-1", "c-2"}, queue.OutcomeConnected, ""},
	} {
		if err := rec.RecordOutcome(h.ctx, "oc-ok", st.o); err != nil {
			t.Fatalf("step %d: RecordOutcome: %v", i, err)
		}
		g := h.wantStatus(t, "oc-ok", queue.StatusSucceeded)
		if !slices.Equal(g.ContactIDs, st.wantIDs) || g.Outcome != st.wantOut || g.OutcomeReason != st.wantWhy {
			t.Fatalf("step %d: got contacts %v outcome %q reason %q, want %v %q %q", i, g.ContactIDs, g.Outcome, g.OutcomeReason, st.wantIDs, st.wantOut, st.wantWhy)
		}
	}
	long := strings.Repeat("é", queue.MaxOutcomeReasonLen)
	if err := rec.RecordOutcome(h.ctx, "oc-dead", queue.ContactOutcome{Outcome: queue.OutcomeRefused, Reason: long}); err != nil {
		t.Fatalf("RecordOutcome on a dead letter: %v", err)
	}
	d := h.wantStatus(t, "oc-dead", queue.StatusDead)
	if d.Outcome != queue.OutcomeRefused || len(d.OutcomeReason) > queue.MaxOutcomeReasonLen || !strings.HasPrefix(long, d.OutcomeReason) || d.OutcomeReason == "" {
		t.Fatalf("dead letter: outcome %q, reason of %d bytes", d.Outcome, len(d.OutcomeReason))
	}
	if d.DeadReason != queue.ReasonClientFault {
		t.Fatalf("dead letter: DeadReason %q changed by RecordOutcome", d.DeadReason)
	}
	if err := rec.RecordOutcome(h.ctx, "oc-missing", queue.ContactOutcome{Outcome: queue.OutcomeConnected}); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("unknown job: got %v want ErrNotFound", err)
	}
	if err := rec.RecordOutcome(h.ctx, "oc-ok", queue.ContactOutcome{Outcome: "answered"}); !errors.Is(err, queue.ErrInvalidArgument) {
		t.Fatalf("unknown outcome: got %v want ErrInvalidArgument", err)
	}
}
