package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/tollgatehq/tollgate/queue"
)

// outcomeSchema keeps the contacts a job started and how they ended in a
// table of their own, so a database written by an older version gains it
// without a migration; the trigger drops a job's outcome with the job
// (pruned success records, purged dead letters).
const outcomeSchema = `
CREATE TABLE IF NOT EXISTS outcomes (
	id          TEXT PRIMARY KEY,
	contact_ids TEXT NOT NULL DEFAULT '[]',   -- JSON array of strings
	outcome     TEXT NOT NULL DEFAULT '',
	reason      TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER IF NOT EXISTS outcomes_gc AFTER DELETE ON jobs
BEGIN
	DELETE FROM outcomes WHERE id = OLD.id;
END;
`

var _ queue.OutcomeRecorder = (*Store)(nil)

// RecordOutcome implements queue.OutcomeRecorder: one read-modify-write in
// the writer's group commit.
func (s *Store) RecordOutcome(ctx context.Context, id string, o queue.ContactOutcome) error {
	o, err := queue.CheckOutcome(o)
	if err != nil {
		return err
	}
	return s.do(ctx, false, func(w *wtx) error {
		var one int
		err := s.wconn.QueryRowContext(w.ctx, `SELECT 1 FROM jobs WHERE id = ?`, id).Scan(&one)
		if isNoRows(err) {
			return queue.ErrNotFound
		}
		if err != nil {
			return err
		}
		var j queue.Job
		if err := scanOutcome(s.wconn.QueryRowContext(w.ctx, `SELECT contact_ids, outcome, reason FROM outcomes WHERE id = ?`, id), &j); err != nil {
			return err
		}
		queue.ApplyOutcome(&j, o)
		ids, err := json.Marshal(j.ContactIDs)
		if err != nil {
			return err
		}
		_, err = s.wconn.ExecContext(w.ctx, `INSERT INTO outcomes (id, contact_ids, outcome, reason) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET contact_ids = excluded.contact_ids, outcome = excluded.outcome, reason = excluded.reason`,
			id, string(ids), j.Outcome, j.OutcomeReason)
		return err
	})
}

// readOutcome fills j's outcome fields from the outcomes table.
func (s *Store) readOutcome(ctx context.Context, j *queue.Job) error {
	return scanOutcome(s.rdb.QueryRowContext(ctx, `SELECT contact_ids, outcome, reason FROM outcomes WHERE id = ?`, j.ID), j)
}

// scanOutcome reads one outcomes row into j; no row leaves j as it is.
func scanOutcome(r *sql.Row, j *queue.Job) error {
	var ids string
	err := r.Scan(&ids, &j.Outcome, &j.OutcomeReason)
	if isNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ids != "" && ids != "[]" && ids != "null" {
		if err := json.Unmarshal([]byte(ids), &j.ContactIDs); err != nil {
			return fmt.Errorf("sqlitestore: outcomes.contact_ids of job %s: %w", j.ID, err)
		}
	}
	return nil
}
