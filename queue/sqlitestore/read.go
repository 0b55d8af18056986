package sqlitestore

import (
	"context"
	"database/sql"
	"time"

	"github.com/tollgatehq/tollgate/queue"
)

// Get implements queue.Queue.
func (s *Store) Get(ctx context.Context, id string) (queue.Job, error) {
	if err := s.readable(ctx); err != nil {
		return queue.Job{}, err
	}
	r, err := scanJob(s.rdb.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id), s.o.Now())
	if isNoRows(err) {
		return queue.Job{}, queue.ErrNotFound
	}
	if err != nil {
		return queue.Job{}, err
	}
	if err := s.readOutcome(ctx, &r.job); err != nil {
		return queue.Job{}, err
	}
	return r.job, nil
}

// ListDead implements queue.Queue.
func (s *Store) ListDead(ctx context.Context, o queue.ListOptions) ([]queue.Job, error) {
	if err := s.readable(ctx); err != nil {
		return nil, err
	}
	limit := queue.ListLimit(o)
	// Start after the cursor's (finished_at, seq); an unknown cursor ends
	// the listing, as in the memory queue.
	var afterAt, afterSeq int64 = -1, -1
	if o.After != "" {
		err := s.rdb.QueryRowContext(ctx, `SELECT finished_at, seq FROM jobs WHERE id = ? AND state = 2`, o.After).Scan(&afterAt, &afterSeq)
		if isNoRows(err) {
			return []queue.Job{}, nil
		}
		if err != nil {
			return nil, err
		}
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+jobCols+` FROM jobs
		WHERE state = 2 AND (?1 = '' OR dead_reason = ?1) AND (finished_at, seq) > (?2, ?3)
		ORDER BY finished_at, seq LIMIT ?4`, o.Reason, afterAt, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now := s.o.Now()
	out := []queue.Job{}
	for rows.Next() {
		r, err := scanJob(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, r.job)
	}
	return out, rows.Err()
}

// Stats implements queue.Queue. It reads one consistent snapshot.
func (s *Store) Stats(ctx context.Context) (queue.Stats, error) {
	if err := s.readable(ctx); err != nil {
		return queue.Stats{}, err
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return queue.Stats{}, err
	}
	defer func() { _ = tx.Rollback() }()
	now := s.o.Now()
	st := queue.Stats{ByOp: map[string]queue.OpStats{}, DeadByReason: map[string]int64{}}

	rows, err := tx.QueryContext(ctx, `SELECT op,
			SUM(visible_at <= ?1),
			SUM(visible_at > ?1 AND lease IS NOT NULL),
			SUM(visible_at > ?1 AND lease IS NULL),
			MIN(enqueued_at)
		FROM jobs WHERE state = 0 GROUP BY op`, now.UnixNano())
	if err != nil {
		return st, err
	}
	var oldest int64
	for rows.Next() {
		var op string
		var o queue.OpStats
		var minEnq int64
		if err := rows.Scan(&op, &o.Ready, &o.InFlight, &o.Delayed, &minEnq); err != nil {
			rows.Close()
			return st, err
		}
		st.ByOp[op] = o
		st.Ready += o.Ready
		st.InFlight += o.InFlight
		st.Delayed += o.Delayed
		if oldest == 0 || minEnq < oldest {
			oldest = minEnq
		}
	}
	if err := rows.Close(); err != nil {
		return st, err
	}
	if oldest != 0 {
		st.OldestAge = now.Sub(time.Unix(0, oldest))
	}

	rows, err = tx.QueryContext(ctx, `SELECT op, dead_reason, COUNT(*) FROM jobs WHERE state = 2 GROUP BY op, dead_reason`)
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var op, reason string
		var n int64
		if err := rows.Scan(&op, &reason, &n); err != nil {
			rows.Close()
			return st, err
		}
		o := st.ByOp[op]
		o.Dead += n
		st.ByOp[op] = o
		st.DeadByReason[reason] += n
		st.Dead += n
	}
	if err := rows.Close(); err != nil {
		return st, err
	}
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE state = 1`).Scan(&st.Succeeded)
	return st, err
}
