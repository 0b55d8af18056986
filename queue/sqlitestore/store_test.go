package sqlitestore_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/queuetest"
	"github.com/tollgatehq/tollgate/queue/sqlitestore"
)

func open(t testing.TB, o sqlitestore.Options) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "queue.db"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) queue.Queue {
		return open(t, sqlitestore.Options{MaxReceives: queuetest.MaxReceives, MaxFreeRequeues: queuetest.MaxFreeRequeues})
	})
}

// TestReopen: work survives Close and Open; a lease of the closed store is
// released at the next Open (its owner is gone), so the job runs again at
// once and the old receipt is stale.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := s.Enqueue(ctx, queue.Job{ID: "a", Op: "X", Input: []byte(`{"x":1}`)}, queue.Job{ID: "b", Op: "X"}, queue.Job{ID: "c", Op: "X"})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := s.Lease(ctx, 2, time.Hour)
	if err != nil || len(ls) != 2 {
		t.Fatalf("Lease: %v %v", ls, err)
	}
	if err := s.Ack(ctx, ls[0].Receipt); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	type step struct {
		id   string
		want queue.Status
	}
	for i, st := range []step{{"a", queue.StatusSucceeded}, {"b", queue.StatusQueued}, {"c", queue.StatusQueued}} {
		j, err := s.Get(ctx, st.id)
		if err != nil || j.Status != st.want {
			t.Fatalf("step %d: got %v, %v want %s", i, j.Status, err, st.want)
		}
		if st.id == "b" && j.ClientToken != in[1].ClientToken {
			t.Fatalf("token changed across reopen")
		}
	}
	if n := s.Recovered(); n != 1 {
		t.Fatalf("Recovered() = %d, want 1", n)
	}
	if err := s.Ack(ctx, ls[1].Receipt); !errors.Is(err, queue.ErrStaleReceipt) {
		t.Fatalf("Ack with a receipt from before the reopen: %v, want ErrStaleReceipt", err)
	}
}

func TestLeaseWaitWakesOnEnqueue(t *testing.T) {
	ctx := context.Background()
	s := open(t, sqlitestore.Options{LeaseWait: 5 * time.Second})
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = s.Enqueue(ctx, queue.Job{Op: "X"})
	}()
	start := time.Now()
	ls, err := s.Lease(ctx, 1, time.Minute)
	if err != nil || len(ls) != 1 {
		t.Fatalf("Lease: %v %v", ls, err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("woke after %v, want soon after the enqueue", el)
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := s.Lease(cctx, 1, time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lease on an empty queue with a short ctx: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := sqlitestore.Open("", sqlitestore.Options{}); !errors.Is(err, queue.ErrInvalidArgument) {
		t.Fatalf("Open(\"\") = %v", err)
	}
	if _, err := sqlitestore.Open(filepath.Join(t.TempDir(), "missing", "dir", "q.db"), sqlitestore.Options{}); err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
	bad := filepath.Join(t.TempDir(), "garbage.db")
	if err := writeFile(bad, strings.Repeat("not a database ", 1000)); err != nil {
		t.Fatal(err)
	}
	if s, err := sqlitestore.Open(bad, sqlitestore.Options{}); err == nil {
		s.Close()
		t.Fatal("Open of a garbage file succeeded")
	}
}
