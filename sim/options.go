package sim

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sigv4"
)

// Defaults of the simulated account.
const (
	DefaultAccountID  = "123456789012"
	DefaultRegion     = "us-east-1"
	DefaultAddr       = "127.0.0.1:8999"
	DefaultMaxBody    = 1 << 20 // 1 MiB
	DefaultBodyTime   = 30 * time.Second
	DefaultTimeline   = 3600    // seconds of per-second history kept
	DefaultMaxCallers = 1000    // distinct access keys tracked in stats
	DefaultMaxTokens  = 1 << 18 // ClientTokens remembered (7 days each)
	DefaultMaxContact = 100000  // contacts remembered per instance
	clientTokenTTL    = 7 * 24 * time.Hour
)

// Call-limit modes: what StartOutboundVoiceContact does beyond the
// concurrent-active-calls quota.
const (
	CallLimitReorder = "reorder" // 200, the contact hears a fast-busy tone (real Connect)
	CallLimitError   = "error"   // 429 LimitExceededException
)

// Options configure a Server. The zero value is a usable default: account
// 123456789012 in us-east-1, the published quota table, any credentials
// accepted.
type Options struct {
	// AccountID and Region of the simulated account (default 123456789012,
	// us-east-1). The simulator models one account in one Region: all its
	// buckets are that account's buckets.
	AccountID string
	Region    string

	// Quotas is the quota table for both rate buckets and resource quotas;
	// nil means quotas.Default(). The server copies it.
	Quotas *quotas.Table
	// RateScale multiplies every API rate and burst (0 means 1).
	RateScale float64
	// AccountRate and AccountBurst set an optional account-wide ceiling across
	// all operations (0 means none).
	AccountRate  float64
	AccountBurst int
	// ThrottleCodes overrides the error code a rate throttle returns, per
	// operation. Default: ThrottlingException, except TooManyRequestsException
	// for StartChatContact.
	ThrottleCodes map[string]string
	// RetryAfter adds an x-amz-retry-after header (milliseconds until the next
	// token) to rate throttles.
	RetryAfter bool

	// Seed seeds every random choice (ids, durations, faults).
	Seed int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// Credentials maps access key id to secret key. Empty: any SigV4
	// credentials (or none) are accepted and only the access key is read.
	// Non-empty: signatures are verified and unknown keys rejected.
	Credentials map[string]string
	// AdminToken, when set, is required as "Authorization: Bearer <token>" on
	// /_sim/ and /metrics. When Credentials are set and AdminToken is empty, a
	// random token is generated (see Server.AdminToken).
	AdminToken string

	// MaxBodyBytes caps request bodies (0 means 1 MiB); larger bodies get 413.
	MaxBodyBytes int64
	// BodyTimeout bounds reading one request's body over a real connection
	// (0 means 30 s), so a slow client cannot hold a connection forever; a
	// body not read in time gets 408 RequestTimeoutException.
	BodyTimeout time.Duration

	// State seeds the account's resources; nil means the default instance.
	State *Seed

	// CallDuration, ChatDuration and TaskDuration are how long contacts stay
	// active (zero means uniform 30s..3m, 5m..20m and 10m..1h).
	CallDuration Distribution
	ChatDuration Distribution
	TaskDuration Distribution
	// MetricDrift, when > 0, makes the real-time metrics move: every
	// MetricDrift a seeded amount of background traffic (contacts waiting,
	// agents busy, the oldest contact's age) is added to what the simulated
	// contacts give, so a dashboard shows life. 0 means none.
	MetricDrift time.Duration
	// CallLimit selects what StartOutboundVoiceContact does beyond the
	// concurrent-active-calls quota: CallLimitReorder (default) or CallLimitError.
	CallLimit string
	// RefusedDestinationPrefixes are destination numbers StartOutboundVoiceContact
	// refuses with DestinationNotAllowedException. nil means {"+1555000"}; an
	// empty non-nil slice refuses nothing.
	RefusedDestinationPrefixes []string
	// DialRate and DialBurst are the per-campaign capacity of
	// PutDialRequestBatch items; items beyond it fail with RequestThrottled
	// inside a 200 response (0 means 5/s burst 25).
	DialRate  float64
	DialBurst int

	// ContactEvents, when set, receives the contact events of voice calls
	// (INITIATED, CONNECTED_TO_SYSTEM, DISCONNECTED in EventBridge's
	// envelope) when they happen; package contactevents publishes them to
	// an SQS queue, as an EventBridge rule would. Server.Close stops it.
	ContactEvents ContactEventSink

	// Faults maps operation name (or "*" for every operation without its own
	// entry) to injected faults.
	Faults map[string]Fault

	// TimelineSeconds bounds the per-second history in stats (0 means 3600).
	TimelineSeconds int
	// Logger receives one line per admin change; nil discards.
	Logger *slog.Logger

	// Accounts is the number of simulated accounts NewMulti serves (0
	// means 1; at most MaxAccounts). New ignores it: a Server is one
	// account.
	Accounts int

	// secrets, when set (by NewMulti), replaces Credentials as the lookup
	// of signing secrets and turns verification on.
	secrets sigv4.SecretFunc
}

