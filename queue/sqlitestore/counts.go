package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// countsSchema keeps queue.Stats cheap at any size. The counts table holds
// one row per (state, op, dead_reason) with the number of jobs in it; the
// triggers maintain it inside the same transaction as every insert, state
// change and delete of a job, so it cannot drift from the jobs table
// whichever statement (present or future) changes a job. jobs_pending
// finds the in-flight and delayed jobs (state 0, visible later than now)
// without touching the ready ones, and jobs_age answers the oldest
// unfinished job with one index probe.
const countsSchema = `
CREATE TABLE IF NOT EXISTS counts (
	state  INTEGER NOT NULL,
	op     TEXT    NOT NULL,
	reason TEXT    NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (state, op, reason)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS jobs_count_insert AFTER INSERT ON jobs BEGIN
	INSERT INTO counts VALUES (NEW.state, NEW.op, NEW.dead_reason, 1)
		ON CONFLICT (state, op, reason) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS jobs_count_delete AFTER DELETE ON jobs BEGIN
	UPDATE counts SET n = n - 1 WHERE state = OLD.state AND op = OLD.op AND reason = OLD.dead_reason;
END;
CREATE TRIGGER IF NOT EXISTS jobs_count_update AFTER UPDATE OF state, op, dead_reason ON jobs
	WHEN OLD.state IS NOT NEW.state OR OLD.op IS NOT NEW.op OR OLD.dead_reason IS NOT NEW.dead_reason BEGIN
	UPDATE counts SET n = n - 1 WHERE state = OLD.state AND op = OLD.op AND reason = OLD.dead_reason;
	INSERT INTO counts VALUES (NEW.state, NEW.op, NEW.dead_reason, 1)
		ON CONFLICT (state, op, reason) DO UPDATE SET n = n + 1;
END;
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs(visible_at) WHERE state = 0;
CREATE INDEX IF NOT EXISTS jobs_age     ON jobs(enqueued_at) WHERE state = 0;
`

// countsVersion marks, in the meta table, that counts was built from the
// jobs table; a database from before the counters gets them built once.
const countsVersion = "1"

// countFromScan is the ground truth the counts table must equal.
const countFromScan = `SELECT state, op, dead_reason, COUNT(*) FROM jobs GROUP BY state, op, dead_reason`

// initCounts builds the counts table from the jobs table once (a database
// created before the counters existed), in one transaction with marking
// it built. It requires the writer connection, before the writer runs.
func initCounts(ctx context.Context, c *sql.Conn) error {
	var v string
	err := c.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'counts'`).Scan(&v)
	if err == nil && v == countsVersion {
		return nil
	}
	if err != nil && !isNoRows(err) {
		return fmt.Errorf("sqlitestore: reading the counters' version: %w", err)
	}
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: building the counters: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, q := range []string{
		`DELETE FROM counts`,
		`INSERT INTO counts (state, op, reason, n) ` + countFromScan,
		`INSERT INTO meta (key, value) VALUES ('counts', '` + countsVersion + `') ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlitestore: building the counters: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: building the counters: %w", err)
	}
	return nil
}

type countKey struct {
	state      int
	op, reason string
}

// verifyCounts compares the counts table with a full scan of the jobs
// table in one read transaction. IntegrityCheck calls it.
func (s *Store) verifyCounts(ctx context.Context) error {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	read := func(q string) (map[countKey]int64, error) {
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		m := map[countKey]int64{}
		for rows.Next() {
			var k countKey
			var n int64
			if err := rows.Scan(&k.state, &k.op, &k.reason, &n); err != nil {
				return nil, err
			}
			if n != 0 {
				m[k] = n
			}
		}
		return m, rows.Err()
	}
	kept, err := read(`SELECT state, op, reason, n FROM counts`)
	if err != nil {
		return err
	}
	scanned, err := read(countFromScan)
	if err != nil {
		return err
	}
	for k, n := range scanned {
		if kept[k] != n {
			return fmt.Errorf("sqlitestore: counters disagree with the jobs: state %d op %q reason %q counted %d, stored %d", k.state, k.op, k.reason, kept[k], n)
		}
	}
	for k, n := range kept {
		if _, ok := scanned[k]; !ok {
			return fmt.Errorf("sqlitestore: counters disagree with the jobs: state %d op %q reason %q counted %d, stored 0", k.state, k.op, k.reason, n)
		}
	}
	return nil
}
