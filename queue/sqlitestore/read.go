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
		return queue.Job{}, s.note(err)
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
			return nil, s.note(err)
		}
		out = append(out, r.job)
	}
	return out, s.note(rows.Err())
}

// Stats implements queue.Queue. It reads one consistent snapshot. Its cost
// does not grow with the ready, dead or succeeded jobs: the totals come
// from the counts table (counts.go), and only the jobs visible later than
// now (in flight or delayed) are visited, through the jobs_pending index.
func (s *Store) Stats(ctx context.Context) (queue.Stats, error) {
	if err := s.readable(ctx); err != nil {
		return queue.Stats{}, err
	}
	st, err := s.stats(ctx)
	return st, s.note(err)
}

func (s *Store) stats(ctx context.Context) (queue.Stats, error) {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return queue.Stats{}, err
	}
	defer func() { _ = tx.Rollback() }()
	now := s.o.Now()
	st := queue.Stats{ByOp: map[string]queue.OpStats{}, DeadByReason: map[string]int64{}}

	rows, err := tx.QueryContext(ctx, `SELECT state, op, reason, n FROM counts WHERE n != 0`)
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var state int
		var op, reason string
		var n int64
		if err := rows.Scan(&state, &op, &reason, &n); err != nil {
			rows.Close()
			return st, err
		}
		o := st.ByOp[op]
		switch state {
		case 0: // split below
			o.Ready += n
			st.Ready += n
		case 1:
			st.Succeeded += n
			continue
		case 2:
			o.Dead += n
			st.Dead += n
			st.DeadByReason[reason] += n
		}
		st.ByOp[op] = o
	}
	if err := rows.Close(); err != nil {
		return st, err
	}

	// Unfinished jobs visible later than now are in flight (leased) or
	// delayed; the rest are ready (an expired lease is ready again).
	rows, err = tx.QueryContext(ctx, `SELECT op, SUM(lease IS NOT NULL), SUM(lease IS NULL)
		FROM jobs INDEXED BY jobs_pending WHERE state = 0 AND visible_at > ? GROUP BY op`, now.UnixNano())
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var op string
		var inFlight, delayed int64
		if err := rows.Scan(&op, &inFlight, &delayed); err != nil {
			rows.Close()
			return st, err
		}
		o := st.ByOp[op]
		o.InFlight, o.Delayed = inFlight, delayed
		o.Ready -= inFlight + delayed
		st.ByOp[op] = o
		st.InFlight += inFlight
		st.Delayed += delayed
		st.Ready -= inFlight + delayed
	}
	if err := rows.Close(); err != nil {
		return st, err
	}

	var oldest sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MIN(enqueued_at) FROM jobs INDEXED BY jobs_age WHERE state = 0`).Scan(&oldest); err != nil {
		return st, err
	}
	if oldest.Valid && oldest.Int64 != 0 {
		st.OldestAge = now.Sub(time.Unix(0, oldest.Int64))
	}
	return st, nil
}
