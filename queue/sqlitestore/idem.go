package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tollgatehq/tollgate/queue"
)

// migrations add what later versions need to a database an older version
// created: the job's digest (conflict detection), the lease owner (restart
// recovery), the pool a job is pinned to (queue.Pinner) and the token index
// (one token, one job).
var migrations = []struct{ column, ddl string }{
	{"digest", `ALTER TABLE jobs ADD COLUMN digest TEXT NOT NULL DEFAULT ''`},
	{"owner", `ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT ''`},
	{"pool", `ALTER TABLE jobs ADD COLUMN pool TEXT NOT NULL DEFAULT ''`},
}

func migrate(ctx context.Context, c *sql.Conn) error {
	rows, err := c.QueryContext(ctx, `SELECT name FROM pragma_table_info('jobs')`)
	if err != nil {
		return fmt.Errorf("sqlitestore: read schema: %w", err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		have[n] = true
	}
	rows.Close()
	for _, m := range migrations {
		if !have[m.column] {
			if _, err := c.ExecContext(ctx, m.ddl); err != nil {
				return fmt.Errorf("sqlitestore: add column %s: %w", m.column, err)
			}
		}
	}
	if _, err := c.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS jobs_token ON jobs(token)`); err != nil {
		return fmt.Errorf("sqlitestore: create token index: %w", err)
	}
	return nil
}

// xstmts are the statements of idempotency, cancel/purge and lease owners,
// prepared on the writer connection after migrate.
type xstmts struct {
	insert, lookup, tokenHolder, lease, cancel, purge, release *sql.Stmt
}

var xstatements = map[string]string{
	"insert": `INSERT INTO jobs (id, op, input, priority, not_after, not_before, token, group_key, state, visible_at, enqueued_at, digest, pool)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
	"lookup":      `SELECT digest, op, input, token FROM jobs WHERE id = ?`,
	"tokenHolder": `SELECT id FROM jobs WHERE token = ? AND id <> ? LIMIT 1`,
	"lease":       `UPDATE jobs SET lease = ?, visible_at = ?, receives = receives + 1, owner = ? WHERE seq = ?`,
	// A job can be canceled while it waits: not leased, or its lease ended.
	"cancel": `UPDATE jobs SET state = 2, lease = NULL, dead_reason = ?1, dead_detail = ?2, finished_at = ?3
		WHERE id = ?4 AND state = 0 AND (lease IS NULL OR visible_at <= ?3)`,
	"purge": `DELETE FROM jobs WHERE state = 0 AND (lease IS NULL OR visible_at <= ?1)
		AND (?2 = 0 OR enqueued_at < ?2)
		AND ((?3 AND visible_at <= ?1) OR (?4 AND visible_at > ?1))`,
	// Leases of a process that is gone become visible at once.
	"release": `UPDATE jobs SET lease = NULL, visible_at = MIN(visible_at, ?1), owner = ''
		WHERE state = 0 AND lease IS NOT NULL AND owner = ?2`,
}

func prepareX(ctx context.Context, c *sql.Conn) (*xstmts, error) {
	x := &xstmts{}
	targets := map[string]**sql.Stmt{"insert": &x.insert, "lookup": &x.lookup, "tokenHolder": &x.tokenHolder,
		"lease": &x.lease, "cancel": &x.cancel, "purge": &x.purge, "release": &x.release}
	for name, q := range xstatements {
		st, err := c.PrepareContext(ctx, q)
		if err != nil {
			x.close()
			return nil, fmt.Errorf("sqlitestore: prepare %s: %w", name, err)
		}
		*targets[name] = st
	}
	return x, nil
}

func (x *xstmts) close() {
	for _, st := range []*sql.Stmt{x.insert, x.lookup, x.tokenHolder, x.lease, x.cancel, x.purge, x.release} {
		if st != nil {
			_ = st.Close()
		}
	}
}

// checkConflict decides, inside the writer's transaction, whether job i of
// a batch may be stored: known reports an ID stored with the same work
// (idempotent), a *queue.ConflictError other work under the ID or a token
// another job holds.
func (s *Store) checkConflict(w *wtx, i int, j queue.Job) (known bool, err error) {
	var digest, op, token string
	var input []byte
	err = s.x.lookup.QueryRowContext(w.ctx, j.ID).Scan(&digest, &op, &input, &token)
	switch {
	case err == nil:
		if digest == "" && input != nil { // a row from before digests
			digest = queue.Digest(queue.Job{Op: op, Input: input, ClientToken: token})
		}
		if digest != "" && digest != queue.Digest(j) {
			return true, &queue.ConflictError{Index: i, ID: j.ID, Field: "ID"}
		}
		return true, nil
	case !isNoRows(err):
		return false, err
	}
	var other string
	err = s.x.tokenHolder.QueryRowContext(w.ctx, j.ClientToken, j.ID).Scan(&other)
	switch {
	case err == nil:
		return false, &queue.ConflictError{Index: i, ID: j.ID, Field: "ClientToken", Other: other}
	case !isNoRows(err):
		return false, err
	}
	return false, nil
}

var _ queue.Canceler = (*Store)(nil)

// Cancel implements queue.Canceler. It runs in the writer, like Lease, so a
// job is either canceled before any lease or leased before the cancel.
func (s *Store) Cancel(ctx context.Context, id string) (queue.Job, error) {
	var out queue.Job
	err := s.do(ctx, false, func(w *wtx) error {
		res, err := s.x.cancel.ExecContext(w.ctx, queue.ReasonCanceled, "canceled by request", w.now.UnixNano(), id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		r, err := scanJob(w.st.byID.QueryRowContext(w.ctx, id), w.now)
		if isNoRows(err) {
			return queue.ErrNotFound
		}
		if err != nil {
			return err
		}
		out = r.job
		if n == 0 {
			return &queue.StateError{ID: id, Status: r.job.Status}
		}
		return nil
	})
	return out, err
}

// Purge implements queue.Canceler.
func (s *Store) Purge(ctx context.Context, p queue.Purge) (int, error) {
	q, d := p.Queued, p.Delayed
	if !q && !d {
		q, d = true, true
	}
	var n int64
	err := s.do(ctx, false, func(w *wtx) error {
		res, err := s.x.purge.ExecContext(w.ctx, w.now.UnixNano(), ns(p.Before), q, d)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
