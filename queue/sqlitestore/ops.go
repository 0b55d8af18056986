package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"math/rand/v2"
	"time"

	"github.com/tollgatehq/tollgate/queue"
)

// Enqueue implements queue.Queue.
func (s *Store) Enqueue(ctx context.Context, jobs ...queue.Job) ([]queue.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prepared, err := queue.Prepare(s.o.Now(), s.o.MaxInput, jobs)
	if err != nil {
		return nil, err
	}
	if len(prepared) == 0 {
		return prepared, s.readable(ctx)
	}
	out := make([]queue.Job, len(prepared))
	err = s.do(ctx, true, func(w *wtx) error {
		for i, j := range prepared {
			if known, err := s.checkConflict(w, i, j); err != nil {
				return err
			} else if known {
				r, err := scanJob(w.st.byID.QueryRowContext(w.ctx, j.ID), w.now)
				if err != nil {
					return err
				}
				out[i] = r.job
				continue
			}
			var input any
			if j.Input != nil {
				input = []byte(j.Input)
			}
			res, err := s.x.insert.ExecContext(w.ctx, j.ID, j.Op, input, j.Priority, ns(j.NotAfter), ns(j.NotBefore),
				j.ClientToken, j.GroupKey, ns(j.VisibleAt), ns(j.EnqueuedAt), queue.Digest(j), j.Pool)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				out[i] = j
				continue
			}
			// A known ID: idempotent submit returns the stored job.
			r, err := scanJob(w.st.byID.QueryRowContext(w.ctx, j.ID), w.now)
			if err != nil {
				return err
			}
			out[i] = r.job
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// newHandle returns a random lease handle.
func newHandle() string {
	var b [8]byte
	v := rand.Uint64()
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return hex.EncodeToString(b[:])
}

// Lease implements queue.Queue.
func (s *Store) Lease(ctx context.Context, n int, visibility time.Duration) ([]queue.Lease, error) {
	if err := queue.CheckLease(n, visibility); err != nil {
		return nil, err
	}
	var deadline time.Time
	if s.o.LeaseWait > 0 {
		deadline = time.Now().Add(s.o.LeaseWait)
	}
	for {
		wake := s.waitCh()
		ls, err := s.leaseOnce(ctx, n, visibility)
		if err != nil || len(ls) > 0 || deadline.IsZero() {
			return ls, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return ls, nil
		}
		// Delayed jobs become visible without a wake-up: poll too.
		t := time.NewTimer(min(left, 250*time.Millisecond))
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		t.Stop()
	}
}

func (s *Store) leaseOnce(ctx context.Context, n int, visibility time.Duration) ([]queue.Lease, error) {
	var out []queue.Lease
	err := s.do(ctx, false, func(w *wtx) error {
		out = out[:0]
		until := w.now.Add(visibility)
		for len(out) < n {
			rows, err := w.st.ready.QueryContext(w.ctx, w.now.UnixNano(), n-len(out))
			if err != nil {
				return err
			}
			var cand []row
			for rows.Next() {
				r, err := scanJob(rows, w.now)
				if err != nil {
					rows.Close()
					return err
				}
				cand = append(cand, r)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if len(cand) == 0 {
				break
			}
			for _, r := range cand {
				if reason, detail := queue.DeadOnLease(r.job, w.now, s.o.MaxReceives); reason != "" {
					if _, err := w.st.kill.ExecContext(w.ctx, reason, detail, w.now.UnixNano(), r.seq); err != nil {
						return err
					}
					continue
				}
				h := newHandle()
				if _, err := s.x.lease.ExecContext(w.ctx, h, until.UnixNano(), s.owner, r.seq); err != nil {
					return err
				}
				j := r.job
				j.Receives++
				j.Status = queue.StatusInFlight
				j.VisibleAt = until
				out = append(out, queue.Lease{Job: j, Receipt: queue.MakeReceipt(j.ID, h), Until: until})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// updateLeased runs a statement whose WHERE ends in "id = ? AND state = 0
// AND lease = ?" and maps "no row" to ErrStaleReceipt.
func updateLeased(w *wtx, st *sql.Stmt, receipt string, args ...any) error {
	id, handle, ok := queue.SplitReceipt(receipt)
	if !ok {
		return queue.ErrStaleReceipt
	}
	res, err := st.ExecContext(w.ctx, append(args, id, handle)...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return queue.ErrStaleReceipt
	}
	return nil
}

// Ack implements queue.Queue. All receipts are settled in one transaction.
func (s *Store) Ack(ctx context.Context, receipts ...string) error {
	errs := make([]error, len(receipts))
	err := s.do(ctx, false, func(w *wtx) error {
		for i, r := range receipts {
			errs[i] = updateLeased(w, w.st.ack, r, w.now.UnixNano())
			if errs[i] != nil && errs[i] != queue.ErrStaleReceipt {
				return errs[i]
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return queue.JoinBatch(errs)
}

// Extend implements queue.Queue.
func (s *Store) Extend(ctx context.Context, receipt string, visibility time.Duration) error {
	if err := queue.CheckVisibility(visibility); err != nil {
		return err
	}
	return s.do(ctx, false, func(w *wtx) error {
		return updateLeased(w, w.st.extend, receipt, w.now.Add(visibility).UnixNano())
	})
}

// Requeue implements queue.Queue.
func (s *Store) Requeue(ctx context.Context, receipt string, r queue.Requeue) error {
	r, err := queue.CheckRequeue(r)
	if err != nil {
		return err
	}
	return s.do(ctx, r.Delay == 0, func(w *wtx) error {
		return updateLeased(w, w.st.requeue, receipt, w.now.Add(r.Delay).UnixNano(), r.Reason, r.Free, s.o.MaxFreeRequeues, r.Return)
	})
}

// DeadLetter implements queue.Queue.
func (s *Store) DeadLetter(ctx context.Context, receipt, reason, detail string) error {
	detail, err := queue.CheckDeadLetter(reason, detail)
	if err != nil {
		return err
	}
	return s.do(ctx, false, func(w *wtx) error {
		return updateLeased(w, w.st.deadLetter, receipt, reason, detail, w.now.UnixNano())
	})
}

// Redrive implements queue.Queue.
func (s *Store) Redrive(ctx context.Context, r queue.Redrive) (int, error) {
	if err := queue.CheckSelector(r.Selector); err != nil {
		return 0, err
	}
	var total int64
	err := s.do(ctx, true, func(w *wtx) error {
		total = 0
		now := w.now.UnixNano()
		exec := func(st *sql.Stmt, args ...any) error {
			res, err := st.ExecContext(w.ctx, args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			total += n
			return err
		}
		switch {
		case !r.All:
			for _, id := range r.IDs {
				if err := exec(w.st.redriveID, now, r.ClearNotAfter, id); err != nil {
					return err
				}
			}
			return nil
		case r.Reason != "":
			return exec(w.st.redriveReason, now, r.ClearNotAfter, r.Reason)
		default:
			return exec(w.st.redriveAll, now, r.ClearNotAfter)
		}
	})
	return int(total), err
}

// PurgeDead implements queue.Queue.
func (s *Store) PurgeDead(ctx context.Context, sel queue.Selector) (int, error) {
	if err := queue.CheckSelector(sel); err != nil {
		return 0, err
	}
	var total int64
	err := s.do(ctx, false, func(w *wtx) error {
		total = 0
		exec := func(st *sql.Stmt, args ...any) error {
			res, err := st.ExecContext(w.ctx, args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			total += n
			return err
		}
		switch {
		case !sel.All:
			for _, id := range sel.IDs {
				if err := exec(w.st.purgeID, id); err != nil {
					return err
				}
			}
			return nil
		case sel.Reason != "":
			return exec(w.st.purgeReason, sel.Reason)
		default:
			return exec(w.st.purgeAll)
		}
	})
	return int(total), err
}
