package queue

import (
	"encoding/json"
	"time"
)

// Status is where a job is in its life.
type Status string

// Job statuses.
const (
	StatusQueued    Status = "queued"    // waiting: visible now, delayed, or its lease expired
	StatusInFlight  Status = "in-flight" // leased and its visibility timeout has not passed
	StatusSucceeded Status = "succeeded" // acknowledged; a compact record (no Input) is kept
	StatusDead      Status = "dead"      // in the dead-letter queue; see DeadReason
)

// Dead-letter reasons set by the queue itself or used by the dispatcher.
// DeadLetter accepts any reason; these are the common ones.
const (
	ReasonExpired     = "expired"      // NotAfter passed before the job could run
	ReasonMaxReceives = "max-receives" // received MaxReceives times without success
	ReasonHardQuota   = "hard-quota"   // a resource quota only an increase can lift
	ReasonClientFault = "client-fault" // the call is wrong (bad input, not found, denied)
	ReasonFailed      = "failed"       // any other permanent failure
)

// Job is one unit of work: a Connect operation and its input.
//
// The caller sets Op, Input and optionally Priority, NotAfter, NotBefore,
// GroupKey, ID and ClientToken. The queue sets the rest.
type Job struct {
	// ID names the job. Enqueue assigns one (a UUIDv7, so IDs sort by
	// time) when empty. A caller-set ID is 1–64 characters of
	// [A-Za-z0-9_.:-].
	ID string `json:"id"`
	// Op is the Connect operation, e.g. "StartOutboundVoiceContact":
	// 1–128 ASCII letters and digits, starting with a letter.
	Op string `json:"op"`
	// Input is the operation's input as a JSON value (usually an object).
	// Empty means none. The queue stores it as given and drops it once the
	// job succeeds.
	Input json.RawMessage `json:"input,omitempty"`
	// Priority orders leasing: lower values first, on the scale of
	// ratelimit.Priority (-2 critical, -1 high, 0 normal, 1 low). Any value
	// in [-1000, 1000] is accepted.
	Priority int `json:"priority,omitempty"`
	// NotAfter is the deadline: a job still queued after it is dead-lettered
	// with ReasonExpired instead of being leased. Zero means none.
	NotAfter time.Time `json:"not_after,omitzero"`
	// NotBefore delays the first delivery until then. Zero means at once.
	NotBefore time.Time `json:"not_before,omitzero"`
	// ClientToken is the idempotency token passed to Connect on every
	// attempt. Enqueue assigns a UUIDv4 when empty. A caller-set token is
	// 1–200 characters of [A-Za-z0-9_.-] (it fits every Connect ClientToken,
	// including a dial request's).
	ClientToken string `json:"client_token"`
	// GroupKey lets the dispatcher batch compatible jobs (dial requests of
	// one campaign into one PutDialRequestBatch). At most 128 bytes.
	GroupKey string `json:"group_key,omitempty"`
	// Pool is the quota pool (dispatch.Pool.Name) the job is pinned to:
	// set by the caller, or by the dispatcher (through Pinner) once an
	// attempt on that pool had an unknown outcome, because only that
	// account deduplicates the job's ClientToken. A pinned job runs only on
	// its pool. Empty means any pool. At most MaxPoolLen characters of
	// [a-z0-9-]. Requeue, leases, restarts and Redrive keep it.
	Pool string `json:"pool,omitempty"`

	// Set by the queue.

	Status       Status    `json:"status"`
	EnqueuedAt   time.Time `json:"enqueued_at"`
	VisibleAt    time.Time `json:"visible_at,omitzero"`  // when a queued job can next be leased, or when a lease ends
	Receives     int       `json:"receives"`             // times leased since enqueue or the last redrive
	FreeRequeues int       `json:"free_requeues"`        // requeues not counted as failed receives (see Requeue.Free)
	LastError    string    `json:"last_error,omitempty"` // the latest Requeue or DeadLetter reason and detail
	DeadReason   string    `json:"dead_reason,omitempty"`
	DeadDetail   string    `json:"dead_detail,omitempty"`
	FinishedAt   time.Time `json:"finished_at,omitzero"` // when it succeeded or was dead-lettered

	// Set by the dispatcher (through OutcomeRecorder) for operations that
	// start a contact; empty for the others.

	// ContactIDs are the contacts the job started (the ContactId Connect
	// answered with; the same one again on a redelivery).
	ContactIDs []string `json:"contact_ids,omitempty"`
	// Outcome is how the contact ended: OutcomeConnected,
	// OutcomeEndedWithoutConnecting, OutcomeRefused, or OutcomePlaced while
	// the end is unknown.
	Outcome string `json:"outcome,omitempty"`
	// OutcomeReason is Connect's disconnect reason (e.g. TELECOM_BUSY) or
	// the refusal (the error code and message).
	OutcomeReason string `json:"outcome_reason,omitempty"`
}

