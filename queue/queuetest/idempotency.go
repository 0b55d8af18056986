package queuetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/queue"
)

// testConflicts: a token derived from the caller's ID; a known ID with
// other input, or a token another job holds, is refused and stores nothing.
func testConflicts(t *testing.T, h *harness) {
	in := json.RawMessage(`{"InstanceId":"inst-1","DestinationPhoneNumber":"+15550100"}`)
	a := h.enqueue(t, queue.Job{ID: "call-a", Op: "StartOutboundVoiceContact", Input: in})
	if want := queue.DeriveToken("", "inst-1", "call-a"); a[0].ClientToken != want {
		t.Fatalf("token %q, want DeriveToken(\"\", inst-1, call-a) = %q", a[0].ClientToken, want)
	}
	if !h.caps.IdempotentEnqueue {
		return
	}
	// The same job again: idempotent.
	again := h.enqueue(t, queue.Job{ID: "call-a", Op: "StartOutboundVoiceContact", Input: json.RawMessage(` {"InstanceId": "inst-1", "DestinationPhoneNumber": "+15550100"}`)})
	if again[0].ClientToken != a[0].ClientToken {
		t.Fatalf("re-enqueue: token %q, want %q", again[0].ClientToken, a[0].ClientToken)
	}
	cases := []struct {
		name  string
		jobs  []queue.Job
		index int
		field string
	}{
		{"known id, other input", []queue.Job{
			{ID: "call-new", Op: "StartTaskContact", Input: json.RawMessage(`{"Name":"n"}`)},
			{ID: "call-a", Op: "StartOutboundVoiceContact", Input: json.RawMessage(`{"InstanceId":"inst-1","DestinationPhoneNumber":"+15550199"}`)},
		}, 1, "ID"},
		{"token of a stored job", []queue.Job{
			{ID: "call-b", Op: "StartOutboundVoiceContact", Input: in, ClientToken: a[0].ClientToken},
		}, 0, "ClientToken"},
		{"one token twice in a batch", []queue.Job{
			{ID: "call-c", Op: "StartTaskContact", ClientToken: "shared-token"},
			{ID: "call-d", Op: "StartTaskContact", ClientToken: "shared-token"},
		}, 1, "ClientToken"},
	}
	for _, c := range cases {
		_, err := h.q.Enqueue(h.ctx, c.jobs...)
		var ce *queue.ConflictError
		if !errors.Is(err, queue.ErrConflict) || !errors.As(err, &ce) {
			t.Fatalf("%s: err %v, want a *ConflictError", c.name, err)
		}
		if ce.Index != c.index || ce.Field != c.field || ce.ID != c.jobs[c.index].ID {
			t.Errorf("%s: conflict %+v, want index %d field %s id %s", c.name, ce, c.index, c.field, c.jobs[c.index].ID)
		}
		for _, j := range c.jobs {
			if j.ID == "call-a" {
				continue
			}
			if _, err := h.q.Get(h.ctx, j.ID); !errors.Is(err, queue.ErrNotFound) {
				t.Errorf("%s: job %s was stored (Get err %v)", c.name, j.ID, err)
			}
		}
	}
	ls := h.leaseWait(t, 1, Long, 10*h.unit)
	h.leaseNone(t, "after the refused batches")
	if len(ls) != 1 || ls[0].Job.ID != "call-a" {
		t.Fatalf("leased %v, want call-a only", ls)
	}
}

func canceler(t *testing.T, h *harness) queue.Canceler {
	c, ok := h.q.(queue.Canceler)
	if !ok {
		t.Skipf("%T does not implement queue.Canceler", h.q)
	}
	return c
}

