package ratelimit

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Priority orders callers on a shared budget. Lower values are served first.
type Priority int

// Priority classes. The zero value is PriorityNormal.
const (
	PriorityCritical Priority = -2 // agent-facing, never queued behind anything else
	PriorityHigh     Priority = -1
	PriorityNormal   Priority = 0
	PriorityLow      Priority = 1 // batch work: gets what is left, never starved forever
)

// Request is one admission request: cost tokens of operation Op.
type Request struct {
	Op       string   // operation name; its bucket nests inside the account bucket
	Cost     float64  // tokens; 0 means 1
	Priority Priority // class on the shared budget
}

// Decision is the result of a non-blocking admission attempt.
type Decision struct {
	OK      bool          // tokens were taken from every bucket
	RetryIn time.Duration // when not OK: the earliest time the request could succeed
}

// Limit is a bucket's steady rate and size.
type Limit struct {
	Rate  float64 `json:"rate"`  // tokens per second
	Burst float64 `json:"burst"` // bucket size
}

// Limiter admits calls through hierarchical buckets: the operation's bucket
// inside the account's. An admission takes from both or from neither.
// Implementations: the in-memory *Hierarchy here and the Redis limiter in
// redisx. Every implementation passes ratelimittest.Run.
type Limiter interface {
	// Try admits req now or not at all.
	Try(ctx context.Context, req Request) (Decision, error)
	// Wait blocks until req is admitted, ctx ends, or it is clear the wait
	// would outlast ctx's deadline (then it returns at once with an error
	// wrapping ErrWouldExceedDeadline).
	Wait(ctx context.Context, req Request) error
	// SetLimit changes the limit of op ("" for the account bucket) at run
	// time. The error is non-nil when ctx has ended before the change was
	// made or the limiter is closed; a shared limiter that cannot reach its
	// store applies the change locally and reports no error.
	SetLimit(ctx context.Context, op string, l Limit) error
	// Limit returns the current limit of op ("" for the account bucket).
	Limit(op string) Limit
}

// Class returns p's class index, 0 (PriorityCritical) to NumClasses-1
// (PriorityLow); values out of range are clamped.
func (p Priority) Class() int {
	return min(max(int(p-PriorityCritical), 0), NumClasses-1)
}

// Tokens returns the request's cost in tokens: Cost, or 1 when Cost is 0.
// A negative, NaN or infinite Cost is an error naming the operation.
func (r Request) Tokens() (float64, error) {
	c := r.Cost
	if c == 0 {
		return 1, nil
	}
	if c < 0 || math.IsNaN(c) || math.IsInf(c, 0) {
		return 0, fmt.Errorf("ratelimit: %s: cost %v: must be a finite number >= 0", r.Op, c)
	}
	return c, nil
}
