package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/sqlitestore"
)

// TestOpenLost: once a store was created, a database that went missing,
// became zero-length, lost its tables or was swapped for another store's
// fails Open with ErrLost instead of silently becoming an empty queue.
func TestOpenLost(t *testing.T) {
	ctx := context.Background()
	type step struct {
		name   string
		damage func(path, other string) error
	}
	for i, st := range []step{
		{"zero length", func(path, _ string) error { return os.Truncate(path, 0) }},
		{"missing", func(path, _ string) error {
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
			return nil
		}},
		{"no tables", func(path, _ string) error {
			db, err := sql.Open("sqlite", path)
			if err != nil {
				return err
			}
			defer db.Close()
			_, err = db.Exec(`DROP TABLE jobs`)
			return err
		}},
		{"another store's", func(path, other string) error {
			b, err := os.ReadFile(other)
			if err != nil {
				return err
			}
			return os.WriteFile(path, b, 0o600)
		}},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "queue.db")
		other := filepath.Join(dir, "other.db")
		for _, p := range []string{path, other} {
			s, err := sqlitestore.Open(p, sqlitestore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Enqueue(ctx, queue.Job{Op: "X"}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.damage(path, other); err != nil {
			t.Fatalf("step %d (%s): %v", i, st.name, err)
		}
		s, err := sqlitestore.Open(path, sqlitestore.Options{})
		if err == nil {
			stats, _ := s.Stats(ctx)
			s.Close()
			t.Fatalf("step %d (%s): Open succeeded (ready %d): the lost job vanished without a word", i, st.name, stats.Ready)
		}
		var le *sqlitestore.LostError
		if !errors.Is(err, sqlitestore.ErrLost) || !errors.As(err, &le) {
			t.Fatalf("step %d (%s): got %v, want ErrLost", i, st.name, err)
		}
		if !strings.Contains(err.Error(), "queue.db-id") || !strings.Contains(err.Error(), "queue.db") {
			t.Fatalf("step %d (%s): the error does not name the files: %v", i, st.name, err)
		}
	}
}

// TestOpenFresh: without a marker, a missing or zero-length file is a new
// store (nothing was ever committed to it), and Open writes the marker.
func TestOpenFresh(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "queue.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if b, err := os.ReadFile(path + sqlitestore.MarkerSuffix); err != nil || len(strings.TrimSpace(string(b))) != 32 {
		t.Fatalf("marker: %q %v", b, err)
	}
	// Reopening the same store is fine.
	s, err = sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestCountersBuiltForOldDatabase: a database from before the counters (the
// jobs table only, no marker) is adopted: counters built once from its
// rows, marker written, Stats right.
func TestCountersBuiltForOldDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "queue.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`CREATE TABLE jobs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, op TEXT NOT NULL, input BLOB,
		priority INTEGER NOT NULL, not_after INTEGER NOT NULL DEFAULT 0, not_before INTEGER NOT NULL DEFAULT 0,
		token TEXT NOT NULL, group_key TEXT NOT NULL DEFAULT '', state INTEGER NOT NULL, visible_at INTEGER NOT NULL,
		lease TEXT, receives INTEGER NOT NULL DEFAULT 0, free_used INTEGER NOT NULL DEFAULT 0, enqueued_at INTEGER NOT NULL,
		last_error TEXT NOT NULL DEFAULT '', dead_reason TEXT NOT NULL DEFAULT '', dead_detail TEXT NOT NULL DEFAULT '',
		finished_at INTEGER NOT NULL DEFAULT 0);
		INSERT INTO jobs (id, op, priority, token, state, visible_at, enqueued_at, dead_reason) VALUES
		('a', 'X', 0, 't', 0, 1, 1, ''), ('b', 'X', 0, 't', 0, 1, 1, ''), ('c', 'Y', 0, 't', 2, 1, 1, 'expired'),
		('d', 'Y', 0, 't', 1, 1, 1, '')`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Ready != 2 || st.Dead != 1 || st.Succeeded != 1 || st.DeadByReason["expired"] != 1 || st.ByOp["X"].Ready != 2 {
		t.Fatalf("stats of the adopted database: %+v", st)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCountersFollowEveryChange: after a random mix of every operation the
// counters equal a full count (IntegrityCheck compares them) and Stats
// equals the states Get reports.
func TestCountersFollowEveryChange(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	s := open(t, sqlitestore.Options{Now: clock, MaxReceives: 3, DoneRetention: time.Hour})
	rng := rand.New(rand.NewPCG(1, 2))
	var ids []string
	var held []queue.Lease
	for step := range 600 {
		switch k := rng.IntN(10); {
		case k < 3:
			j := queue.Job{Op: []string{"A", "B"}[rng.IntN(2)]}
			if rng.IntN(4) == 0 {
				j.NotBefore = now.Add(time.Duration(rng.IntN(60)) * time.Second)
			}
			out, err := s.Enqueue(ctx, j)
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			ids = append(ids, out[0].ID)
		case k < 5:
			ls, err := s.Lease(ctx, 1+rng.IntN(3), time.Duration(1+rng.IntN(20))*time.Second)
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			held = append(held, ls...)
		case k < 8 && len(held) > 0:
			i := rng.IntN(len(held))
			l := held[i]
			held = append(held[:i], held[i+1:]...)
			var err error
			switch rng.IntN(3) {
			case 0:
				err = s.Ack(ctx, l.Receipt)
			case 1:
				err = s.Requeue(ctx, l.Receipt, queue.Requeue{Delay: time.Duration(rng.IntN(10)) * time.Second})
			default:
				err = s.DeadLetter(ctx, l.Receipt, []string{"failed", "client-fault"}[rng.IntN(2)], "x")
			}
			if err != nil && !errors.Is(err, queue.ErrStaleReceipt) {
				t.Fatalf("step %d: %v", step, err)
			}
		case k == 8 && len(ids) > 0:
			id := ids[rng.IntN(len(ids))]
			if rng.IntN(2) == 0 {
				_, _ = s.Redrive(ctx, queue.Redrive{Selector: queue.Selector{IDs: []string{id}}})
			} else {
				_, _ = s.PurgeDead(ctx, queue.Selector{IDs: []string{id}})
			}
		default:
			now = now.Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
		}
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want queue.Stats
	for _, id := range ids {
		j, err := s.Get(ctx, id)
		if errors.Is(err, queue.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case j.Status == queue.StatusDead:
			want.Dead++
		case j.Status == queue.StatusSucceeded:
			want.Succeeded++
		case j.Status == queue.StatusInFlight:
			want.InFlight++
		case j.VisibleAt.After(now):
			want.Delayed++
		default:
			want.Ready++
		}
	}
	if st.Ready != want.Ready || st.InFlight != want.InFlight || st.Delayed != want.Delayed || st.Dead != want.Dead || st.Succeeded != want.Succeeded {
		t.Fatalf("Stats %+v, counted from Get: %+v", st, want)
	}
}

// TestHealthCorruptMiddle: with pages in the middle of queue.db overwritten,
// Health must not report ok: the background quick_check (or the first
// failing operation) marks the store unhealthy.
func TestHealthCorruptMiddle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "queue.db")
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	big := queue.Job{Op: "X", Input: []byte(`{"pad":"` + strings.Repeat("p", 2000) + `"}`)}
	for range 20 {
		batch := make([]queue.Job, 100)
		for i := range batch {
			batch[i] = big
		}
		if _, err := s.Enqueue(ctx, batch...); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Health(ctx); err != nil {
		t.Fatalf("healthy store: %v", err)
	}
	s.Close()
	// Checkpointed on close: the rows live in queue.db. Overwrite 64 KiB in
	// the middle with garbage.
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	if _, err := f.WriteAt(garbage, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s, err = sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		t.Logf("Open refused the corrupt file: %v", err)
		return
	}
	defer s.Close()
	deadline := time.Now().Add(30 * time.Second)
	for s.CheckState() == "running" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	err = s.Health(ctx)
	if !errors.Is(err, sqlitestore.ErrUnhealthy) {
		t.Fatalf("Health with a corrupt middle = %v (check %s), want ErrUnhealthy", err, s.CheckState())
	}
	if s.CheckState() != "failed" {
		t.Fatalf("check state %q, want failed", s.CheckState())
	}
}