// withDefaults fills defaults and validates; errors name the field.
func (o Options) withDefaults() (Options, error) {
	if o.Accounts < 0 || o.Accounts > MaxAccounts {
		return o, fmt.Errorf("accounts: must be in 1..%d, got %d", MaxAccounts, o.Accounts)
	}
	if o.Accounts == 0 {
		o.Accounts = 1
	}
	if o.Accounts > 1 && o.AccountID != "" {
		return o, fmt.Errorf("account_id: cannot be set with accounts > 1 (account k's id is %s, %s, …)", MultiAccountID(1), MultiAccountID(2))
	}
	if o.AccountID == "" {
		o.AccountID = DefaultAccountID
	}
	if len(o.AccountID) != 12 || strings.Trim(o.AccountID, "0123456789") != "" {
		return o, fmt.Errorf("account_id: must be 12 digits, got %q", o.AccountID)
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.Quotas == nil {
		o.Quotas = quotas.Default()
	} else {
		o.Quotas = o.Quotas.Clone()
	}
	if o.RateScale == 0 {
		o.RateScale = 1
	}
	if o.RateScale < 0 || o.RateScale != o.RateScale {
		return o, fmt.Errorf("rate_scale: must be > 0, got %v", o.RateScale)
	}
	if o.BodyTimeout < 0 {
		return o, fmt.Errorf("body_timeout: must be >= 0, got %v", o.BodyTimeout)
	}
	if o.BodyTimeout == 0 {
		o.BodyTimeout = DefaultBodyTime
	}
	if o.AccountRate < 0 || o.AccountBurst < 0 {
		return o, fmt.Errorf("account_rate/account_burst: must be >= 0")
	}
	if o.AccountRate > 0 && o.AccountBurst == 0 {
		o.AccountBurst = max(1, int(o.AccountRate))
	}
	for op, code := range o.ThrottleCodes {
		if _, ok := opByName[op]; !ok {
			return o, fmt.Errorf("throttle_codes: unknown operation %q", op)
		}
		if !validThrottleCode(code) {
			return o, fmt.Errorf("throttle_codes.%s: unsupported code %q (want ThrottlingException, TooManyRequestsException or LimitExceededException)", op, code)
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBody
	}
	if o.MaxBodyBytes < 0 {
		return o, fmt.Errorf("max_body_bytes: must be > 0, got %d", o.MaxBodyBytes)
	}
	if o.CallDuration.IsZero() {
		o.CallDuration = Distribution{Kind: DistUniform, Min: 30 * time.Second, Max: 3 * time.Minute}
	}
	if o.ChatDuration.IsZero() {
		o.ChatDuration = Distribution{Kind: DistUniform, Min: 5 * time.Minute, Max: 20 * time.Minute}
	}
	if o.TaskDuration.IsZero() {
		o.TaskDuration = Distribution{Kind: DistUniform, Min: 10 * time.Minute, Max: time.Hour}
	}
	for name, d := range map[string]Distribution{"call_duration": o.CallDuration, "chat_duration": o.ChatDuration, "task_duration": o.TaskDuration} {
		if err := d.Validate(); err != nil {
			return o, fmt.Errorf("%s: %w", name, err)
		}
	}
	switch o.CallLimit {
	case "":
		o.CallLimit = CallLimitReorder
	case CallLimitReorder, CallLimitError:
	default:
		return o, fmt.Errorf("call_limit: must be %q or %q, got %q", CallLimitReorder, CallLimitError, o.CallLimit)
	}
	if o.RefusedDestinationPrefixes == nil {
		o.RefusedDestinationPrefixes = []string{"+1555000"}
	}
	if o.DialRate < 0 || o.DialBurst < 0 {
		return o, fmt.Errorf("dial_rate/dial_burst: must be >= 0")
	}
	if o.DialRate == 0 {
		o.DialRate = 5
	}
	if o.DialBurst == 0 {
		o.DialBurst = 25
	}
	for op, f := range o.Faults {
		if op != "*" {
			if _, ok := opByName[op]; !ok {
				return o, fmt.Errorf("faults: unknown operation %q", op)
			}
		}
		if err := f.Validate(); err != nil {
			return o, fmt.Errorf("faults.%s: %w", op, err)
		}
	}
	if o.TimelineSeconds == 0 {
		o.TimelineSeconds = DefaultTimeline
	}
	if o.TimelineSeconds < 1 || o.TimelineSeconds > 7*24*3600 {
		return o, fmt.Errorf("timeline_seconds: must be in 1..604800, got %d", o.TimelineSeconds)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

func validThrottleCode(code string) bool {
	switch code {
	case "ThrottlingException", "TooManyRequestsException", "LimitExceededException":
		return true
	}
	return false
}
