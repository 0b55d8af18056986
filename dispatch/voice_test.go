package dispatch_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// voiceRun is one campaign of StartOutboundVoiceContact jobs against a
// simulator whose calls last callDur, with the concurrent-calls quota set
// to quota, through a dispatcher built with mod.
type voiceRun struct {
	jobs    []queue.Job
	q       *queue.Memory
	s       *sim.Server
	d       *dispatch.Dispatcher
	elapsed time.Duration // until the last contact's end was recorded
}

func runVoice(t *testing.T, numbers []string, quota int, callDur time.Duration, mod func(*dispatch.Options)) voiceRun {
	t.Helper()
	const scale = 10.0
	s := newSim(t, scale, func(o *sim.Options) {
		o.CallDuration = sim.Distribution{Kind: sim.DistFixed, Min: callDur, Max: callDur}
	})
	if err := s.SetResourceQuota(quotas.ConcurrentActiveCalls, quota); err != nil {
		t.Fatal(err)
	}
	q := queue.NewMemory(queue.MemoryOptions{})
	jobs := make([]queue.Job, len(numbers))
	for i, n := range numbers {
		jobs[i] = sovc(n)
	}
	jobs, err := q.Enqueue(context.Background(), jobs...)
	if err != nil {
		t.Fatal(err)
	}
	o := dispatch.Options{
		Queue: q, Governor: newGovernor(scale, 2*time.Second), AWS: awsConfig(s),
		Endpoint: "http://connect.sim.local", Concurrency: 16,
		// A short lease: waiting for a slot must keep extending it.
		CallTimeout: 2 * time.Second, Visibility: 4 * time.Second,
		ContactPoll: time.Second,
	}
	if mod != nil {
		mod(&o)
	}
	d, err := dispatch.New(o)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stop := runDispatcher(d)
	waitDone(t, q, 10*time.Minute)
	// Then every contact's end.
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		st := d.Stats()
		if st.Connected+st.EndedWithoutConnecting+st.Refused+st.EndsUnknown >= int64(len(jobs)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("contact ends not learned: %+v", st)
		}
	}
	r := voiceRun{jobs: jobs, q: q, s: s, d: d, elapsed: time.Since(start)}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r
}

func numbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+1206555%04d", i)
	}
	return out
}

// TestCallPacingByPolling: with a budget of 2 calls in progress (quota 3,
// reserve 1) and 10 s calls, 6 calls go in three waves, none hears a
// reorder tone, every job waits without spending a receive while its
// lease is extended, and each ends "connected" with its ContactId —
// learned by polling DescribeContact.
func TestCallPacingByPolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := callbudget.New(callbudget.Options{Limit: 3, Reserve: 1})
		r := runVoice(t, numbers(6), 3, 10*time.Second, func(o *dispatch.Options) { o.CallBudget = b })
		ss := r.s.Stats()
		if ss.RejectedReorder != 0 || ss.ContactsStarted != 6 {
			t.Fatalf("simulator: rejected_reorder %d, contacts_started %d; want 0 and 6", ss.RejectedReorder, ss.ContactsStarted)
		}
		// Three waves of 10 s, each end learned within a poll (1 s).
		if r.elapsed < 30*time.Second || r.elapsed > 34*time.Second {
			t.Errorf("elapsed %v, want 30 s to 34 s (3 waves of 10 s calls, ends polled every 1 s)", r.elapsed)
		}
		st := r.d.Stats()
		if st.Connected != 6 || st.CallsInProgress != 0 || st.ContactPolls == 0 || st.Succeeded != 6 {
			t.Errorf("dispatcher stats %+v", st)
		}
		for i, j := range r.jobs {
			g, err := r.q.Get(context.Background(), j.ID)
			if err != nil {
				t.Fatal(err)
			}
			if g.Status != queue.StatusSucceeded || g.Outcome != queue.OutcomeConnected || len(g.ContactIDs) != 1 || g.OutcomeReason != sim.ReasonCustomerDisconnect {
				t.Errorf("step %d: job %s: status %s outcome %q reason %q contacts %v", i, j.ID, g.Status, g.Outcome, g.OutcomeReason, g.ContactIDs)
			}
			if g.Receives != 1 || g.FreeRequeues != 0 {
				t.Errorf("step %d: job %s: receives %d, free requeues %d; waiting must not spend receives", i, j.ID, g.Receives, g.FreeRequeues)
			}
		}
		if a := b.Active(sim.DefaultInstanceID); a != 0 {
			t.Errorf("slots still held: %d", a)
		}
	})
}

