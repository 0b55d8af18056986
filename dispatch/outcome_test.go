package dispatch_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

// fixture is one dispatcher over the in-memory queue and a scripted
// simulator, inside a synctest bubble.
type fixture struct {
	q   *queue.Memory
	d   *dispatch.Dispatcher
	rec *recorder
	sc  *scripted
	sim *sim.Server
}

type fixtureOptions struct {
	respond     func(op string, n int) (int, string)
	maxAttempts int
	limits      map[string]ratelimit.Limit
	mod         func(*dispatch.Options)
	simMod      func(*sim.Options)
}

func newFixture(t *testing.T, fo fixtureOptions) *fixture {
	t.Helper()
	s := newSim(t, 10, fo.simMod)
	sc := newScripted(s, fo.respond)
	l := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: quotas.Default().Scale(10), Ops: fo.limits})
	g := governor.New(l, governor.Options{MaxElapsed: 10 * time.Second, MaxAttempts: fo.maxAttempts})
	rec := &recorder{}
	o := dispatch.Options{
		Queue: queue.NewMemory(queue.MemoryOptions{}), Governor: g, AWS: awsConfig(sc),
		Endpoint: "http://connect.sim.local", CallTimeout: 10 * time.Second, Observer: rec.observe,
	}
	if fo.mod != nil {
		fo.mod(&o)
	}
	d, err := dispatch.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{q: o.Queue.(*queue.Memory), d: d, rec: rec, sc: sc, sim: s}
}

