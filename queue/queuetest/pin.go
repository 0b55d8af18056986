package queuetest

import (
	"errors"
	"testing"

	"github.com/tollgatehq/tollgate/queue"
)

// testPin: a backend that implements queue.Pinner keeps a job's pool on
// the job across lease, requeue, lease expiry, dead letter and redrive; a
// pin set while the job is leased leaves the receipt valid; Pool given at
// Enqueue is kept; unknown jobs and bad names are refused.
func testPin(t *testing.T, h *harness) {
	p, ok := h.q.(queue.Pinner)
	if !ok {
		t.Skipf("%T does not implement queue.Pinner", h.q)
	}
	got := h.enqueue(t,
		queue.Job{ID: "pin-a", Op: "StartOutboundVoiceContact"},
		queue.Job{ID: "pin-b", Op: "StartOutboundVoiceContact", Pool: "west"},
	)
	if got[0].Pool != "" || got[1].Pool != "west" {
		t.Fatalf("Enqueue returned pools %q %q, want \"\" and west", got[0].Pool, got[1].Pool)
	}
	if g := h.get(t, "pin-b"); g.Pool != "west" {
		t.Fatalf("Get after Enqueue: pool %q, want west", g.Pool)
	}
	ls := h.leaseWait(t, 2, Long, 10*h.unit)
	var la queue.Lease
	for _, l := range ls {
		if l.Job.ID == "pin-a" {
			la = l
		} else if err := h.q.Ack(h.ctx, l.Receipt); err != nil {
			t.Fatalf("Ack pin-b: %v", err)
		}
	}
	// Pinned while leased, before the requeue: the receipt stays good.
	if err := p.Pin(h.ctx, "pin-a", "east-1"); err != nil {
		t.Fatalf("Pin: %v", err)
	}
	if g := h.get(t, "pin-a"); g.Pool != "east-1" {
		t.Fatalf("Get after Pin: pool %q, want east-1", g.Pool)
	}
	if err := h.q.Requeue(h.ctx, la.Receipt, queue.Requeue{Reason: "unknown outcome", Free: true}); err != nil {
		t.Fatalf("Requeue after Pin: %v", err)
	}
	l := h.leaseOne(t, Long)
	if l.Job.ID != "pin-a" || l.Job.Pool != "east-1" {
		t.Fatalf("leased %s with pool %q after requeue, want pin-a on east-1", l.Job.ID, l.Job.Pool)
	}
	// Waiting for its pool, the job gives its receives back: any number
	// of times, spending no free requeue.
	for i := range 3 {
		if err := h.q.Requeue(h.ctx, l.Receipt, queue.Requeue{Reason: "pool out", Return: true}); err != nil {
			t.Fatalf("step %d: Requeue(Return): %v", i, err)
		}
		if g := h.get(t, "pin-a"); g.Receives != 1 || g.FreeRequeues != 1 {
			t.Fatalf("step %d: after Requeue(Return): Receives %d FreeRequeues %d, want 1 and 1 (as before the lease)", i, g.Receives, g.FreeRequeues)
		}
		if i < 2 {
			l = h.leaseOne(t, Long)
		} else {
			l = h.leaseOne(t, h.unit)
		}
	}
	// The lease runs out: delivered again, still pinned.
	l = h.leaseWait(t, 1, Long, 10*h.unit)[0]
	if l.Job.Pool != "east-1" {
		t.Fatalf("after the lease expired: pool %q, want east-1", l.Job.Pool)
	}
	if err := h.q.DeadLetter(h.ctx, l.Receipt, queue.ReasonFailed, "test"); err != nil {
		t.Fatalf("DeadLetter: %v", err)
	}
	if d := h.wantStatus(t, "pin-a", queue.StatusDead); d.Pool != "east-1" {
		t.Fatalf("dead letter: pool %q, want east-1", d.Pool)
	}
	if n, err := h.q.Redrive(h.ctx, queue.Redrive{Selector: queue.Selector{IDs: []string{"pin-a"}}}); err != nil || n != 1 {
		t.Fatalf("Redrive: %d, %v", n, err)
	}
	l = h.leaseOne(t, Long)
	if l.Job.Pool != "east-1" {
		t.Fatalf("after Redrive: pool %q, want east-1 (a redrive keeps the pin)", l.Job.Pool)
	}
	if err := h.q.Ack(h.ctx, l.Receipt); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if err := p.Pin(h.ctx, "pin-missing", "east-1"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Pin of an unknown job: %v, want ErrNotFound", err)
	}
	// An empty pool removes the pin.
	if err := p.Pin(h.ctx, "pin-a", ""); err != nil {
		t.Fatalf("Pin(\"\") (unpin): %v", err)
	}
	if g, err := h.q.Get(h.ctx, "pin-a"); err != nil || g.Pool != "" {
		t.Fatalf("Get after unpin: pool %q, %v; want none", g.Pool, err)
	}
	for _, bad := range []string{"East", "a_b"} {
		if err := p.Pin(h.ctx, "pin-a", bad); !errors.Is(err, queue.ErrInvalidArgument) {
			t.Fatalf("Pin(%q): %v, want ErrInvalidArgument", bad, err)
		}
	}
	if _, err := h.q.Enqueue(h.ctx, queue.Job{Op: "StartOutboundVoiceContact", Pool: "Bad Pool"}); !errors.Is(err, queue.ErrInvalidJob) {
		t.Fatalf("Enqueue with a bad Pool: %v, want ErrInvalidJob", err)
	}
}
