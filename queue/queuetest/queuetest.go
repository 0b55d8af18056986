package queuetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/queue"
)

// The receive limits the queues under test must be configured with.
const (
	MaxReceives     = 3
	MaxFreeRequeues = 2
)

// Long is a visibility timeout no test outlives.
const Long = 60 * time.Second

// Run runs the conformance suite. newQueue must return a fresh, empty queue
// configured with MaxReceives and MaxFreeRequeues from this package; the
// suite closes it at the end of each subtest (Close must tolerate a second
// call). Subtests run in parallel, each with its own queue.
func Run(t *testing.T, newQueue func(t *testing.T) queue.Queue) {
	tests := []struct {
		name string
		fn   func(*testing.T, *harness)
	}{
		{"EnqueueAssigns", testEnqueueAssigns},
		{"LeaseAck", testLeaseAck},
		{"Validation", testValidation},
		{"VisibilityExpiry", testVisibilityExpiry},
		{"AckAfterExpiryBeforeRelease", testAckAfterExpiry},
		{"Extend", testExtend},
		{"RequeueDelay", testRequeueDelay},
		{"NotBefore", testNotBefore},
		{"ReceiveLimit", testReceiveLimit},
		{"FreeRequeues", testFreeRequeues},
		{"DeadLetterRedrivePurge", testDeadLetter},
		{"ListDeadPages", testListDeadPages},
		{"Expired", testExpired},
		{"Priority", testPriority},
		{"Receipts", testReceipts},
		{"Stats", testStats},
		{"GetNotFound", testGetNotFound},
		{"Canceled", testCanceled},
		{"Close", testClose},
		{"ConcurrentConsumers", testConcurrent},
		{"Conflicts", testConflicts},
		{"CancelPurge", testCancelPurge},
		{"CancelRacesLease", testCancelRace},
		{"RecordOutcome", testRecordOutcome},
		{"Pin", testPin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := newQueue(t)
			t.Cleanup(func() { _ = q.Close() })
			caps := q.Capabilities()
			unit := caps.VisibilityGranularity
			if unit < 200*time.Millisecond {
				unit = 200 * time.Millisecond
			}
			tc.fn(t, &harness{q: q, caps: caps, unit: unit, ctx: t.Context()})
		})
	}
}

// harness bundles the queue under test with helpers.
type harness struct {
	q    queue.Queue
	caps queue.Capabilities
	unit time.Duration
	ctx  context.Context
}

func job(op string, input string) queue.Job {
	return queue.Job{Op: op, Input: json.RawMessage(input)}
}

func (h *harness) enqueue(t *testing.T, jobs ...queue.Job) []queue.Job {
	t.Helper()
	out, err := h.q.Enqueue(h.ctx, jobs...)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if len(out) != len(jobs) {
		t.Fatalf("Enqueue returned %d jobs, want %d", len(out), len(jobs))
	}
	return out
}

// leaseWait leases until it holds want jobs or timeout passes.
func (h *harness) leaseWait(t *testing.T, want int, vis, timeout time.Duration) []queue.Lease {
	t.Helper()
	var got []queue.Lease
	deadline := time.Now().Add(timeout)
	for len(got) < want {
		ls, err := h.q.Lease(h.ctx, want-len(got), vis)
		if err != nil {
			t.Fatalf("Lease: %v", err)
		}
		got = append(got, ls...)
		if len(got) >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("leased %d jobs within %v, want %d", len(got), timeout, want)
		}
		time.Sleep(h.unit / 10)
	}
	return got
}

// leaseOne leases exactly one job, waiting for it.
func (h *harness) leaseOne(t *testing.T, vis time.Duration) queue.Lease {
	t.Helper()
	return h.leaseWait(t, 1, vis, 10*h.unit+5*time.Second)[0]
}

// leaseNone checks that nothing can be leased now.
func (h *harness) leaseNone(t *testing.T, why string) {
	t.Helper()
	ls, err := h.q.Lease(h.ctx, 10, Long)
	if err != nil {
		t.Fatalf("Lease: %v", err)
	}
	if len(ls) != 0 {
		ids := make([]string, len(ls))
		for i, l := range ls {
			ids[i] = l.Job.ID
		}
		t.Fatalf("%s: leased %v, want nothing", why, ids)
	}
}

func (h *harness) get(t *testing.T, id string) queue.Job {
	t.Helper()
	j, err := h.q.Get(h.ctx, id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return j
}

func (h *harness) wantStatus(t *testing.T, id string, want queue.Status) queue.Job {
	t.Helper()
	j := h.get(t, id)
	if j.Status != want {
		t.Fatalf("Get(%s).Status = %q, want %q", id, j.Status, want)
	}
	return j
}

// eventually retries f until it returns nil or the timeout passes.
func (h *harness) eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(h.unit / 4)
	}
}

func sameJSON(a, b []byte) bool {
	var x, y bytes.Buffer
	if len(a) == 0 || len(b) == 0 {
		return len(bytes.TrimSpace(a)) == len(bytes.TrimSpace(b))
	}
	if json.Compact(&x, a) != nil || json.Compact(&y, b) != nil {
		return false
	}
	return bytes.Equal(x.Bytes(), y.Bytes())
}

