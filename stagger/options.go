package stagger

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
)

// Call is one operation a desktop's start-up makes, Count times.
type Call struct {
	Op    string `json:"op"`
	Count int    `json:"count"`
}

// DefaultCalls are the public-API calls a typical custom agent desktop (or
// the CRM integration behind it) makes when an agent logs in. The stock CCP
// calls none of them: it talks to the agent service with a bearer token
// (GetAgentSnapshot, GetAgentConfiguration, …), whose throttles AWS does not
// publish; plan it with those operations and quotas you supply.
var DefaultCalls = []Call{{Op: "GetCurrentUserData", Count: 1}, {Op: "ListUsers", Count: 1}, {Op: "DescribeUser", Count: 1}}

// Defaults used when the corresponding Options field is zero.
const (
	DefaultSeedWindow  = 30 * time.Second // the guide's Math.random() * 30 s
	DefaultProbability = 0.95
	DefaultTrials      = 200
	DefaultHeadroom    = 1.0 // tokens of each operation's burst reservations leave unused
	DefaultMaxAttempts = 3   // the Go SDK's standard retry mode
	DefaultMaxBackoff  = 20 * time.Second
	// ThrottleBackoffBase is the SDK's backoff base for throttles: a retry
	// waits rand[0,1) × min(1 s × 2^(attempt−1), 20 s).
	ThrottleBackoffBase = time.Second
)

// Errors for bad input. A *FieldError wraps ErrInvalid.
var ErrInvalid = errors.New("stagger: invalid input")

// FieldError names the input at fault.
type FieldError struct {
	Field string // e.g. "agents", "calls", "share"
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Options describe a synchronized start. Agents is required; the zero
// value of every other field means its default.
type Options struct {
	// Agents is how many desktops start together (required, > 0).
	Agents int
	// Calls one start-up makes; nil means DefaultCalls. Every operation
	// must be in Quotas.
	Calls []Call
	// Quotas is the quota table; nil means quotas.Default().
	Quotas *quotas.Table
	// Share is the part of each operation's quota (rate and burst) left for
	// start-ups after the account's other traffic, in (0, 1]; 0 means 1.
	Share float64
	// SeedWindow is the random-jitter window of the guide's recipe
	// (default 30 s).
	SeedWindow time.Duration
	// SlotWidth is the width of one hashed slot (default 1 s).
	SlotWidth time.Duration
	// Target is the number of throttled calls (HTTP 429 responses,
	// retries included) a jittered window may produce, and Probability
	// (default 0.95) how likely it must stay at or under it.
	Target      float64
	Probability float64
	// Trials is the number of seeded simulations per estimate (default
	// 200); Seed seeds them (0 means 1).
	Trials int
	Seed   uint64
	// Headroom is how many tokens of each operation's burst reservations
	// leave unused, to absorb network jitter (default 1; negative: none).
	Headroom float64
	// MaxAttempts is the attempts per call of the modeled retryer (default
	// 3, the SDK's standard mode).
	MaxAttempts int
}

// withDefaults fills in the defaults and validates; errors are *FieldError.
func (o Options) withDefaults() (Options, error) {
	if o.Agents <= 0 {
		return o, bad("agents", "must be > 0, got %d", o.Agents)
	}
	if o.Calls == nil {
		o.Calls = DefaultCalls
	}
	if len(o.Calls) == 0 {
		return o, bad("calls", "must name at least one operation")
	}
	if o.Quotas == nil {
		o.Quotas = quotas.Default()
	}
	seen := map[string]bool{}
	for i, c := range o.Calls {
		if c.Count <= 0 {
			return o, bad("calls", "%s: count must be > 0, got %d", c.Op, c.Count)
		}
		if _, ok := o.Quotas.API(c.Op); !ok {
			return o, bad("calls", "unknown operation %q (entry %d): not in the quota table; give its quota", c.Op, i+1)
		}
		if seen[c.Op] {
			return o, bad("calls", "operation %s listed twice", c.Op)
		}
		seen[c.Op] = true
	}
	if o.Share == 0 {
		o.Share = 1
	}
	if !(o.Share > 0 && o.Share <= 1) {
		return o, bad("share", "must be in (0, 1], got %v", o.Share)
	}
	if o.SeedWindow == 0 {
		o.SeedWindow = DefaultSeedWindow
	}
	if o.SeedWindow < 0 {
		return o, bad("seed-window", "must be > 0, got %v", o.SeedWindow)
	}
	if o.SlotWidth == 0 {
		o.SlotWidth = DefaultSlotWidth
	}
	if o.SlotWidth < 0 {
		return o, bad("slot-width", "must be > 0, got %v", o.SlotWidth)
	}
	if o.Target < 0 || math.IsNaN(o.Target) {
		return o, bad("target", "must be >= 0, got %v", o.Target)
	}
	if o.Probability == 0 {
		o.Probability = DefaultProbability
	}
	if !(o.Probability > 0 && o.Probability < 1) {
		return o, bad("probability", "must be in (0, 1), got %v", o.Probability)
	}
	if o.Trials == 0 {
		o.Trials = DefaultTrials
	}
	if o.Trials < 0 {
		return o, bad("trials", "must be > 0, got %d", o.Trials)
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	switch {
	case o.Headroom == 0:
		o.Headroom = DefaultHeadroom
	case o.Headroom < 0:
		o.Headroom = 0
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxAttempts < 0 {
		return o, bad("max-attempts", "must be > 0, got %d", o.MaxAttempts)
	}
	return o, nil
}

// Available is the part of one operation's quota left for start-ups.
type Available struct {
	Op    string  `json:"op"`
	Count int     `json:"calls_per_startup"`
	Rate  float64 `json:"rate"`  // Share × the quota's rate
	Burst int     `json:"burst"` // ⌊Share × the quota's burst⌋, at least 1
}

// available returns each call's operation with its share of the quota.
func (o Options) available() []Available {
	out := make([]Available, len(o.Calls))
	for i, c := range o.Calls {
		a, _ := o.Quotas.API(c.Op)
		out[i] = Available{Op: c.Op, Count: c.Count, Rate: a.Rate * o.Share, Burst: max(1, int(math.Floor(float64(a.Burst)*o.Share+1e-9)))}
	}
	return out
}

// ParseCalls parses a comma-separated list of operations, each optionally
// followed by ":count" (default 1), e.g. "GetCurrentUserData,ListQueues:2".
// Errors name the entry.
func ParseCalls(s string) ([]Call, error) {
	var out []Call
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, bad("calls", "entry %d is empty", i+1)
		}
		op, n, hasN := strings.Cut(part, ":")
		op = strings.TrimSpace(op)
		if op == "" {
			return nil, bad("calls", "entry %d (%q): operation name is empty", i+1, part)
		}
		for _, r := range op {
			if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
				return nil, bad("calls", "entry %d (%q): an operation name is letters and digits", i+1, part)
			}
		}
		c := Call{Op: op, Count: 1}
		if hasN {
			v, err := strconv.Atoi(strings.TrimSpace(n))
			if err != nil || v <= 0 || v > 1000 {
				return nil, bad("calls", "entry %d (%q): count must be a whole number in 1..1000", i+1, part)
			}
			c.Count = v
		}
		out = append(out, c)
	}
	return out, nil
}