// TestNoPacingReorders is today's behaviour, for contrast: paced on the
// rate alone, calls past the quota are "placed" and the customers hear a
// reorder tone; the outcomes now say so.
func TestNoPacingReorders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := runVoice(t, numbers(6), 3, 10*time.Second, nil)
		ss := r.s.Stats()
		if ss.RejectedReorder != 3 || ss.ContactsStarted != 3 {
			t.Fatalf("simulator: rejected_reorder %d, contacts_started %d; want 3 and 3", ss.RejectedReorder, ss.ContactsStarted)
		}
		outcomes := map[string]int{}
		for _, j := range r.jobs {
			g, _ := r.q.Get(context.Background(), j.ID)
			outcomes[g.Outcome]++
			if g.Outcome == queue.OutcomeEndedWithoutConnecting && (!strings.HasPrefix(g.OutcomeReason, sim.ReasonOther) || !strings.Contains(g.OutcomeReason, "reorder")) {
				t.Errorf("job %s: reason %q", j.ID, g.OutcomeReason)
			}
		}
		if outcomes[queue.OutcomeConnected] != 3 || outcomes[queue.OutcomeEndedWithoutConnecting] != 3 {
			t.Errorf("outcomes %v, want 3 connected and 3 ended_without_connecting", outcomes)
		}
		if st := r.d.Stats(); st.Succeeded != 6 || st.EndedWithoutConnecting != 3 {
			t.Errorf("dispatcher stats %+v", st)
		}
	})
}

// TestRefusedOutcome: a call Connect refuses is dead-lettered and its
// outcome is "refused" with the error; its slot is given back at once.
func TestRefusedOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := callbudget.New(callbudget.Options{Limit: 1})
		r := runVoice(t, []string{"+15550001234", "+12065550100"}, 1, 5*time.Second, func(o *dispatch.Options) { o.CallBudget = b })
		g, _ := r.q.Get(context.Background(), r.jobs[0].ID)
		if g.Status != queue.StatusDead || g.Outcome != queue.OutcomeRefused || !strings.Contains(g.OutcomeReason, "DestinationNotAllowedException") {
			t.Errorf("refused job: status %s outcome %q reason %q", g.Status, g.Outcome, g.OutcomeReason)
		}
		g, _ = r.q.Get(context.Background(), r.jobs[1].ID)
		if g.Outcome != queue.OutcomeConnected {
			t.Errorf("second job: outcome %q", g.Outcome)
		}
		if r.elapsed > 7*time.Second {
			t.Errorf("elapsed %v: the refused call's slot was not given back at once", r.elapsed)
		}
	})
}

// TestMaxCallDurationBounds: with no route to the end (polling off, no
// events), a call counts as in progress for MaxCallDuration, and its job
// keeps the outcome "placed".
func TestMaxCallDurationBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := callbudget.New(callbudget.Options{Limit: 1, MaxDuration: 20 * time.Second})
		r := runVoice(t, numbers(2), 1, 5*time.Second, func(o *dispatch.Options) {
			o.CallBudget, o.ContactPoll, o.MaxCallDuration = b, -1, 20*time.Second
		})
		if r.elapsed < 40*time.Second || r.elapsed > 41*time.Second {
			t.Errorf("elapsed %v, want 40 s (two calls, each counted for the 20 s maximum)", r.elapsed)
		}
		for _, j := range r.jobs {
			g, _ := r.q.Get(context.Background(), j.ID)
			if g.Outcome != queue.OutcomePlaced || !strings.Contains(g.OutcomeReason, "max_call_duration") || len(g.ContactIDs) != 1 {
				t.Errorf("job %s: outcome %q reason %q contacts %v", j.ID, g.Outcome, g.OutcomeReason, g.ContactIDs)
			}
		}
		if ss := r.s.Stats(); ss.RejectedReorder != 0 {
			t.Errorf("rejected_reorder %d", ss.RejectedReorder)
		}
	})
}
