package queue

import (
	"context"
	"time"
)

// Queue is a durable, at-least-once job queue with leases, a receive limit
// and a dead-letter queue. Every method is safe for concurrent use. Every
// implementation passes queuetest.Run.
type Queue interface {
	// Enqueue stores jobs atomically: all of them or, on error, none. When
	// it returns nil the jobs are durable. It returns the stored jobs, in
	// order, with ID, ClientToken, Status and EnqueuedAt set. An invalid job
	// fails the whole batch with an error matching ErrInvalidJob (a
	// *JobError naming the job and the field). A job whose caller-set ID is
	// already known is not stored again (when Capabilities.IdempotentEnqueue);
	// the existing job is returned in its place.
	Enqueue(ctx context.Context, jobs ...Job) ([]Job, error)

	// Lease hands out up to n visible jobs for the visibility timeout, lowest
	// Priority first and oldest visible first within a priority (as far as
	// Capabilities promise). It returns an empty slice when none is visible;
	// backends that long-poll may first wait a little for one. On the way it
	// dead-letters jobs past their NotAfter (ReasonExpired) and jobs whose
	// FailedReceives reached MaxReceives (ReasonMaxReceives).
	Lease(ctx context.Context, n int, visibility time.Duration) ([]Lease, error)

	// Ack finishes leased jobs successfully. Each receipt must be the job's
	// current one: a receipt whose job was leased again after its visibility
	// timeout, or already finished, fails with ErrStaleReceipt and changes
	// nothing. With several receipts the others still succeed and the error
	// is a *BatchError.
	Ack(ctx context.Context, receipts ...string) error

	// Extend sets the lease's visibility deadline to now + visibility.
	Extend(ctx context.Context, receipt string, visibility time.Duration) error

	// Requeue gives a leased job back: visible after r.Delay, with
	// r.Reason as its LastError.
	Requeue(ctx context.Context, receipt string, r Requeue) error

	// DeadLetter moves a leased job to the dead-letter queue with a reason
	// (see the Reason constants) and a free-form detail.
	DeadLetter(ctx context.Context, receipt, reason, detail string) error

	// Get returns a job and its status, or ErrNotFound.
	Get(ctx context.Context, id string) (Job, error)

	// ListDead returns dead letters, oldest first.
	ListDead(ctx context.Context, o ListOptions) ([]Job, error)

	// Redrive moves the selected dead letters back to the queue with the
	// same ID, ClientToken and Pool (a pin is kept: the job's token may
	// have reached that pool's account), visible at once, with a fresh
	// receive count.
	// It returns how many moved. Unknown IDs are skipped.
	Redrive(ctx context.Context, r Redrive) (int, error)

	// PurgeDead deletes the selected dead letters and returns how many.
	PurgeDead(ctx context.Context, s Selector) (int, error)

	// Stats returns counts of the queue's jobs.
	Stats(ctx context.Context) (Stats, error)

	// Capabilities says which guarantees this backend gives.
	Capabilities() Capabilities

	// Close releases the queue's resources. Calls after Close fail with
	// ErrClosed. Leases held at Close stay leased until they time out.
	Close() error
}

// Capabilities describes what a backend guarantees beyond the common
// at-least-once contract. The conformance suite tests each promised one.
type Capabilities struct {
	// StrictPriority: Lease never hands out a job while a visible job with a
	// lower Priority value waits.
	StrictPriority bool
	// FIFO: within a priority, Lease hands out the job visible longest first.
	FIFO bool
	// StaleReceipts: a receipt is rejected with ErrStaleReceipt as soon as its
	// job is leased again. (Amazon SQS accepts an old receipt.)
	StaleReceipts bool
	// IdempotentEnqueue: Enqueue with a known caller-set ID stores nothing.
	IdempotentEnqueue bool
	// DurableStatus: Get answers for any job, across restarts and processes
	// (success records for DoneRetention). Otherwise Get knows only jobs this
	// process has seen.
	DurableStatus bool
	// ExactStats: Stats counts are exact and include ByOp and OldestAge.
	ExactStats bool
	// VisibilityGranularity is the unit visibility timeouts and delays are
	// rounded up to (SQS: 1 s).
	VisibilityGranularity time.Duration
	// MaxDelay is the longest Requeue delay or NotBefore lead honoured;
	// longer ones are shortened to it. 0 means unlimited.
	MaxDelay time.Duration
	// MaxVisibility is the longest visibility timeout; 0 means unlimited.
	MaxVisibility time.Duration
}

// Defaults shared by the backends' options.
const (
	// DefaultMaxReceives is the receive limit when Options leave it 0.
	DefaultMaxReceives = 5
	// DefaultMaxFreeRequeues caps free requeues when Options leave it 0.
	DefaultMaxFreeRequeues = 20
	// DefaultListLimit is ListOptions.Limit's default.
	DefaultListLimit = 100
	// MaxListLimit caps ListOptions.Limit.
	MaxListLimit = 1000
	// DefaultDoneRetention is how long success records are kept by default:
	// as long as Connect honours a StartOutboundVoiceContact ClientToken.
	DefaultDoneRetention = 7 * 24 * time.Hour
)
