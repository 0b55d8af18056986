package dispatch

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tollgatehq/tollgate/backoff"
	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/queue"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultConcurrency   = 16
	DefaultCallTimeout   = 30 * time.Second
	DefaultIdleWait      = 500 * time.Millisecond
	DefaultShutdownGrace = 10 * time.Second
	// VisibilityFactor is the default visibility timeout in call timeouts:
	// AWS's advice for SQS consumers (at least six times the function
	// timeout), so a lease outlives its call with room to spare.
	VisibilityFactor = 6
	// DefaultContactPoll, DefaultContactFallbackPoll and
	// DefaultMaxCallDuration are the contact-following defaults.
	DefaultContactPoll         = 5 * time.Second
	DefaultContactFallbackPoll = time.Minute
	DefaultMaxCallDuration     = callbudget.DefaultMaxDuration
)

// Options configure a Dispatcher. Queue, Governor and AWS are required; the
// zero value of every other field means its default.
type Options struct {
	// Queue is where jobs wait.
	Queue queue.Queue
	// Governor admits every call: the Connect client is put under it with
	// awssdk.Govern, and PutDialRequestBatch goes through Governor.DoWith.
	Governor *governor.Governor
	// AWS configures the clients: credentials, Region and HTTP client. For
	// real Amazon Connect load it with config.LoadDefaultConfig; for the
	// simulator give any static credentials and set Endpoint.
	AWS aws.Config
	// Endpoint overrides the Connect endpoint (for example the simulator's
	// URL). Empty means the Region's.
	Endpoint string
	// CampaignsEndpoint overrides the Outbound Campaigns endpoint. Empty
	// means Endpoint when that is set, else the Region's.
	CampaignsEndpoint string
	// Dialer makes the PutDialRequestBatch calls. nil means a
	// campaigns.Client built from AWS and CampaignsEndpoint.
	Dialer Dialer

	// Concurrency caps the calls (single jobs or dial batches) in flight.
	// Default 16.
	Concurrency int
	// CallTimeout bounds one governed call: admission, attempts and
	// backoff. Default 30s.
	CallTimeout time.Duration
	// Visibility is the lease's visibility timeout; the dispatcher extends
	// held leases before they run out. Default VisibilityFactor × CallTimeout.
	Visibility time.Duration
	// MaxBatch caps the dial requests in one PutDialRequestBatch (1–25).
	// Default 25.
	MaxBatch int
	// IdleWait is the longest pause between polls of an empty queue; a
	// Wake cuts it short. Default 500ms.
	IdleWait time.Duration
	// ShutdownGrace is how long calls in flight may finish after Run's
	// context ends; then they are cancelled and their jobs released.
	// Default 10s.
	ShutdownGrace time.Duration
	// Backoff computes requeue delays after retryable failures. Its zero
	// value is full jitter, 1s base for throttles, 50ms otherwise, 20s cap.
	Backoff backoff.Options
	// ConcurrencyDelay is the requeue delay for a full concurrency quota
	// when the error suggests none. Default governor.DefaultConcurrencyDelay.
	ConcurrencyDelay time.Duration
	// CallBudget, when set, paces StartOutboundVoiceContact on calls in
	// progress: a call is made only once a slot of its instance's budget
	// (the concurrent-active-calls quota minus a reserve) is free, as well
	// as a rate token; the job waits with its lease held (and extended),
	// without failing and without spending a receive. The slot is held
	// until the contact's end is learned (ContactEnded, DescribeContact) or
	// the budget's MaxDuration passes. nil: paced on the rate alone.
	CallBudget *callbudget.Budget
	// ContactEvents says contact events feed ContactEnded (package
	// contactevents, from the SQS queue an EventBridge rule delivers to):
	// DescribeContact is then asked only for the reason of unanswered ends
	// and, every ContactFallbackPoll, for contacts whose end has not come.
	ContactEvents bool
	// ContactPoll is how often DescribeContact is asked about a contact
	// whose end is not known, without contact events (low priority,
	// through the Governor). Default DefaultContactPoll; negative: never.
	ContactPoll time.Duration
	// ContactFallbackPoll is the poll interval with contact events (lost
	// events). Default DefaultContactFallbackPoll.
	ContactFallbackPoll time.Duration
	// MaxCallDuration bounds how long a contact is followed; one whose end
	// is never learned keeps the outcome "placed". Default
	// DefaultMaxCallDuration (the CallBudget's own MaxDuration should match).
	MaxCallDuration time.Duration

	// Pools, when set, spread the work over several accounts (quota
	// pools), each with its own client, governor and call budget; then
	// Governor, AWS, Endpoint, CampaignsEndpoint, Dialer and CallBudget
	// are ignored (Governor may be nil). Empty: the single pool those
	// fields describe, exactly as without pools. See the package
	// documentation, "Pools".
	Pools []Pool
	// PoolFailures is how many pool failures in a row take a pool out of
	// rotation. Default DefaultPoolFailures (3).
	PoolFailures int
	// PoolBackoff and PoolMaxBackoff bound how long a pool stays out of
	// rotation before a probe: PoolBackoff after it goes out, doubled after
	// each failed probe up to PoolMaxBackoff. Defaults
	// DefaultPoolBackoff (1s) and DefaultPoolMaxBackoff (1m).
	PoolBackoff, PoolMaxBackoff time.Duration

	// Logger receives warnings (hard quotas, queue errors). nil discards.
	Logger *slog.Logger
	// Observer sees every settled job. It is called synchronously from
	// worker goroutines and must be quick and safe for concurrent use.
	Observer func(Outcome)
}