// run enqueues jobs, runs the dispatcher until want outcomes were observed,
// stops it and returns the outcomes.
func (f *fixture) run(t *testing.T, want int, jobs ...queue.Job) ([]queue.Job, []dispatch.Outcome) {
	t.Helper()
	stored, err := f.q.Enqueue(context.Background(), jobs...)
	if err != nil {
		t.Fatal(err)
	}
	stop := runDispatcher(f.d)
	deadline := time.Now().Add(10 * time.Minute)
	for {
		outs, _ := f.rec.snapshot()
		if len(outs) >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d outcomes after 10 minutes", len(outs), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	outs, _ := f.rec.snapshot()
	return stored, outs
}

func (f *fixture) get(t *testing.T, id string) queue.Job {
	t.Helper()
	j, err := f.q.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func chat() queue.Job {
	return queue.Job{Op: "StartChatContact", Input: []byte(fmt.Sprintf(
		`{"InstanceId":%q,"ContactFlowId":%q,"ParticipantDetails":{"DisplayName":"Pat"}}`, sim.DefaultInstanceID, sim.DefaultContactFlowID))}
}

func createInstance() queue.Job {
	return queue.Job{Op: "CreateInstance", Input: []byte(`{"IdentityManagementType":"CONNECT_MANAGED","InboundCallsEnabled":true,"OutboundCallsEnabled":true}`)}
}

func always(op, code string, status int) func(string, int) (int, string) {
	return func(o string, _ int) (int, string) {
		if o == op {
			return status, code
		}
		return 0, ""
	}
}

// TestOutcomes checks how each kind of answer settles the job.
func TestOutcomes(t *testing.T) {
	cases := []struct {
		name  string
		fo    fixtureOptions
		job   queue.Job
		check func(t *testing.T, f *fixture, j queue.Job, o dispatch.Outcome)
	}{
		{
			name: "success", job: sovc("+12065550100"),
			check: func(t *testing.T, f *fixture, j queue.Job, o dispatch.Outcome) {
				if j.Status != queue.StatusSucceeded || o.Result != dispatch.ResultSucceeded {
					t.Errorf("status %s result %v, want succeeded", j.Status, o.Result)
				}
			},
		},
		{
			name: "client fault: refused destination", job: sovc("+15550001234"),
			check: func(t *testing.T, f *fixture, j queue.Job, o dispatch.Outcome) {
				if j.Status != queue.StatusDead || j.DeadReason != queue.ReasonClientFault {
					t.Fatalf("status %s reason %q, want dead client-fault", j.Status, j.DeadReason)
				}
				if !strings.Contains(j.DeadDetail, "DestinationNotAllowedException (HTTP 403)") {
					t.Errorf("detail %q does not name the error", j.DeadDetail)
				}
				if n := f.sc.count("StartOutboundVoiceContact"); n != 1 {
					t.Errorf("%d requests, want 1 (a client fault is not retried)", n)
				}
			},
		},
		{
			name: "hard quota", job: createInstance(),
			fo: fixtureOptions{respond: always("CreateInstance", "ServiceQuotaExceededException", 402)},
			check: func(t *testing.T, f *fixture, j queue.Job, o dispatch.Outcome) {
				if j.Status != queue.StatusDead || j.DeadReason != queue.ReasonHardQuota {
					t.Fatalf("status %s reason %q, want dead hard-quota", j.Status, j.DeadReason)
				}
				if !o.Alarm || o.Class != awserr.ClassHardQuota {
					t.Errorf("outcome alarm %v class %v, want an alarm for a hard quota", o.Alarm, o.Class)
				}
				if !strings.Contains(j.DeadDetail, "ServiceQuotaExceededException") || !strings.Contains(j.DeadDetail, "quota") {
					t.Errorf("detail %q lacks the code and quota", j.DeadDetail)
				}
				if st := f.d.Stats(); st.Alarms != 1 {
					t.Errorf("alarms %d, want 1", st.Alarms)
				}
			},
		},
		{
			name: "concurrency quota", job: chat(),
			fo: fixtureOptions{respond: always("StartChatContact", "LimitExceededException", 429)},
			check: func(t *testing.T, f *fixture, j queue.Job, o dispatch.Outcome) {
				if j.Status != queue.StatusQueued || o.Result != dispatch.ResultRequeued || !o.Free {
					t.Fatalf("status %s result %v free %v, want a free requeue", j.Status, o.Result, o.Free)
				}
				if j.FreeRequeues != 1 || j.FailedReceives() != 0 {
					t.Errorf("free requeues %d failed receives %d, want 1 and 0", j.FreeRequeues, j.FailedReceives())
				}
				if o.Delay < governor.DefaultConcurrencyDelay/2 {
					t.Errorf("delay %v, want at least %v", o.Delay, governor.DefaultConcurrencyDelay/2)
				}
				if n := f.sc.count("StartChatContact"); n != 1 {
					t.Errorf("%d requests, want 1 (a full concurrency quota is not retried in place)", n)
				}
			},
		},
		{
			name: "rate throttle: retried, then requeued", job: sovc("+12065550101"),
			fo: fixtureOptions{respond: always("StartOutboundVoiceContact", "ThrottlingException", 429), maxAttempts: 3},
			check: func(t *testing.T, f *fixture, j queue.Job, o dispatch.Outcome) {
				if j.Status != queue.StatusQueued || o.Result != dispatch.ResultRequeued || o.Free {
					t.Fatalf("status %s result %v free %v, want a counted requeue", j.Status, o.Result, o.Free)
				}
				if o.Reason != "rate-throttle" || !strings.Contains(j.LastError, "ThrottlingException") {
					t.Errorf("reason %q last error %q", o.Reason, j.LastError)
				}
				if n := f.sc.count("StartOutboundVoiceContact"); n != 3 {
					t.Errorf("%d requests, want 3 (the governor's attempts)", n)
				}
				if o.Delay <= 0 {
					t.Errorf("delay %v, want a backoff", o.Delay)
				}
			},
		},
		{
			name: "transient, then success", job: sovc("+12065550102"),
			fo: fixtureOptions{respond: func(op string, n int) (int, string) {
				if op == "StartOutboundVoiceContact" && n == 1 {
					return 500, "InternalServiceException"
				}
				return 0, ""
			}},
			check: func(t *testing.T, f *fixture, j queue.Job, o dispatch.Outcome) {
				if j.Status != queue.StatusSucceeded {
					t.Fatalf("status %s, want succeeded", j.Status)
				}
				if n := f.sc.count("StartOutboundVoiceContact"); n != 2 {
					t.Errorf("%d requests, want 2", n)
				}
			},
		},
		{
			name: "input that no longer decodes", job: queue.Job{Op: "StartOutboundVoiceContact", Input: []byte(`{"Nope":1}`)},
			check: func(t *testing.T, f *fixture, j queue.Job, o dispatch.Outcome) {
				if j.Status != queue.StatusDead || j.DeadReason != queue.ReasonClientFault || !strings.Contains(j.DeadDetail, "Input.Nope") {
					t.Fatalf("status %s reason %q detail %q", j.Status, j.DeadReason, j.DeadDetail)
				}
				if n := f.sc.count("StartOutboundVoiceContact"); n != 0 {
					t.Errorf("%d requests, want none", n)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, tc.fo)
				stored, outs := f.run(t, 1, tc.job)
				tc.check(t, f, f.get(t, stored[0].ID), outs[0])
			})
		})
	}
}