func testEnqueueAssigns(t *testing.T, h *harness) {
	before := time.Now()
	in := []queue.Job{
		job("StartOutboundVoiceContact", `{"DestinationPhoneNumber":"+15550100"}`),
		{ID: "caller-id-1", ClientToken: "caller-token-1", Op: "StartTaskContact", Input: json.RawMessage(`{"Name":"t"}`), Priority: -1, GroupKey: "g1"},
	}
	out := h.enqueue(t, in...)
	if out[0].ID == "" || out[0].ClientToken == "" {
		t.Fatalf("job 0: ID %q ClientToken %q, want both assigned", out[0].ID, out[0].ClientToken)
	}
	if out[1].ID != "caller-id-1" || out[1].ClientToken != "caller-token-1" {
		t.Fatalf("job 1: ID %q ClientToken %q, want the caller's", out[1].ID, out[1].ClientToken)
	}
	for i, j := range out {
		if j.Status != queue.StatusQueued {
			t.Errorf("job %d: Status %q, want queued", i, j.Status)
		}
		if j.EnqueuedAt.Before(before.Add(-time.Second)) || j.EnqueuedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("job %d: EnqueuedAt %v, want about now", i, j.EnqueuedAt)
		}
		g := h.wantStatus(t, j.ID, queue.StatusQueued)
		if g.Op != in[i].Op || !sameJSON(g.Input, in[i].Input) || g.ClientToken != j.ClientToken ||
			g.Priority != in[i].Priority || g.GroupKey != in[i].GroupKey {
			t.Errorf("job %d: Get = %+v, want the enqueued fields of %+v", i, g, in[i])
		}
	}
	if out[0].ID == out[1].ID || out[0].ClientToken == out[1].ClientToken {
		t.Fatalf("IDs or tokens repeat: %+v", out)
	}
	if h.caps.IdempotentEnqueue {
		again := h.enqueue(t, in[1])
		if again[0].ClientToken != "caller-token-1" || !sameJSON(again[0].Input, in[1].Input) {
			t.Fatalf("re-enqueue of a known ID returned %+v, want the stored job", again[0])
		}
		ls := h.leaseWait(t, 2, Long, 10*h.unit)
		h.leaseNone(t, "after re-enqueueing a known ID")
		if len(ls) != 2 {
			t.Fatalf("leased %d, want 2", len(ls))
		}
	}
}

func testLeaseAck(t *testing.T, h *harness) {
	in := h.enqueue(t, job("StartTaskContact", `{"n":1}`), job("StartTaskContact", `{"n":2}`), job("StartTaskContact", `{"n":3}`))
	start := time.Now()
	ls := h.leaseWait(t, 3, Long, 10*h.unit)
	seen := map[string]bool{}
	tokens := map[string]string{}
	for _, j := range in {
		tokens[j.ID] = j.ClientToken
	}
	receipts := make([]string, 0, 3)
	for _, l := range ls {
		if seen[l.Job.ID] {
			t.Fatalf("job %s leased twice", l.Job.ID)
		}
		seen[l.Job.ID] = true
		if tokens[l.Job.ID] != l.Job.ClientToken {
			t.Errorf("job %s: ClientToken %q, want %q", l.Job.ID, l.Job.ClientToken, tokens[l.Job.ID])
		}
		if l.Job.Receives != 1 {
			t.Errorf("job %s: Receives %d, want 1", l.Job.ID, l.Job.Receives)
		}
		if l.Job.Status != queue.StatusInFlight {
			t.Errorf("job %s: Status %q, want in-flight", l.Job.ID, l.Job.Status)
		}
		if l.Receipt == "" {
			t.Fatalf("job %s: empty receipt", l.Job.ID)
		}
		if d := l.Until.Sub(start); d < Long-time.Second || d > Long+10*time.Second {
			t.Errorf("job %s: Until %v after the lease, want about %v", l.Job.ID, d, Long)
		}
		h.wantStatus(t, l.Job.ID, queue.StatusInFlight)
		receipts = append(receipts, l.Receipt)
	}
	h.leaseNone(t, "all jobs leased")
	if err := h.q.Ack(h.ctx, receipts...); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	for _, j := range in {
		g := h.wantStatus(t, j.ID, queue.StatusSucceeded)
		if g.FinishedAt.IsZero() {
			t.Errorf("job %s: FinishedAt not set", j.ID)
		}
	}
	h.leaseNone(t, "after ack")
	h.eventually(t, 5*time.Second, func() error {
		s, err := h.q.Stats(h.ctx)
		if err != nil {
			return err
		}
		if s.Ready != 0 || s.InFlight != 0 || s.Delayed != 0 || s.Dead != 0 {
			return fmt.Errorf("Stats after ack = %+v, want all zero", s)
		}
		return nil
	})
}

