package queue_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/queuetest"
)

func TestMemoryConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) queue.Queue {
		return queue.NewMemory(queue.MemoryOptions{
			MaxReceives:     queuetest.MaxReceives,
			MaxFreeRequeues: queuetest.MaxFreeRequeues,
		})
	})
}

// TestMemoryVisibilitySynctest walks a lease through its timeout in fake time.
func TestMemoryVisibilitySynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		q := queue.NewMemory(queue.MemoryOptions{MaxReceives: 2})
		in, err := q.Enqueue(ctx, queue.Job{Op: "StartTaskContact"})
		if err != nil {
			t.Fatal(err)
		}
		type step struct {
			sleep     time.Duration
			wantLease bool
			wantRecv  int
		}
		// Visibility 30 s: leased at 0, visible again at 30 s, leased again,
		// then at 60 s the second timeout makes two failed receives: dead.
		steps := []step{
			{0, true, 1},
			{29 * time.Second, false, 0},
			{time.Second, true, 2},
			{30 * time.Second, false, 0},
		}
		for i, s := range steps {
			time.Sleep(s.sleep)
			ls, err := q.Lease(ctx, 1, 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(ls) == 1; got != s.wantLease {
				t.Fatalf("step %d: got lease %v want %v", i, got, s.wantLease)
			}
			if s.wantLease && ls[0].Job.Receives != s.wantRecv {
				t.Fatalf("step %d: got receives %d want %d", i, ls[0].Job.Receives, s.wantRecv)
			}
		}
		j, err := q.Get(ctx, in[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != queue.StatusDead || j.DeadReason != queue.ReasonMaxReceives {
			t.Fatalf("got %s/%s want dead/max-receives", j.Status, j.DeadReason)
		}
	})
}

func TestMemoryDoneRetention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		q := queue.NewMemory(queue.MemoryOptions{DoneRetention: time.Hour})
		in, _ := q.Enqueue(ctx, queue.Job{Op: "X", Input: []byte(`{"big":"input"}`)})
		ls, _ := q.Lease(ctx, 1, time.Minute)
		if err := q.Ack(ctx, ls[0].Receipt); err != nil {
			t.Fatal(err)
		}
		j, err := q.Get(ctx, in[0].ID)
		if err != nil || j.Status != queue.StatusSucceeded || j.Input != nil {
			t.Fatalf("after ack: %+v, %v; want succeeded without input", j, err)
		}
		time.Sleep(time.Hour + time.Second)
		if _, err := q.Stats(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Get(ctx, in[0].ID); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("after retention: %v, want ErrNotFound", err)
		}
	})
}