func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Queue == nil:
		return o, errors.New("dispatch: Options.Queue is required")
	case o.Governor == nil && len(o.Pools) == 0:
		return o, errors.New("dispatch: Options.Governor is required")
	case o.PoolFailures < 0 || o.PoolBackoff < 0 || o.PoolMaxBackoff < 0:
		return o, errors.New("dispatch: PoolFailures, PoolBackoff and PoolMaxBackoff must not be negative")
	}
	if o.PoolFailures == 0 {
		o.PoolFailures = DefaultPoolFailures
	}
	if o.PoolBackoff == 0 {
		o.PoolBackoff = DefaultPoolBackoff
	}
	if o.PoolMaxBackoff == 0 {
		o.PoolMaxBackoff = DefaultPoolMaxBackoff
	}
	o.PoolMaxBackoff = max(o.PoolMaxBackoff, o.PoolBackoff)
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.Visibility == 0 {
		o.Visibility = VisibilityFactor * o.CallTimeout
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = MaxDialBatch
	}
	if o.IdleWait == 0 {
		o.IdleWait = DefaultIdleWait
	}
	if o.ShutdownGrace == 0 {
		o.ShutdownGrace = DefaultShutdownGrace
	}
	if o.ConcurrencyDelay == 0 {
		o.ConcurrencyDelay = governor.DefaultConcurrencyDelay
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ContactPoll == 0 {
		o.ContactPoll = DefaultContactPoll
	}
	if o.ContactFallbackPoll <= 0 {
		o.ContactFallbackPoll = DefaultContactFallbackPoll
	}
	if o.MaxCallDuration <= 0 {
		o.MaxCallDuration = DefaultMaxCallDuration
	}
	switch {
	case o.Concurrency < 1 || o.Concurrency > 4096:
		return o, fmt.Errorf("dispatch: Concurrency must be in 1..4096, got %d", o.Concurrency)
	case o.CallTimeout < 0:
		return o, fmt.Errorf("dispatch: CallTimeout must be positive, got %v", o.CallTimeout)
	case o.Visibility < o.CallTimeout:
		return o, fmt.Errorf("dispatch: Visibility (%v) must be at least CallTimeout (%v)", o.Visibility, o.CallTimeout)
	case o.MaxBatch < 1 || o.MaxBatch > MaxDialBatch:
		return o, fmt.Errorf("dispatch: MaxBatch must be in 1..%d, got %d", MaxDialBatch, o.MaxBatch)
	case o.IdleWait < 0 || o.ShutdownGrace < 0 || o.ConcurrencyDelay < 0:
		return o, errors.New("dispatch: IdleWait, ShutdownGrace and ConcurrencyDelay must not be negative")
	}
	if err := o.Backoff.Validate(); err != nil {
		return o, fmt.Errorf("dispatch: Backoff: %w", err)
	}
	return o, nil
}
