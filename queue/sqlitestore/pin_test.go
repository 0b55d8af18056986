package sqlitestore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/sqlitestore"
)

// TestPinMigratesAndSurvivesRestart: a database from before pools (no pool
// column) gains the column at Open; a pin is durable across a reopen and is
// on the job every lease returns.
func TestPinMigratesAndSurvivesRestart(t *testing.T) {
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
		INSERT INTO jobs (id, op, priority, token, state, visible_at, enqueued_at) VALUES ('old', 'StartOutboundVoiceContact', 0, 't-old', 0, 1, 1)`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := s.Lease(ctx, 1, time.Minute)
	if err != nil || len(ls) != 1 || ls[0].Job.Pool != "" {
		t.Fatalf("lease of the old job: %+v %v", ls, err)
	}
	if err := s.Pin(ctx, "old", "east"); err != nil {
		t.Fatalf("Pin: %v", err)
	}
	if err := s.Requeue(ctx, ls[0].Receipt, queue.Requeue{Free: true, Reason: "unknown outcome"}); err != nil {
		t.Fatalf("Requeue: %v", err)
	}
	s.Close()
	s, err = sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if j, err := s.Get(ctx, "old"); err != nil || j.Pool != "east" {
		t.Fatalf("Get after reopen: pool %q, %v; want east", j.Pool, err)
	}
	ls, err = s.Lease(ctx, 1, time.Minute)
	if err != nil || len(ls) != 1 || ls[0].Job.Pool != "east" {
		t.Fatalf("lease after reopen: %+v %v; want the job pinned to east", ls, err)
	}
}
