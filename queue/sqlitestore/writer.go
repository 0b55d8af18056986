package sqlitestore

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgatehq/tollgate/queue"
)

// request is one operation for the writer goroutine.
type request struct {
	ctx  context.Context
	fn   func(w *wtx) error // runs inside the batch transaction, in its own savepoint
	wake bool               // new work may be visible after this commits
	done chan error         // receives the outcome once the batch has committed
}

// wtx is what an operation sees: the writer's statements and the batch time.
type wtx struct {
	ctx context.Context
	st  *stmts
	now time.Time
}

// do runs fn in the writer and waits for the commit. Cancelling ctx before
// the writer starts fn skips it; once fn has started, do waits for the
// commit so the returned error always tells what happened.
func (s *Store) do(ctx context.Context, wake bool, fn func(w *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, fn: fn, wake: wake, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return queue.ErrClosed
	}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	return <-r.done
}

// writer is the single goroutine that writes. It takes every waiting request
// (up to MaxBatch), runs them in one transaction and commits once: group
// commit. It exits when reqs is closed and drained.
func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*request, 0, s.o.MaxBatch)
	prune := time.NewTicker(time.Minute)
	defer prune.Stop()
	// The writer expects as many requests per batch as the largest of the
	// last few batches, probing one higher now and then; a batch that waits
	// in vain resets the expectation.
	var recent [8]int
	rounds := 0
	for {
		var r *request
		var ok bool
		select {
		case r, ok = <-s.reqs:
			if !ok {
				return
			}
		case <-prune.C:
			r = &request{ctx: context.Background(), fn: s.pruneOp, done: make(chan error, 1)}
		}
		batch = append(batch[:0], r)
		expect := 1
		for _, n := range recent {
			expect = max(expect, n)
		}
		rounds++
		if rounds%16 == 0 {
			expect++
		}
		open, timedOut := s.fill(&batch, expect)
		if timedOut {
			recent = [8]int{}
		}
		recent[rounds%len(recent)] = len(batch)
		s.commit(batch)
		if !open {
			// reqs is closed; fill has taken everything left.
			return
		}
	}
}

// fill adds waiting requests to batch: all that are ready now and then, for
// up to Coalesce, more until the batch holds expect requests. open is false
// once reqs is closed; timedOut tells that the wait ended without expect.
func (s *Store) fill(batch *[]*request, expect int) (open, timedOut bool) {
	for len(*batch) < s.o.MaxBatch {
		select {
		case r, ok := <-s.reqs:
			if !ok {
				return false, false
			}
			*batch = append(*batch, r)
			continue
		default:
		}
		break
	}
	if len(*batch) >= expect || s.o.Coalesce < 0 {
		return true, false
	}
	t := time.NewTimer(s.o.Coalesce)
	defer t.Stop()
	for len(*batch) < expect && len(*batch) < s.o.MaxBatch {
		select {
		case r, ok := <-s.reqs:
			if !ok {
				return false, false
			}
			*batch = append(*batch, r)
		case <-t.C:
			return true, true
		}
	}
	return true, false
}

// commit runs one batch. Each request gets a savepoint; a request whose fn
// fails is rolled back to it and the others go on. If the commit itself
// fails, every request in the batch gets that error.
func (s *Store) commit(batch []*request) {
	ctx := context.Background()
	errs := make([]error, len(batch))
	fail := func(err error) {
		s.note(err)
		for _, r := range batch {
			r.done <- err
		}
	}
	if _, err := s.st.begin.ExecContext(ctx); err != nil {
		fail(fmt.Errorf("sqlitestore: begin: %w", err))
		return
	}
	w := &wtx{ctx: ctx, st: s.st, now: s.o.Now()}
	wake := false
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := s.st.savepoint.ExecContext(ctx); err != nil {
			errs[i] = fmt.Errorf("sqlitestore: savepoint: %w", err)
			continue
		}
		err := s.note(r.fn(w))
		if err != nil {
			if _, rerr := s.st.rollbackTo.ExecContext(ctx); rerr != nil {
				// The transaction is in an unknown state: give it up.
				_, _ = s.st.rollback.ExecContext(ctx)
				fail(fmt.Errorf("sqlitestore: rollback to savepoint: %w (after %v)", rerr, err))
				return
			}
		}
		if _, rerr := s.st.release.ExecContext(ctx); rerr != nil {
			_, _ = s.st.rollback.ExecContext(ctx)
			fail(fmt.Errorf("sqlitestore: release savepoint: %w", rerr))
			return
		}
		errs[i] = err
		if err == nil && r.wake {
			wake = true
		}
	}
	if _, err := s.st.commit.ExecContext(ctx); err != nil {
		_, _ = s.st.rollback.ExecContext(ctx)
		fail(fmt.Errorf("sqlitestore: commit: %w", err))
		return
	}
	s.writeErr.Store(nil)
	for i, r := range batch {
		r.done <- errs[i]
	}
	if wake {
		s.wake()
	}
}

// pruneOp deletes success records older than DoneRetention, a bounded number
// per run.
func (s *Store) pruneOp(w *wtx) error {
	_, err := w.st.prune.ExecContext(w.ctx, w.now.Add(-s.o.DoneRetention).UnixNano())
	return err
}