func testValidation(t *testing.T, h *harness) {
	past := time.Now().Add(-time.Minute)
	cases := []struct {
		job   queue.Job
		field string
	}{
		{queue.Job{}, "Op"},
		{queue.Job{Op: "Start Outbound"}, "Op"},
		{queue.Job{Op: "StartTaskContact", Input: json.RawMessage(`{"a":`)}, "Input"},
		{queue.Job{Op: "StartTaskContact", Input: json.RawMessage(`[1,2]`)}, "Input"},
		{queue.Job{Op: "StartTaskContact", Input: json.RawMessage(`{"a":"` + string(bytes.Repeat([]byte("x"), queue.DefaultMaxInput)) + `"}`)}, "Input"},
		{queue.Job{Op: "StartTaskContact", NotAfter: past}, "NotAfter"},
		{queue.Job{Op: "StartTaskContact", ClientToken: "has space"}, "ClientToken"},
		{queue.Job{Op: "StartTaskContact", ID: "a/b"}, "ID"},
		{queue.Job{Op: "StartTaskContact", Priority: 5000}, "Priority"},
	}
	for i, c := range cases {
		// Each bad job rides with a good one: the batch must store nothing.
		_, err := h.q.Enqueue(h.ctx, job("StartTaskContact", `{"ok":true}`), c.job)
		if !errors.Is(err, queue.ErrInvalidJob) {
			t.Fatalf("step %d: got %v want ErrInvalidJob", i, err)
		}
		var je *queue.JobError
		if !errors.As(err, &je) || je.Field != c.field || je.Index != 1 {
			t.Fatalf("step %d: got %v want a *JobError for field %s of job 1", i, err, c.field)
		}
	}
	_, err := h.q.Enqueue(h.ctx, queue.Job{ID: "dup", Op: "X"}, queue.Job{ID: "dup", Op: "X"})
	if !errors.Is(err, queue.ErrInvalidJob) {
		t.Fatalf("duplicate IDs in one batch: got %v want ErrInvalidJob", err)
	}
	h.leaseNone(t, "after rejected batches")
	s, err := h.q.Stats(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Ready != 0 || s.Delayed != 0 {
		t.Fatalf("rejected batches left jobs: %+v", s)
	}

	if _, err := h.q.Lease(h.ctx, 0, time.Second); !errors.Is(err, queue.ErrInvalidArgument) {
		t.Errorf("Lease(n=0): got %v want ErrInvalidArgument", err)
	}
	if _, err := h.q.Lease(h.ctx, 1, 0); !errors.Is(err, queue.ErrInvalidArgument) {
		t.Errorf("Lease(visibility=0): got %v want ErrInvalidArgument", err)
	}
	h.enqueue(t, job("StartTaskContact", `{}`))
	l := h.leaseOne(t, Long)
	if err := h.q.Requeue(h.ctx, l.Receipt, queue.Requeue{Delay: -time.Second}); !errors.Is(err, queue.ErrInvalidArgument) {
		t.Errorf("Requeue(Delay<0): got %v want ErrInvalidArgument", err)
	}
	if err := h.q.DeadLetter(h.ctx, l.Receipt, "", "x"); !errors.Is(err, queue.ErrInvalidArgument) {
		t.Errorf("DeadLetter(reason \"\"): got %v want ErrInvalidArgument", err)
	}
	if err := h.q.Extend(h.ctx, l.Receipt, -time.Second); !errors.Is(err, queue.ErrInvalidArgument) {
		t.Errorf("Extend(-1s): got %v want ErrInvalidArgument", err)
	}
	if _, err := h.q.Redrive(h.ctx, queue.Redrive{}); !errors.Is(err, queue.ErrInvalidArgument) {
		t.Errorf("Redrive(empty selector): got %v want ErrInvalidArgument", err)
	}
	if _, err := h.q.PurgeDead(h.ctx, queue.Selector{All: true, IDs: []string{"x"}}); !errors.Is(err, queue.ErrInvalidArgument) {
		t.Errorf("PurgeDead(IDs and All): got %v want ErrInvalidArgument", err)
	}
	// The rejected calls left the lease intact.
	if err := h.q.Ack(h.ctx, l.Receipt); err != nil {
		t.Fatalf("Ack after rejected calls: %v", err)
	}
}

func testVisibilityExpiry(t *testing.T, h *harness) {
	in := h.enqueue(t, job("StartOutboundVoiceContact", `{"n":1}`))[0]
	first := h.leaseOne(t, h.unit)
	h.leaseNone(t, "while leased")
	time.Sleep(h.unit + h.unit/2)
	second := h.leaseOne(t, Long)
	if second.Job.ID != in.ID || second.Job.ClientToken != in.ClientToken {
		t.Fatalf("redelivered %s/%s, want %s/%s", second.Job.ID, second.Job.ClientToken, in.ID, in.ClientToken)
	}
	if second.Job.Receives != 2 {
		t.Errorf("Receives on redelivery = %d, want 2", second.Job.Receives)
	}
	if second.Receipt == first.Receipt {
		t.Fatalf("redelivery reused the receipt %q", first.Receipt)
	}
	if h.caps.StaleReceipts {
		if err := h.q.Ack(h.ctx, first.Receipt); !errors.Is(err, queue.ErrStaleReceipt) {
			t.Fatalf("Ack(stale): got %v want ErrStaleReceipt", err)
		}
		if err := h.q.Extend(h.ctx, first.Receipt, Long); !errors.Is(err, queue.ErrStaleReceipt) {
			t.Fatalf("Extend(stale): got %v want ErrStaleReceipt", err)
		}
		if err := h.q.Requeue(h.ctx, first.Receipt, queue.Requeue{}); !errors.Is(err, queue.ErrStaleReceipt) {
			t.Fatalf("Requeue(stale): got %v want ErrStaleReceipt", err)
		}
		if err := h.q.DeadLetter(h.ctx, first.Receipt, queue.ReasonFailed, "x"); !errors.Is(err, queue.ErrStaleReceipt) {
			t.Fatalf("DeadLetter(stale): got %v want ErrStaleReceipt", err)
		}
		h.wantStatus(t, in.ID, queue.StatusInFlight)
	}
	if err := h.q.Ack(h.ctx, second.Receipt); err != nil {
		t.Fatalf("Ack(current): %v", err)
	}
	h.wantStatus(t, in.ID, queue.StatusSucceeded)
	h.leaseNone(t, "after ack")
}

func testAckAfterExpiry(t *testing.T, h *harness) {
	in := h.enqueue(t, job("StartTaskContact", `{}`))[0]
	l := h.leaseOne(t, h.unit)
	time.Sleep(h.unit + h.unit/2)
	// Nobody leased it again, so the receipt is still the current one.
	if err := h.q.Ack(h.ctx, l.Receipt); err != nil {
		t.Fatalf("Ack after the visibility timeout, before a new lease: %v", err)
	}
	h.wantStatus(t, in.ID, queue.StatusSucceeded)
	h.leaseNone(t, "after ack")
}

func testExtend(t *testing.T, h *harness) {
	in := h.enqueue(t, job("StartChatContact", `{}`))[0]
	l := h.leaseOne(t, h.unit)
	if err := h.q.Extend(h.ctx, l.Receipt, 5*h.unit); err != nil {
		t.Fatalf("Extend: %v", err)
	}
	time.Sleep(2 * h.unit)
	h.leaseNone(t, "after extending the lease")
	h.wantStatus(t, in.ID, queue.StatusInFlight)
	if err := h.q.Extend(h.ctx, l.Receipt, 5*h.unit); err != nil {
		t.Fatalf("second Extend: %v", err)
	}
	if err := h.q.Ack(h.ctx, l.Receipt); err != nil {
		t.Fatalf("Ack after Extend: %v", err)
	}
	if err := h.q.Extend(h.ctx, "no-such-job/abc", h.unit); !errors.Is(err, queue.ErrStaleReceipt) {
		t.Fatalf("Extend(unknown receipt): got %v want ErrStaleReceipt", err)
	}
}

func testRequeueDelay(t *testing.T, h *harness) {
	in := h.enqueue(t, job("StartOutboundVoiceContact", `{}`))[0]
	l := h.leaseOne(t, Long)
	delay := 2 * h.unit
	start := time.Now()
	if err := h.q.Requeue(h.ctx, l.Receipt, queue.Requeue{Delay: delay, Reason: "throttled: rate"}); err != nil {
		t.Fatalf("Requeue: %v", err)
	}
	h.leaseNone(t, "during the requeue delay")
	h.wantStatus(t, in.ID, queue.StatusQueued)
	l2 := h.leaseOne(t, Long)
	if el := time.Since(start); el < delay-h.caps.VisibilityGranularity-50*time.Millisecond {
		t.Fatalf("leased again after %v, want at least the delay %v", el, delay)
	}
	if l2.Job.ID != in.ID || l2.Job.ClientToken != in.ClientToken {
		t.Fatalf("requeued job came back as %s/%s, want %s/%s", l2.Job.ID, l2.Job.ClientToken, in.ID, in.ClientToken)
	}
	if l2.Job.Receives != 2 || l2.Job.LastError != "throttled: rate" {
		t.Fatalf("after requeue: Receives %d LastError %q, want 2 and the reason", l2.Job.Receives, l2.Job.LastError)
	}
	// Without a delay it is visible at once.
	if err := h.q.Requeue(h.ctx, l2.Receipt, queue.Requeue{}); err != nil {
		t.Fatalf("Requeue(no delay): %v", err)
	}
	l3 := h.leaseOne(t, Long)
	if err := h.q.Ack(h.ctx, l3.Receipt); err != nil {
		t.Fatalf("Ack: %v", err)
	}
}

func testNotBefore(t *testing.T, h *harness) {
	start := time.Now()
	nb := start.Add(2 * h.unit)
	in := h.enqueue(t, queue.Job{Op: "StartTaskContact", NotBefore: nb})[0]
	h.leaseNone(t, "before NotBefore")
	h.wantStatus(t, in.ID, queue.StatusQueued)
	l := h.leaseOne(t, Long)
	if el := time.Since(start); el < 2*h.unit-h.caps.VisibilityGranularity-50*time.Millisecond {
		t.Fatalf("leased after %v, before NotBefore (%v)", el, 2*h.unit)
	}
	if err := h.q.Ack(h.ctx, l.Receipt); err != nil {
		t.Fatal(err)
	}
}

func testReceiveLimit(t *testing.T, h *harness) {
	in := h.enqueue(t, job("StartTaskContact", `{}`))[0]
	// Receive 1 times out; receives 2 and 3 are requeued as failures.
	h.leaseOne(t, h.unit)
	time.Sleep(h.unit + h.unit/2)
	for i := 2; i <= MaxReceives; i++ {
		l := h.leaseOne(t, Long)
		if l.Job.Receives != i {
			t.Fatalf("receive %d: Receives = %d", i, l.Job.Receives)
		}
		if err := h.q.Requeue(h.ctx, l.Receipt, queue.Requeue{Reason: fmt.Sprintf("boom %d", i)}); err != nil {
			t.Fatalf("Requeue %d: %v", i, err)
		}
	}
	h.leaseNone(t, "after MaxReceives failed receives")
	j := h.wantStatus(t, in.ID, queue.StatusDead)
	if j.DeadReason != queue.ReasonMaxReceives || j.ClientToken != in.ClientToken {
		t.Fatalf("dead job: reason %q token %q, want %q and %q", j.DeadReason, j.ClientToken, queue.ReasonMaxReceives, in.ClientToken)
	}
	dead, err := h.q.ListDead(h.ctx, queue.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].ID != in.ID || dead[0].DeadReason != queue.ReasonMaxReceives {
		t.Fatalf("ListDead = %+v, want the job with reason max-receives", dead)
	}
	if dead[0].LastError != fmt.Sprintf("boom %d", MaxReceives) {
		t.Errorf("dead job LastError = %q, want the last requeue reason", dead[0].LastError)
	}
}

func testFreeRequeues(t *testing.T, h *harness) {
	in := h.enqueue(t, job("StartChatContact", `{}`))[0]
	steps := []struct {
		free         bool
		wantReceives int
		wantFreeNext int // FreeRequeues seen on the next lease
	}{
		{true, 1, 1},
		{true, 2, 2},
		{true, 3, 2}, // over the cap: counts as a failure
		{false, 4, 2},
		{false, 5, 2}, // failed receives reach MaxReceives
	}
	for i, s := range steps {
		l := h.leaseOne(t, Long)
		if l.Job.Receives != s.wantReceives {
			t.Fatalf("step %d: got Receives %d want %d", i, l.Job.Receives, s.wantReceives)
		}
		if err := h.q.Requeue(h.ctx, l.Receipt, queue.Requeue{Free: s.free, Reason: "concurrency-quota"}); err != nil {
			t.Fatalf("step %d: Requeue: %v", i, err)
		}
		g := h.get(t, in.ID)
		if g.FreeRequeues != s.wantFreeNext {
			t.Fatalf("step %d: got FreeRequeues %d want %d", i, g.FreeRequeues, s.wantFreeNext)
		}
	}
	h.leaseNone(t, "after the receive limit")
	j := h.wantStatus(t, in.ID, queue.StatusDead)
	if j.DeadReason != queue.ReasonMaxReceives {
		t.Fatalf("DeadReason %q, want max-receives", j.DeadReason)
	}
}

func testDeadLetter(t *testing.T, h *harness) {
	in := h.enqueue(t,
		queue.Job{ID: "dl-a", Op: "StartTaskContact", Input: json.RawMessage(`{"k":"a"}`)},
		queue.Job{ID: "dl-b", Op: "StartTaskContact"},
		queue.Job{ID: "dl-c", Op: "StartTaskContact"},
	)
	ls := h.leaseWait(t, 3, Long, 10*h.unit)
	byID := map[string]queue.Lease{}
	for _, l := range ls {
		byID[l.Job.ID] = l
	}
	if err := h.q.DeadLetter(h.ctx, byID["dl-a"].Receipt, queue.ReasonHardQuota, "quota L-1234 reached"); err != nil {
		t.Fatalf("DeadLetter a: %v", err)
	}
	if err := h.q.DeadLetter(h.ctx, byID["dl-b"].Receipt, queue.ReasonClientFault, "InvalidParameterException"); err != nil {
		t.Fatalf("DeadLetter b: %v", err)
	}
	if err := h.q.Ack(h.ctx, byID["dl-c"].Receipt); err != nil {
		t.Fatalf("Ack c: %v", err)
	}
	if h.caps.StaleReceipts {
		if err := h.q.Ack(h.ctx, byID["dl-a"].Receipt); !errors.Is(err, queue.ErrStaleReceipt) {
			t.Fatalf("Ack of a dead-lettered job: got %v want ErrStaleReceipt", err)
		}
	}
	a := h.wantStatus(t, "dl-a", queue.StatusDead)
	if a.DeadReason != queue.ReasonHardQuota || a.DeadDetail != "quota L-1234 reached" || a.FinishedAt.IsZero() {
		t.Fatalf("dead a = reason %q detail %q finished %v", a.DeadReason, a.DeadDetail, a.FinishedAt)
	}
	h.leaseNone(t, "dead letters are not leased")

	dead, err := h.q.ListDead(h.ctx, queue.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(dead); !sameSet(got, []string{"dl-a", "dl-b"}) {
		t.Fatalf("ListDead = %v, want dl-a and dl-b", got)
	}
	for _, d := range dead {
		if d.ID == "dl-a" && !sameJSON(d.Input, in[0].Input) {
			t.Errorf("dead a lost its input: %s", d.Input)
		}
	}
	hq, err := h.q.ListDead(h.ctx, queue.ListOptions{Reason: queue.ReasonHardQuota})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(hq); !sameSet(got, []string{"dl-a"}) {
		t.Fatalf("ListDead(reason hard-quota) = %v, want [dl-a]", got)
	}

	n, err := h.q.Redrive(h.ctx, queue.Redrive{Selector: queue.Selector{IDs: []string{"dl-a", "no-such-id", "dl-c"}}})
	if err != nil || n != 1 {
		t.Fatalf("Redrive(dl-a, unknown, succeeded) = %d, %v; want 1, nil", n, err)
	}
	h.wantStatus(t, "dl-a", queue.StatusQueued)
	l := h.leaseOne(t, Long)
	if l.Job.ID != "dl-a" || l.Job.ClientToken != in[0].ClientToken || l.Job.Receives != 1 || !sameJSON(l.Job.Input, in[0].Input) {
		t.Fatalf("redriven job = %s token %q receives %d input %s; want dl-a, the same token, 1 receive, the same input",
			l.Job.ID, l.Job.ClientToken, l.Job.Receives, l.Job.Input)
	}
	if err := h.q.Ack(h.ctx, l.Receipt); err != nil {
		t.Fatal(err)
	}
	n, err = h.q.Redrive(h.ctx, queue.Redrive{Selector: queue.Selector{All: true}})
	if err != nil || n != 1 {
		t.Fatalf("Redrive(All) = %d, %v; want 1, nil", n, err)
	}
	l = h.leaseOne(t, Long)
	if l.Job.ID != "dl-b" {
		t.Fatalf("after redrive all leased %s, want dl-b", l.Job.ID)
	}
	if err := h.q.DeadLetter(h.ctx, l.Receipt, queue.ReasonClientFault, "again"); err != nil {
		t.Fatal(err)
	}
	n, err = h.q.PurgeDead(h.ctx, queue.Selector{All: true})
	if err != nil || n != 1 {
		t.Fatalf("PurgeDead(All) = %d, %v; want 1, nil", n, err)
	}
	if _, err := h.q.Get(h.ctx, "dl-b"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Get(purged) = %v, want ErrNotFound", err)
	}
	dead, err = h.q.ListDead(h.ctx, queue.ListOptions{})
	if err != nil || len(dead) != 0 {
		t.Fatalf("ListDead after purge = %v, %v; want empty", ids(dead), err)
	}
}

func testListDeadPages(t *testing.T, h *harness) {
	const n = 5
	jobs := make([]queue.Job, n)
	for i := range jobs {
		jobs[i] = queue.Job{ID: fmt.Sprintf("page-%d", i), Op: "StartTaskContact"}
	}
	h.enqueue(t, jobs...)
	for _, l := range h.leaseWait(t, n, Long, 10*h.unit) {
		if err := h.q.DeadLetter(h.ctx, l.Receipt, queue.ReasonFailed, "x"); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	after := ""
	for range n + 1 {
		page, err := h.q.ListDead(h.ctx, queue.ListOptions{Limit: 2, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 2 {
			t.Fatalf("page of %d, want at most 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		all = append(all, ids(page)...)
		after = page[len(page)-1].ID
	}
	want := ids(jobs)
	if !sameSet(all, want) || len(all) != n {
		t.Fatalf("pages gave %v, want each of %v once", all, want)
	}
	n2, err := h.q.PurgeDead(h.ctx, queue.Selector{IDs: []string{"page-0", "page-3"}})
	if err != nil || n2 != 2 {
		t.Fatalf("PurgeDead(2 IDs) = %d, %v; want 2, nil", n2, err)
	}
	rest, err := h.q.ListDead(h.ctx, queue.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(rest); !sameSet(got, []string{"page-1", "page-2", "page-4"}) {
		t.Fatalf("after purge: %v", got)
	}
}

func testExpired(t *testing.T, h *harness) {
	deadline := time.Now().Add(h.unit + h.unit/2)
	if h.caps.VisibilityGranularity >= time.Second {
		deadline = time.Now().Add(2 * h.unit)
	}
	in := h.enqueue(t,
		queue.Job{ID: "late", Op: "StartOutboundVoiceContact", NotAfter: deadline},
		queue.Job{ID: "fine", Op: "StartOutboundVoiceContact"},
	)
	time.Sleep(time.Until(deadline) + h.unit/2)
	l := h.leaseOne(t, Long)
	if l.Job.ID != "fine" {
		t.Fatalf("leased %s, want only the job without a deadline", l.Job.ID)
	}
	h.leaseNone(t, "the expired job must not be leased")
	j := h.wantStatus(t, "late", queue.StatusDead)
	if j.DeadReason != queue.ReasonExpired || j.ClientToken != in[0].ClientToken {
		t.Fatalf("expired job: reason %q token %q", j.DeadReason, j.ClientToken)
	}
	if !j.NotAfter.Round(time.Millisecond).Equal(deadline.Round(time.Millisecond)) {
		t.Errorf("NotAfter = %v, want %v", j.NotAfter, deadline)
	}
	// Redriven with ClearNotAfter it runs.
	n, err := h.q.Redrive(h.ctx, queue.Redrive{Selector: queue.Selector{All: true, Reason: queue.ReasonExpired}, ClearNotAfter: true})
	if err != nil || n != 1 {
		t.Fatalf("Redrive(expired, ClearNotAfter) = %d, %v", n, err)
	}
	l2 := h.leaseOne(t, Long)
	if l2.Job.ID != "late" || !l2.Job.NotAfter.IsZero() {
		t.Fatalf("redriven: %s NotAfter %v, want late with no deadline", l2.Job.ID, l2.Job.NotAfter)
	}
}

func testPriority(t *testing.T, h *harness) {
	if !h.caps.StrictPriority {
		t.Skip("backend declares no strict priority")
	}
	in := []queue.Job{
		{ID: "low", Op: "X", Priority: 1},
		{ID: "normal-1", Op: "X"},
		{ID: "critical", Op: "X", Priority: -2},
		{ID: "normal-2", Op: "X"},
		{ID: "high", Op: "X", Priority: -1},
	}
	h.enqueue(t, in...)
	want := []string{"critical", "high", "normal-1", "normal-2", "low"}
	var got []string
	for range want {
		got = append(got, h.leaseOne(t, Long).Job.ID)
	}
	if h.caps.FIFO {
		if !slices.Equal(got, want) {
			t.Fatalf("lease order %v, want %v", got, want)
		}
	} else if got[0] != "critical" || got[1] != "high" || got[4] != "low" {
		t.Fatalf("lease order %v, want priority order %v (normal jobs in any order)", got, want)
	}
	// A batch lease follows the same order.
	h.enqueue(t, queue.Job{ID: "b-low", Op: "X", Priority: 1}, queue.Job{ID: "b-high", Op: "X", Priority: -1})
	ls := h.leaseWait(t, 2, Long, 10*h.unit)
	if ls[0].Job.ID != "b-high" {
		t.Fatalf("batch lease order %v, want b-high first", []string{ls[0].Job.ID, ls[1].Job.ID})
	}
}

func testReceipts(t *testing.T, h *harness) {
	for i, r := range []string{"", "garbage", "no-such-job/xyz", "a/b/c"} {
		if err := h.q.Ack(h.ctx, r); !errors.Is(err, queue.ErrStaleReceipt) {
			t.Fatalf("step %d: Ack(%q): got %v want ErrStaleReceipt", i, r, err)
		}
	}
	h.enqueue(t, job("X", `{}`), job("X", `{}`))
	ls := h.leaseWait(t, 2, Long, 10*h.unit)
	// One bad receipt among good ones: the good ones are acked.
	err := h.q.Ack(h.ctx, ls[0].Receipt, "no-such-job/xyz", ls[1].Receipt)
	var be *queue.BatchError
	if !errors.As(err, &be) || len(be.Errs) != 3 || be.Errs[0] != nil || !errors.Is(be.Errs[1], queue.ErrStaleReceipt) || be.Errs[2] != nil {
		t.Fatalf("Ack(good, bad, good) = %v, want a *BatchError failing only item 1", err)
	}
	if !errors.Is(err, queue.ErrStaleReceipt) {
		t.Fatalf("errors.Is(batch error, ErrStaleReceipt) = false")
	}
	h.wantStatus(t, ls[0].Job.ID, queue.StatusSucceeded)
	h.wantStatus(t, ls[1].Job.ID, queue.StatusSucceeded)
	if h.caps.StaleReceipts {
		if err := h.q.Ack(h.ctx, ls[0].Receipt); !errors.Is(err, queue.ErrStaleReceipt) {
			t.Fatalf("second Ack: got %v want ErrStaleReceipt", err)
		}
		if err := h.q.Requeue(h.ctx, ls[0].Receipt, queue.Requeue{}); !errors.Is(err, queue.ErrStaleReceipt) {
			t.Fatalf("Requeue after Ack: got %v want ErrStaleReceipt", err)
		}
		h.wantStatus(t, ls[0].Job.ID, queue.StatusSucceeded)
	}
	h.leaseNone(t, "acked jobs never come back")
}

func testStats(t *testing.T, h *harness) {
	later := time.Now().Add(10 * time.Minute)
	if h.caps.MaxDelay > 0 && h.caps.MaxDelay < 10*time.Minute {
		later = time.Now().Add(h.caps.MaxDelay / 2)
	}
	h.enqueue(t,
		queue.Job{ID: "s-delayed", Op: "StartChatContact", NotBefore: later},
	)
	h.enqueue(t,
		queue.Job{ID: "s-1", Op: "StartTaskContact"},
		queue.Job{ID: "s-2", Op: "StartTaskContact"},
		queue.Job{ID: "s-3", Op: "StartTaskContact"},
	)
	ls := h.leaseWait(t, 2, Long, 10*h.unit)
	if err := h.q.DeadLetter(h.ctx, ls[1].Receipt, queue.ReasonFailed, "x"); err != nil {
		t.Fatal(err)
	}
	h.eventually(t, 5*time.Second, func() error {
		s, err := h.q.Stats(h.ctx)
		if err != nil {
			return err
		}
		if s.Ready != 1 || s.InFlight != 1 || s.Delayed != 1 || s.Dead != 1 {
			return fmt.Errorf("Stats = ready %d in-flight %d delayed %d dead %d; want 1 1 1 1", s.Ready, s.InFlight, s.Delayed, s.Dead)
		}
		if h.caps.ExactStats {
			task := s.ByOp["StartTaskContact"]
			chat := s.ByOp["StartChatContact"]
			if task.Ready != 1 || task.InFlight != 1 || task.Dead != 1 || chat.Delayed != 1 {
				return fmt.Errorf("ByOp = %+v", s.ByOp)
			}
			if s.DeadByReason[queue.ReasonFailed] != 1 {
				return fmt.Errorf("DeadByReason = %v", s.DeadByReason)
			}
			if s.OldestAge <= 0 || s.OldestAge > time.Minute {
				return fmt.Errorf("OldestAge = %v", s.OldestAge)
			}
		}
		return nil
	})
}

func testGetNotFound(t *testing.T, h *harness) {
	if _, err := h.q.Get(h.ctx, "never-enqueued"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Get(unknown) = %v, want ErrNotFound", err)
	}
}

func testCanceled(t *testing.T, h *harness) {
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	if _, err := h.q.Enqueue(ctx, job("X", `{}`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Enqueue(canceled) = %v, want context.Canceled", err)
	}
	if _, err := h.q.Lease(ctx, 1, Long); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lease(canceled) = %v, want context.Canceled", err)
	}
	h.leaseNone(t, "a canceled Enqueue stores nothing")
}

func testClose(t *testing.T, h *harness) {
	h.enqueue(t, job("X", `{}`))
	if err := h.q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := h.q.Enqueue(h.ctx, job("X", `{}`)); !errors.Is(err, queue.ErrClosed) {
		t.Errorf("Enqueue after Close = %v, want ErrClosed", err)
	}
	if _, err := h.q.Lease(h.ctx, 1, Long); !errors.Is(err, queue.ErrClosed) {
		t.Errorf("Lease after Close = %v, want ErrClosed", err)
	}
	if _, err := h.q.Stats(h.ctx); !errors.Is(err, queue.ErrClosed) {
		t.Errorf("Stats after Close = %v, want ErrClosed", err)
	}
	if err := h.q.Close(); err != nil && !errors.Is(err, queue.ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
}

// testConcurrent runs consumers side by side: no job is held by two of them
// at once, each ends exactly once, and nothing is lost. One job in five is
// first requeued (freely) to mix redeliveries in.
func testConcurrent(t *testing.T, h *harness) {
	n := 300
	if h.caps.VisibilityGranularity >= time.Second {
		n = 60
	}
	jobs := make([]queue.Job, n)
	requeueOnce := map[string]bool{}
	for i := range jobs {
		jobs[i] = queue.Job{ID: fmt.Sprintf("c-%03d", i), Op: "StartTaskContact", Input: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
		if i%5 == 0 {
			requeueOnce[jobs[i].ID] = true
		}
	}
	for i := 0; i < n; i += 10 {
		h.enqueue(t, jobs[i:min(i+10, n)]...)
	}
	var (
		mu      sync.Mutex
		holder  = map[string]int{} // job → consumer holding it
		acked   = map[string]int{}
		requeue = map[string]bool{}
		fail    []string
	)
	// A bound against a queue that stops handing out work, not a speed
	// target: on a loaded machine an emulated queue (moto_server) takes
	// its time, and stopping early would report lost work that is not.
	deadline := time.Now().Add(5*time.Minute + 20*h.unit)
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			for {
				mu.Lock()
				done := len(acked) == n || len(fail) > 0
				mu.Unlock()
				if done || time.Now().After(deadline) {
					return
				}
				ls, err := h.q.Lease(h.ctx, 5, Long)
				if err != nil {
					mu.Lock()
					fail = append(fail, "Lease: "+err.Error())
					mu.Unlock()
					return
				}
				if len(ls) == 0 {
					time.Sleep(h.unit / 20)
					continue
				}
				for _, l := range ls {
					id := l.Job.ID
					mu.Lock()
					if other, held := holder[id]; held {
						fail = append(fail, fmt.Sprintf("job %s leased by consumer %d while consumer %d holds it", id, c, other))
					}
					holder[id] = c
					again := requeueOnce[id] && !requeue[id]
					if again {
						requeue[id] = true
					}
					mu.Unlock()
					if again {
						mu.Lock()
						delete(holder, id)
						mu.Unlock()
						if err := h.q.Requeue(h.ctx, l.Receipt, queue.Requeue{Free: true}); err != nil {
							mu.Lock()
							fail = append(fail, "Requeue: "+err.Error())
							mu.Unlock()
						}
						continue
					}
					mu.Lock()
					delete(holder, id)
					mu.Unlock()
					err := h.q.Ack(h.ctx, l.Receipt)
					mu.Lock()
					if err != nil {
						fail = append(fail, "Ack: "+err.Error())
					} else {
						acked[id]++
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(fail) > 0 {
		t.Fatalf("%d failures, first: %s", len(fail), fail[0])
	}
	if len(acked) != n {
		t.Fatalf("acked %d distinct jobs, want %d (lost work)", len(acked), n)
	}
	for id, c := range acked {
		if c != 1 {
			t.Fatalf("job %s acked %d times", id, c)
		}
	}
	h.leaseNone(t, "after all acks")
	for _, j := range jobs {
		h.wantStatus(t, j.ID, queue.StatusSucceeded)
	}
}

func ids(jobs []queue.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