// testCancelPurge: cancel a waiting job (it is never leased), refuse to
// cancel a leased or finished one, purge by status and age.
func testCancelPurge(t *testing.T, h *harness) {
	c := canceler(t, h)
	now := time.Now()
	jobs := h.enqueue(t,
		queue.Job{ID: "cancel-me", Op: "StartTaskContact"},
		queue.Job{ID: "run-me", Op: "StartTaskContact"},
		queue.Job{ID: "later", Op: "StartTaskContact", NotBefore: now.Add(time.Hour)},
	)
	j, err := c.Cancel(h.ctx, "cancel-me")
	if err != nil || j.Status != queue.StatusDead || j.DeadReason != queue.ReasonCanceled {
		t.Fatalf("Cancel = %+v, %v; want dead, canceled", j, err)
	}
	l := h.leaseOne(t, Long)
	if l.Job.ID != "run-me" {
		t.Fatalf("leased %s, want run-me", l.Job.ID)
	}
	if _, err := c.Cancel(h.ctx, "run-me"); !errors.Is(err, queue.ErrNotCancelable) {
		t.Fatalf("Cancel of a leased job: %v, want ErrNotCancelable", err)
	}
	if err := h.q.Ack(h.ctx, l.Receipt); err != nil {
		t.Fatal(err)
	}
	var se *queue.StateError
	if _, err := c.Cancel(h.ctx, "run-me"); !errors.As(err, &se) || se.Status != queue.StatusSucceeded {
		t.Fatalf("Cancel of a finished job: %v, want a StateError saying succeeded", err)
	}
	if _, err := c.Cancel(h.ctx, "no-such-job"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Cancel of an unknown job: %v, want ErrNotFound", err)
	}
	h.enqueue(t, queue.Job{ID: "now-1", Op: "StartTaskContact"}, queue.Job{ID: "now-2", Op: "StartTaskContact"})
	if n, err := c.Purge(h.ctx, queue.Purge{Delayed: true}); err != nil || n != 1 {
		t.Fatalf("Purge delayed = %d, %v; want 1", n, err)
	}
	if _, err := h.q.Get(h.ctx, "later"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("purged job still there: %v", err)
	}
	if n, err := c.Purge(h.ctx, queue.Purge{Queued: true, Before: jobs[0].EnqueuedAt}); err != nil || n != 0 {
		t.Fatalf("Purge before the first enqueue = %d, %v; want 0", n, err)
	}
	if n, err := c.Purge(h.ctx, queue.Purge{Queued: true}); err != nil || n != 2 {
		t.Fatalf("Purge queued = %d, %v; want 2", n, err)
	}
	h.leaseNone(t, "after purging")
	h.wantStatus(t, "cancel-me", queue.StatusDead)
}

// testCancelRace: cancels racing leases; every job is either leased once
// (and its cancel refused) or canceled (and never leased).
func testCancelRace(t *testing.T, h *harness) {
	c := canceler(t, h)
	const n = 200
	jobs := make([]queue.Job, n)
	for i := range jobs {
		jobs[i] = queue.Job{ID: fmt.Sprintf("race-%03d", i), Op: "StartTaskContact"}
	}
	h.enqueue(t, jobs...)
	var mu sync.Mutex
	leased := map[string]int{}
	canceled := map[string]bool{}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range 50 {
			ls, err := h.q.Lease(h.ctx, 10, Long)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			for _, l := range ls {
				leased[l.Job.ID]++
			}
			mu.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		for _, j := range jobs {
			_, err := c.Cancel(h.ctx, j.ID)
			switch {
			case err == nil:
				mu.Lock()
				canceled[j.ID] = true
				mu.Unlock()
			case !errors.Is(err, queue.ErrNotCancelable):
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	for _, j := range jobs {
		switch l, cx := leased[j.ID], canceled[j.ID]; {
		case cx && l > 0:
			t.Errorf("%s: canceled and leased %d times", j.ID, l)
		case !cx && l != 1 && l != 0:
			t.Errorf("%s: leased %d times", j.ID, l)
		case !cx && l == 0:
			// Neither yet: the lease loop ended first; it must still be leasable.
			h.wantStatus(t, j.ID, queue.StatusQueued)
		}
	}
	t.Logf("%d canceled, %d leased", len(canceled), len(leased))
}
