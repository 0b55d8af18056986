package sqs

import (
	"context"

	"github.com/tollgatehq/tollgate/queue"
)

var _ queue.OutcomeRecorder = (*Queue)(nil)

// RecordOutcome implements queue.OutcomeRecorder on the in-memory index
// that Get reads: like every status the SQS backend reports, the outcome is
// known to this process only (Capabilities.DurableStatus is false), for the
// jobs the index still holds.
func (q *Queue) RecordOutcome(ctx context.Context, id string, o queue.ContactOutcome) error {
	o, err := queue.CheckOutcome(o)
	if err != nil {
		return err
	}
	if err := q.check(ctx); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.index.get(id, q.o.Now()); !ok {
		return queue.ErrNotFound
	}
	q.index.update(id, func(j *queue.Job) { queue.ApplyOutcome(j, o) })
	return nil
}
