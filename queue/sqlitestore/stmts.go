package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tollgatehq/tollgate/queue"
)

// stmts are the writer's prepared statements, all on the writer connection.
type stmts struct {
	begin, savepoint, rollbackTo, release, commit, rollback *sql.Stmt

	insert, byID, ready, lease, kill      *sql.Stmt
	ack, extend, requeue, deadLetter      *sql.Stmt
	redriveID, redriveAll, redriveReason  *sql.Stmt
	purgeID, purgeAll, purgeReason, prune *sql.Stmt
	all                                   []*sql.Stmt
}

// jobCols are the columns scanJob reads, in order.
const jobCols = `seq, id, op, input, priority, not_after, not_before, token, group_key, state,
	visible_at, lease, receives, free_used, enqueued_at, last_error, dead_reason, dead_detail, finished_at, pool`

// Redrive and purge by reason both touch only dead rows; "state = 2" lets
// SQLite use the jobs_dead partial index.
var statements = map[string]string{
	"begin":      `BEGIN IMMEDIATE`,
	"savepoint":  `SAVEPOINT op`,
	"rollbackTo": `ROLLBACK TO op`,
	"release":    `RELEASE op`,
	"commit":     `COMMIT`,
	"rollback":   `ROLLBACK`,
	"insert": `INSERT INTO jobs (id, op, input, priority, not_after, not_before, token, group_key, state, visible_at, enqueued_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (id) DO NOTHING`,
	"byID":  `SELECT ` + jobCols + ` FROM jobs WHERE id = ?`,
	"ready": `SELECT ` + jobCols + ` FROM jobs WHERE state = 0 AND visible_at <= ? ORDER BY priority, visible_at, seq LIMIT ?`,
	"lease": `UPDATE jobs SET lease = ?, visible_at = ?, receives = receives + 1 WHERE seq = ?`,
	"kill":  `UPDATE jobs SET state = 2, lease = NULL, dead_reason = ?, dead_detail = ?, finished_at = ? WHERE seq = ?`,
	"ack": `UPDATE jobs SET state = 1, lease = NULL, input = NULL, finished_at = ?
		WHERE id = ? AND state = 0 AND lease = ?`,
	"extend": `UPDATE jobs SET visible_at = ? WHERE id = ? AND state = 0 AND lease = ?`,
	"requeue": `UPDATE jobs SET lease = NULL, visible_at = ?1,
		last_error = CASE WHEN ?2 = '' THEN last_error ELSE ?2 END,
		free_used = free_used + CASE WHEN ?3 AND NOT ?5 AND free_used < ?4 THEN 1 ELSE 0 END,
		receives = receives - CASE WHEN ?5 AND receives > 0 THEN 1 ELSE 0 END
		WHERE id = ?6 AND state = 0 AND lease = ?7`,
	"deadLetter": `UPDATE jobs SET state = 2, lease = NULL, dead_reason = ?, dead_detail = ?, finished_at = ?
		WHERE id = ? AND state = 0 AND lease = ?`,
	"redriveID": `UPDATE jobs SET state = 0, lease = NULL, visible_at = ?, receives = 0, free_used = 0,
		dead_reason = '', dead_detail = '', finished_at = 0,
		not_after = CASE WHEN ? THEN 0 ELSE not_after END
		WHERE id = ? AND state = 2`,
	"redriveAll": `UPDATE jobs SET state = 0, lease = NULL, visible_at = ?, receives = 0, free_used = 0,
		dead_reason = '', dead_detail = '', finished_at = 0,
		not_after = CASE WHEN ? THEN 0 ELSE not_after END
		WHERE state = 2`,
	"redriveReason": `UPDATE jobs SET state = 0, lease = NULL, visible_at = ?, receives = 0, free_used = 0,
		dead_reason = '', dead_detail = '', finished_at = 0,
		not_after = CASE WHEN ? THEN 0 ELSE not_after END
		WHERE state = 2 AND dead_reason = ?`,
	"purgeID":     `DELETE FROM jobs WHERE id = ? AND state = 2`,
	"purgeAll":    `DELETE FROM jobs WHERE state = 2`,
	"purgeReason": `DELETE FROM jobs WHERE state = 2 AND dead_reason = ?`,
	"prune": `DELETE FROM jobs WHERE seq IN
		(SELECT seq FROM jobs WHERE state = 1 AND finished_at < ? ORDER BY finished_at LIMIT 10000)`,
}

func prepare(ctx context.Context, c *sql.Conn) (*stmts, error) {
	st := &stmts{}
	targets := map[string]**sql.Stmt{
		"begin": &st.begin, "savepoint": &st.savepoint, "rollbackTo": &st.rollbackTo,
		"release": &st.release, "commit": &st.commit, "rollback": &st.rollback,
		"insert": &st.insert, "byID": &st.byID, "ready": &st.ready, "lease": &st.lease, "kill": &st.kill,
		"ack": &st.ack, "extend": &st.extend, "requeue": &st.requeue, "deadLetter": &st.deadLetter,
		"redriveID": &st.redriveID, "redriveAll": &st.redriveAll, "redriveReason": &st.redriveReason,
		"purgeID": &st.purgeID, "purgeAll": &st.purgeAll, "purgeReason": &st.purgeReason, "prune": &st.prune,
	}
	for name, q := range statements {
		s, err := c.PrepareContext(ctx, q)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("sqlitestore: prepare %s: %w", name, err)
		}
		*targets[name] = s
		st.all = append(st.all, s)
	}
	return st, nil
}

func (st *stmts) close() {
	for _, s := range st.all {
		_ = s.Close()
	}
	st.all = nil
}

type scanner interface{ Scan(dest ...any) error }

// row is a job row as stored.
type row struct {
	seq   int64
	lease sql.NullString
	state int
	job   queue.Job
}

func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v)
}

// scanJob reads jobCols and derives the status as of now.
func scanJob(sc scanner, now time.Time) (row, error) {
	var (
		r                                                      row
		input                                                  []byte
		notAfter, notBefore, visibleAt, enqueuedAt, finishedAt int64
	)
	j := &r.job
	err := sc.Scan(&r.seq, &j.ID, &j.Op, &input, &j.Priority, &notAfter, &notBefore, &j.ClientToken, &j.GroupKey,
		&r.state, &visibleAt, &r.lease, &j.Receives, &j.FreeRequeues, &enqueuedAt, &j.LastError,
		&j.DeadReason, &j.DeadDetail, &finishedAt, &j.Pool)
	if err != nil {
		return r, err
	}
	if len(input) > 0 {
		j.Input = input
	}
	j.NotAfter, j.NotBefore = fromNS(notAfter), fromNS(notBefore)
	j.VisibleAt, j.EnqueuedAt, j.FinishedAt = fromNS(visibleAt), fromNS(enqueuedAt), fromNS(finishedAt)
	switch {
	case r.state == 1:
		j.Status = queue.StatusSucceeded
	case r.state == 2:
		j.Status = queue.StatusDead
	case r.lease.Valid && now.Before(j.VisibleAt):
		j.Status = queue.StatusInFlight
	default:
		j.Status = queue.StatusQueued
	}
	return r, nil
}
