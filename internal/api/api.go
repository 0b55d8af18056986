package api

import (
	"encoding/json"
	"time"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/queue"
)

// ErrorBody is the JSON of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes one error.
type ErrorDetail struct {
	Code    string `json:"code"` // e.g. "invalid_job", "unauthorized", "body_too_large"
	Message string `json:"message"`
	Index   *int   `json:"index,omitempty"` // the job's position in a submission
	Line    int    `json:"line,omitempty"`  // the job's line in a JSON Lines submission
	Field   string `json:"field,omitempty"` // the field at fault
	ID      string `json:"id,omitempty"`    // the job at fault (a conflict: its id)
}

// JobSpec is a job as submitted to POST /v1/jobs: the caller's part of
// queue.Job.
type JobSpec struct {
	ID          string          `json:"id,omitempty"`
	Op          string          `json:"op"`
	Input       json.RawMessage `json:"input,omitempty"`
	Priority    int             `json:"priority,omitempty"`
	NotAfter    time.Time       `json:"not_after,omitzero"`
	NotBefore   time.Time       `json:"not_before,omitzero"`
	ClientToken string          `json:"client_token,omitempty"`
	GroupKey    string          `json:"group_key,omitempty"`
}

// Job returns the queue.Job the spec describes (not yet validated).
func (s JobSpec) Job() queue.Job {
	return queue.Job{ID: s.ID, Op: s.Op, Input: s.Input, Priority: s.Priority, NotAfter: s.NotAfter,
		NotBefore: s.NotBefore, ClientToken: s.ClientToken, GroupKey: s.GroupKey}
}

// SubmitResponse is the answer to POST /v1/jobs.
type SubmitResponse struct {
	Accepted int           `json:"accepted"`
	Jobs     []SubmittedID `json:"jobs"`
}

// SubmittedID identifies one submitted job. In a partial answer (503
// partially_stored) a job that was not stored has Status "not_stored" and
// Error says why.
type SubmittedID struct {
	ID          string       `json:"id"`
	ClientToken string       `json:"client_token"`
	Status      queue.Status `json:"status"`
	Error       string       `json:"error,omitempty"`
}

// StatusNotStored marks a job of a partial submission that was not stored.
const StatusNotStored queue.Status = "not_stored"

// PartialSubmit is the 503 answer when the queue stored only some jobs of a
// submission (Amazon SQS stores ten per call): Jobs names every job, stored
// or not, in submission order. Resubmitting the same jobs with their ids is
// safe: a stored id is not stored twice, and its client token is derived
// from the id.
type PartialSubmit struct {
	Error    ErrorDetail   `json:"error"`
	Accepted int           `json:"accepted"`
	Jobs     []SubmittedID `json:"jobs"`
}

// PurgeRequest is the body of POST /v1/jobs/purge.
type PurgeRequest struct {
	// Status is "queued" (visible now), "delayed" (visible later) or empty
	// for both. Jobs in flight are never purged.
	Status string `json:"status,omitempty"`
	// Before, when set, limits the purge to jobs enqueued before it.
	Before time.Time `json:"before,omitzero"`
}

// PurgeResponse is the answer to POST /v1/jobs/purge.
type PurgeResponse struct {
	Purged int `json:"purged"`
}

// LookupRequest is the body of POST /v1/jobs/lookup.
type LookupRequest struct {
	IDs []string `json:"ids"`
}

// LookupResponse is the answer to POST /v1/jobs/lookup: the known jobs in
// request order (without their input), and the ids not known.
type LookupResponse struct {
	Jobs    []queue.Job `json:"jobs"`
	Missing []string    `json:"missing,omitempty"`
}

// MaxLookupIDs caps the ids of one POST /v1/jobs/lookup.
const MaxLookupIDs = 1000

// StatsResponse is the answer to GET /v1/stats.
type StatsResponse struct {
	Queue    queue.Stats    `json:"queue"`
	Dispatch dispatch.Stats `json:"dispatch"`
	Uptime   float64        `json:"uptime_seconds"`
	// Pools are the quota pools' figures, in the configuration's order;
	// absent when serve runs one account (no pools section).
	Pools []PoolStats `json:"pools,omitempty"`
}

// PoolStats are one quota pool's figures in GET /v1/stats (from the
// dispatcher's PoolStats).
type PoolStats struct {
	Name     string `json:"name"`
	Account  string `json:"account"`
	Region   string `json:"region"`
	Instance string `json:"instance"`
	// Delivered are jobs that succeeded on the pool; Throttled, calls it
	// answered with a throttle; InFlight, jobs on their way to it; Failed,
	// attempts that failed there (definite failures and unknown outcomes).
	Delivered int64 `json:"delivered"`
	Throttled int64 `json:"throttled"`
	InFlight  int64 `json:"in_flight"`
	Failed    int64 `json:"failed"`
	// Healthy is false while the pool is out of rotation (Health says why
	// and when it is probed again: "ok" or "out: <reason>, back in <dur>").
	Healthy         bool   `json:"healthy"`
	Health          string `json:"health"`
	CallsInProgress int64  `json:"calls_in_progress"`
}

// DeadLettersResponse is the answer to GET /v1/dlq.
type DeadLettersResponse struct {
	Jobs []queue.Job `json:"jobs"`
	Next string      `json:"next,omitempty"` // pass as ?after= for the next page
}

// RedriveRequest is the body of POST /v1/dlq/redrive.
type RedriveRequest struct {
	IDs           []string `json:"ids,omitempty"`
	All           bool     `json:"all,omitempty"`
	Reason        string   `json:"reason,omitempty"` // with All: only this reason
	ClearNotAfter bool     `json:"clear_not_after,omitempty"`
}

// RedriveResponse is the answer to POST /v1/dlq/redrive.
type RedriveResponse struct {
	Redriven int `json:"redriven"`
}
