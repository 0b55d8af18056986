package queue

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotFound: no job with this ID (or its record has been pruned).
	ErrNotFound = errors.New("queue: job not found")
	// ErrStaleReceipt: the receipt is not the job's current lease (the job
	// was leased again, finished, or the receipt was never issued).
	ErrStaleReceipt = errors.New("queue: stale receipt")
	// ErrClosed: the queue has been closed.
	ErrClosed = errors.New("queue: closed")
	// ErrInvalidJob: a job failed validation; see *JobError.
	ErrInvalidJob = errors.New("queue: invalid job")
	// ErrInvalidArgument: a call's argument is out of range; see *ArgError.
	ErrInvalidArgument = errors.New("queue: invalid argument")
)

// JobError says which job of an Enqueue batch is invalid and why.
type JobError struct {
	Index   int    // 0-based position in the batch (printed from 1)
	ID      string // the job's ID if the caller set one
	Field   string // the Go field name, e.g. "Input" or "ClientToken"
	Problem string // e.g. "is not valid JSON"
	// Repeats is the 1-based position of the earlier job of the batch with
	// the same ID; 0 if none.
	Repeats int
}

func (e *JobError) Error() string {
	id := ""
	if e.ID != "" {
		id = fmt.Sprintf(" (id %q)", e.ID)
	}
	return fmt.Sprintf("queue: invalid job %d%s: %s %s", e.Index+1, id, e.Field, e.Problem)
}

// Is reports ErrInvalidJob.
func (e *JobError) Is(target error) bool { return target == ErrInvalidJob }

// ArgError names an argument that is out of range.
type ArgError struct {
	Arg     string // e.g. "n", "visibility", "Selector"
	Problem string
}

func (e *ArgError) Error() string { return "queue: argument " + e.Arg + " " + e.Problem }

// Is reports ErrInvalidArgument.
func (e *ArgError) Is(target error) bool { return target == ErrInvalidArgument }

// BatchError reports the failed items of a multi-receipt Ack. Errs has one
// entry per receipt, nil where that receipt succeeded. errors.Is sees through
// it to every item's error (e.g. ErrStaleReceipt).
type BatchError struct {
	Errs []error
}

func (e *BatchError) Error() string {
	var b strings.Builder
	n := 0
	for i, err := range e.Errs {
		if err == nil {
			continue
		}
		if n > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "item %d: %v", i, err)
		n++
	}
	return fmt.Sprintf("queue: %d of %d failed: %s", n, len(e.Errs), b.String())
}

// Unwrap returns the non-nil item errors.
func (e *BatchError) Unwrap() []error {
	var out []error
	for _, err := range e.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// JoinBatch returns nil when every item succeeded, the single error when
// there was one item, and a *BatchError otherwise. Backends use it to build
// Ack's result.
func JoinBatch(errs []error) error {
	failed := false
	for _, err := range errs {
		if err != nil {
			failed = true
			break
		}
	}
	if !failed {
		return nil
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return &BatchError{Errs: errs}
}