// FailedReceives is the number of receives that count against MaxReceives:
// every lease except those given back with a free requeue.
func (j Job) FailedReceives() int { return j.Receives - j.FreeRequeues }

// Lease is a job handed to a consumer until Until.
type Lease struct {
	Job     Job
	Receipt string    // pass to Ack, Extend, Requeue and DeadLetter
	Until   time.Time // the visibility deadline; after it the job can be leased again
}

// Requeue says how a leased job goes back to the queue.
// The zero value makes it visible at once and counts the receive as failed.
type Requeue struct {
	// Delay keeps the job invisible this long (e.g. the computed backoff).
	Delay time.Duration
	// Reason is recorded as the job's LastError.
	Reason string
	// Free marks a requeue that is not the job's fault, such as a full
	// concurrency quota: the receive does not count towards MaxReceives, up to
	// the queue's MaxFreeRequeues; beyond the cap it counts.
	Free bool
	// Return gives the receive back: the job did not run at all (it waited
	// for something outside it, such as the quota pool it is pinned to
	// coming back into rotation), so Receives goes down by one and no free
	// requeue is spent: a job can wait this way for as long as it takes.
	// Backends that implement Pinner honour it; the others (SQS, which
	// cannot take a receive back) treat it as Free.
	Return bool
}

// Selector picks dead letters for Redrive and Purge. Exactly one of IDs and
// All must be set, so an empty slice can never mean "everything".
type Selector struct {
	IDs []string
	All bool
	// Reason, with All, limits the selection to dead letters with this reason.
	Reason string
}

// Redrive says how dead letters go back to the queue.
type Redrive struct {
	Selector
	// ClearNotAfter removes each job's deadline; without it an expired job
	// redriven after its deadline is dead-lettered again as expired.
	ClearNotAfter bool
}

// ListOptions pages through dead letters, oldest first.
type ListOptions struct {
	Limit  int    // at most this many; 0 means 100
	After  string // continue after this job ID (the last one of the previous page)
	Reason string // only this reason; empty means all
}

// OpStats counts one operation's jobs.
type OpStats struct {
	Ready    int64 `json:"ready"`
	InFlight int64 `json:"in_flight"`
	Delayed  int64 `json:"delayed"`
	Dead     int64 `json:"dead"`
}

// Stats is a snapshot of the queue.
type Stats struct {
	Ready     int64 `json:"ready"`     // visible now
	InFlight  int64 `json:"in_flight"` // leased, visibility not yet passed
	Delayed   int64 `json:"delayed"`   // waiting for NotBefore or a requeue delay
	Dead      int64 `json:"dead"`
	Succeeded int64 `json:"succeeded"` // success records still kept; -1 if the backend keeps none
	// OldestAge is the age of the oldest unfinished job (ready, delayed or
	// in flight), from its EnqueuedAt; zero when there is none or the
	// backend cannot tell.
	OldestAge    time.Duration      `json:"oldest_age"`
	ByOp         map[string]OpStats `json:"by_op,omitempty"`
	DeadByReason map[string]int64   `json:"dead_by_reason,omitempty"`
	Approximate  bool               `json:"approximate,omitempty"` // counts are estimates (SQS)
}