// TestExpiredWhileWaiting: a job whose NotAfter passes while it waits for a
// token is dead-lettered "expired" and never called; a job already past
// NotAfter when leased is dead-lettered by the queue.
func TestExpiredWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, fixtureOptions{limits: map[string]ratelimit.Limit{
			"StartOutboundVoiceContact": {Rate: 0.01, Burst: 1}, // one call, then 100 s per token
		}, mod: func(o *dispatch.Options) { o.Concurrency = 1 }})
		first, second := sovc("+12065550103"), sovc("+12065550104")
		second.NotAfter = time.Now().Add(5 * time.Second)
		stored, _ := f.run(t, 2, first, second)
		if j := f.get(t, stored[0].ID); j.Status != queue.StatusSucceeded {
			t.Errorf("first: %s, want succeeded", j.Status)
		}
		j := f.get(t, stored[1].ID)
		if j.Status != queue.StatusDead || j.DeadReason != queue.ReasonExpired {
			t.Errorf("second: status %s reason %q, want dead expired", j.Status, j.DeadReason)
		}
		if n := f.sc.count("StartOutboundVoiceContact"); n != 1 {
			t.Errorf("%d calls, want 1: the expired job must not be called", n)
		}
	})
}

// TestClientTokenKept: the job's ClientToken is on every attempt and on the
// redelivery after a requeue, so Connect starts one contact.
func TestClientTokenKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, fixtureOptions{maxAttempts: 2, respond: func(op string, n int) (int, string) {
			if op == "StartOutboundVoiceContact" && n <= 2 {
				return 503, "ServiceUnavailableException"
			}
			if op == "StartOutboundVoiceContact" && n == 3 {
				return 0, "" // placed; the reply is then lost below
			}
			return 0, ""
		}})
		stored, _ := f.run(t, 2, sovc("+12065550105"))
		j := f.get(t, stored[0].ID)
		if j.Status != queue.StatusSucceeded || j.Receives != 2 {
			t.Fatalf("status %s receives %d, want succeeded on the second delivery", j.Status, j.Receives)
		}
		toks := f.sc.tokensOf("StartOutboundVoiceContact")
		if len(toks) != 3 {
			t.Fatalf("%d requests, want 3", len(toks))
		}
		for i, tok := range toks {
			if tok != j.ClientToken {
				t.Errorf("request %d: ClientToken %q, want the job's %q", i+1, tok, j.ClientToken)
			}
		}
	})
}

// TestRedeliveryDeduplicated: a job whose success was not acknowledged
// (its lease ran out) is delivered again with the same token; the
// simulator answers with the same contact and starts no second one.
func TestRedeliveryDeduplicated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSim(t, 10, nil)
		cfg := awsConfig(s)
		q := queue.NewMemory(queue.MemoryOptions{})
		stored, err := q.Enqueue(context.Background(), sovc("+12065550106"))
		if err != nil {
			t.Fatal(err)
		}
		// A consumer that calls and dies before Ack.
		ls, err := q.Lease(context.Background(), 1, time.Second)
		if err != nil || len(ls) != 1 {
			t.Fatalf("Lease: %v %d", err, len(ls))
		}
		d1, err := dispatch.New(dispatch.Options{Queue: q, Governor: newGovernor(10, 5*time.Second), AWS: cfg, Endpoint: "http://connect.sim.local", CallTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if _, err := dispatch.CallForTest(ctx, d1, ls[0].Job); err != nil {
			t.Fatalf("first call: %v", err)
		}
		time.Sleep(2 * time.Second) // the lease runs out
		stop := runDispatcher(d1)
		waitDone(t, q, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		st := s.Stats()
		if st.ContactsStarted != 1 || st.DuplicateClientTokens != 1 {
			t.Errorf("contacts_started %d duplicate_client_tokens %d, want 1 and 1", st.ContactsStarted, st.DuplicateClientTokens)
		}
		j, _ := q.Get(ctx, stored[0].ID)
		if j.Status != queue.StatusSucceeded || j.Receives != 2 {
			t.Errorf("status %s receives %d, want succeeded after 2 receives", j.Status, j.Receives)
		}
	})
}

// TestAdmissionOverBudget: a job that cannot get a token within its call
// budget is not failed: it goes back to the queue for free, never called.
func TestAdmissionOverBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, fixtureOptions{
			limits: map[string]ratelimit.Limit{"StartOutboundVoiceContact": {Rate: 0.01, Burst: 1}},
			mod:    func(o *dispatch.Options) { o.Concurrency = 1 },
		})
		stored, outs := f.run(t, 2, sovc("+12065550110"), sovc("+12065550111"))
		j := f.get(t, stored[1].ID)
		if j.Status != queue.StatusQueued || j.FreeRequeues != 1 || !strings.Contains(j.LastError, "admission") {
			t.Errorf("second job: %s free %d last error %q, want a free requeue for admission", j.Status, j.FreeRequeues, j.LastError)
		}
		if outs[1].Result != dispatch.ResultRequeued || !outs[1].Free || outs[1].Delay <= 0 {
			t.Errorf("outcome %+v", outs[1])
		}
		if n := f.sc.count("StartOutboundVoiceContact"); n != 1 {
			t.Errorf("%d calls, want 1", n)
		}
	})
}
