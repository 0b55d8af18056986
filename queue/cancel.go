package queue

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ReasonCanceled is the dead-letter reason of a canceled job.
const ReasonCanceled = "canceled"

// ErrNotCancelable: the job is in flight (a call may be under way, so it runs
// once) or has already ended. See *StateError.
var ErrNotCancelable = errors.New("queue: job cannot be canceled")

// ErrUnsupported: the backend cannot do this (e.g. purge by status on SQS).
var ErrUnsupported = errors.New("queue: not supported by this backend")

// StateError says why a job could not be canceled.
type StateError struct {
	ID     string
	Status Status
}

func (e *StateError) Error() string {
	if e.Status == StatusInFlight {
		return fmt.Sprintf("queue: job %s is in flight: its call may be under way, so it runs once and cannot be canceled", e.ID)
	}
	return fmt.Sprintf("queue: job %s has already ended (%s)", e.ID, e.Status)
}

// Is reports ErrNotCancelable.
func (e *StateError) Is(target error) bool { return target == ErrNotCancelable }

// Purge selects waiting jobs to delete. Jobs in flight are never purged.
// With neither Queued nor Delayed set, both are.
type Purge struct {
	Queued  bool      // jobs visible now (or whose lease has expired)
	Delayed bool      // jobs visible only later (NotBefore or a requeue delay)
	Before  time.Time // only jobs enqueued before this; zero means any
}

// Matches reports whether a waiting job (not leased) visible at visibleAt
// and enqueued at enqueuedAt is selected as of now.
func (p Purge) Matches(now, visibleAt, enqueuedAt time.Time) bool {
	if !p.Before.IsZero() && !enqueuedAt.Before(p.Before) {
		return false
	}
	if p.Queued == p.Delayed {
		return true
	}
	delayed := visibleAt.After(now)
	return delayed == p.Delayed
}

// Canceler is implemented by backends that can cancel and purge jobs that
// have not started. Cancel and Lease are atomic with each other: a job
// canceled before it is leased never runs, and a job leased first is
// refused with ErrNotCancelable (it runs once).
type Canceler interface {
	// Cancel moves a waiting job to the dead-letter queue with
	// ReasonCanceled (Redrive brings it back) and returns it. A job in
	// flight or ended fails with a *StateError (ErrNotCancelable); an
	// unknown one with ErrNotFound.
	Cancel(ctx context.Context, id string) (Job, error)
	// Purge deletes the selected waiting jobs and returns how many.
	Purge(ctx context.Context, p Purge) (int, error)
}
