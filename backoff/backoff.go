package backoff

import (
	"fmt"
	"math"
	"time"
)

// Strategy is a jitter strategy.
type Strategy int

// Strategies. The zero value is Full.
const (
	// Full: rand[0,1) × min(base × 2^(attempt−1), Cap). Spreads retries the
	// most; what aws-sdk-go-v2 v1.48 does by default.
	Full Strategy = iota
	// Equal: half the exponential ceiling, plus up to the other half at random.
	// Never retries almost immediately.
	Equal
	// Decorrelated: min(Cap, base + rand[0,1) × (3 × prev − base)), with prev
	// the previous delay (base on the first retry). Ignores attempt.
	Decorrelated
)

func (s Strategy) String() string {
	switch s {
	case Full:
		return "full"
	case Equal:
		return "equal"
	case Decorrelated:
		return "decorrelated"
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// ParseStrategy returns the strategy named s ("full", "equal", "decorrelated").
func ParseStrategy(s string) (Strategy, error) {
	for _, st := range []Strategy{Full, Equal, Decorrelated} {
		if st.String() == s {
			return st, nil
		}
	}
	return Full, fmt.Errorf("backoff: strategy: must be full, equal or decorrelated, got %q", s)
}

// Defaults applied to zero (or negative) fields of Options.
const (
	DefaultThrottleBase  = time.Second
	DefaultTransientBase = 50 * time.Millisecond
	DefaultCap           = 20 * time.Second
	DefaultMaxAttempts   = 3
)

// Options configure the delays. The zero value is full jitter with a 1 s
// base for throttles, 50 ms for other failures, a 20 s cap and 3 attempts:
// aws-sdk-go-v2 v1.48's defaults.
type Options struct {
	Strategy      Strategy
	ThrottleBase  time.Duration // base after a throttle; 0 means 1 s
	TransientBase time.Duration // base after any other retryable failure; 0 means 50 ms
	Cap           time.Duration // upper bound of any delay; 0 means 20 s
	MaxAttempts   int           // total attempts including the first; 0 means 3, < 0 means no limit
}

// SeedRecipe returns the classic recipe: full jitter, 1 s base for every
// failure, 32 s cap, 8 attempts.
func SeedRecipe() Options {
	return Options{Strategy: Full, ThrottleBase: time.Second, TransientBase: time.Second, Cap: 32 * time.Second, MaxAttempts: 8}
}

// WithDefaults returns o with every zero or negative field replaced by its
// default (a negative MaxAttempts, meaning no limit, is kept).
func (o Options) WithDefaults() Options {
	if o.ThrottleBase <= 0 {
		o.ThrottleBase = DefaultThrottleBase
	}
	if o.TransientBase <= 0 {
		o.TransientBase = DefaultTransientBase
	}
	if o.Cap <= 0 {
		o.Cap = DefaultCap
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	return o
}

// Validate reports fields that are set to values that make no sense; errors
// name the field.
func (o Options) Validate() error {
	switch {
	case o.Strategy < Full || o.Strategy > Decorrelated:
		return fmt.Errorf("backoff: strategy: unknown value %d", int(o.Strategy))
	case o.ThrottleBase < 0:
		return fmt.Errorf("backoff: throttle base: must be >= 0, got %v", o.ThrottleBase)
	case o.TransientBase < 0:
		return fmt.Errorf("backoff: transient base: must be >= 0, got %v", o.TransientBase)
	case o.Cap < 0:
		return fmt.Errorf("backoff: cap: must be >= 0, got %v", o.Cap)
	}
	return nil
}

// Retry reports whether another attempt is allowed after attempt (1-based)
// failed.
func (o Options) Retry(attempt int) bool {
	o = o.WithDefaults()
	return o.MaxAttempts < 0 || attempt < o.MaxAttempts
}

// Delay returns how long to wait after attempt (1-based: the number of the
// attempt that just failed) before the next one. throttle selects the
// throttle base; prev is the previous delay (used by Decorrelated; 0 on the
// first retry); u is a uniform random number in [0,1) (values outside are
// clamped). The result is never negative and never exceeds Cap.
func (o Options) Delay(attempt int, throttle bool, prev time.Duration, u float64) time.Duration {
	o = o.WithDefaults()
	if attempt < 1 {
		attempt = 1
	}
	if !(u >= 0) { // also catches NaN
		u = 0
	}
	if u >= 1 {
		u = math.Nextafter(1, 0)
	}
	base := o.TransientBase
	if throttle {
		base = o.ThrottleBase
	}
	limit := float64(o.Cap)
	var d float64
	switch o.Strategy {
	case Equal:
		c := ceiling(base, attempt, limit)
		d = c/2 + u*c/2
	case Decorrelated:
		p := float64(prev)
		if p < float64(base) {
			p = float64(base)
		}
		p = math.Min(p, limit)
		hi := 3 * p
		d = float64(base) + u*(hi-float64(base))
	default:
		d = u * ceiling(base, attempt, limit)
	}
	if d >= limit {
		return o.Cap
	}
	if d < 0 {
		return 0
	}
	return time.Duration(d)
}

// ceiling is min(base × 2^(attempt−1), limit) without overflow.
func ceiling(base time.Duration, attempt int, limit float64) float64 {
	if attempt > 64 {
		return limit
	}
	return math.Min(float64(base)*math.Exp2(float64(attempt-1)), limit)
}

// RetryAfterSlack is how far past the computed delay a server's retry-after
// hint may push the wait (aws-sdk-go-v2 v1.48 uses 5 s).
const RetryAfterSlack = 5 * time.Second

// WithRetryAfter combines a computed delay d with a server hint ra the way
// aws-sdk-go-v2 v1.48 treats x-amz-retry-after: clamp(ra, d, d+5 s). A hint
// of 0 or less leaves d unchanged.
func WithRetryAfter(d, ra time.Duration) time.Duration {
	if ra <= 0 {
		return d
	}
	return min(max(ra, d), d+RetryAfterSlack)
}
