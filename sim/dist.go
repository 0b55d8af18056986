package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Distribution kinds.
const (
	DistFixed       = "fixed"
	DistUniform     = "uniform"
	DistExponential = "exp"
)

// Distribution is a seeded random duration. Its text form (in files, flags
// and the admin API) is one of "" (none), "150ms" or "fixed:150ms",
// "uniform:20ms..80ms", "exp:100ms" (exponential with that mean, capped at
// ten times the mean).
type Distribution struct {
	Kind     string
	Min, Max time.Duration // fixed: Min; uniform: [Min, Max)
	Mean     time.Duration // exp
}

// IsZero reports whether d is the empty distribution (always zero).
func (d Distribution) IsZero() bool { return d.Kind == "" }

// ParseDistribution parses the text form of a Distribution.
func ParseDistribution(s string) (Distribution, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" || s == "0" {
		return Distribution{}, nil
	}
	kind, arg, ok := strings.Cut(s, ":")
	if !ok {
		kind, arg = DistFixed, s
	}
	switch kind {
	case DistFixed:
		v, err := time.ParseDuration(arg)
		if err != nil {
			return Distribution{}, fmt.Errorf("distribution %q: %w", s, err)
		}
		return validated(s, Distribution{Kind: DistFixed, Min: v, Max: v})
	case DistUniform:
		a, b, ok := strings.Cut(arg, "..")
		if !ok {
			return Distribution{}, fmt.Errorf("distribution %q: uniform wants MIN..MAX", s)
		}
		lo, err := time.ParseDuration(a)
		if err != nil {
			return Distribution{}, fmt.Errorf("distribution %q: %w", s, err)
		}
		hi, err := time.ParseDuration(b)
		if err != nil {
			return Distribution{}, fmt.Errorf("distribution %q: %w", s, err)
		}
		return validated(s, Distribution{Kind: DistUniform, Min: lo, Max: hi})
	case DistExponential, "exponential":
		m, err := time.ParseDuration(arg)
		if err != nil {
			return Distribution{}, fmt.Errorf("distribution %q: %w", s, err)
		}
		return validated(s, Distribution{Kind: DistExponential, Mean: m})
	}
	return Distribution{}, fmt.Errorf("distribution %q: kind must be fixed, uniform or exp", s)
}

func validated(s string, d Distribution) (Distribution, error) {
	if err := d.Validate(); err != nil {
		return Distribution{}, fmt.Errorf("distribution %q: %w", s, err)
	}
	return d, nil
}

// Validate checks the bounds.
func (d Distribution) Validate() error {
	switch d.Kind {
	case "":
	case DistFixed:
		if d.Min < 0 {
			return fmt.Errorf("fixed duration must be >= 0, got %v", d.Min)
		}
	case DistUniform:
		if d.Min < 0 || d.Max < d.Min {
			return fmt.Errorf("uniform bounds must satisfy 0 <= min <= max, got %v..%v", d.Min, d.Max)
		}
	case DistExponential:
		if d.Mean <= 0 {
			return fmt.Errorf("exp mean must be > 0, got %v", d.Mean)
		}
	default:
		return fmt.Errorf("unknown distribution kind %q", d.Kind)
	}
	return nil
}

// Sample draws one duration using r.
func (d Distribution) Sample(r *rand.Rand) time.Duration {
	switch d.Kind {
	case DistFixed:
		return d.Min
	case DistUniform:
		if d.Max <= d.Min {
			return d.Min
		}
		return d.Min + time.Duration(r.Int64N(int64(d.Max-d.Min)))
	case DistExponential:
		v := r.ExpFloat64() * float64(d.Mean)
		return time.Duration(math.Min(v, 10*float64(d.Mean)))
	}
	return 0
}

// String returns the text form.
func (d Distribution) String() string {
	switch d.Kind {
	case DistFixed:
		return "fixed:" + d.Min.String()
	case DistUniform:
		return "uniform:" + d.Min.String() + ".." + d.Max.String()
	case DistExponential:
		return "exp:" + d.Mean.String()
	}
	return ""
}

// MarshalText implements encoding.TextMarshaler.
func (d Distribution) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Distribution) UnmarshalText(b []byte) error {
	v, err := ParseDistribution(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalYAML accepts the text form.
func (d *Distribution) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	return d.UnmarshalText([]byte(s))
}

// Duration is a time.Duration written as text ("150ms") in files and JSON.
type Duration time.Duration

// MarshalJSON writes the text form.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON accepts "150ms" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var f float64
		if err2 := json.Unmarshal(b, &f); err2 != nil {
			return fmt.Errorf("duration: want a string like \"150ms\" or seconds, got %s", b)
		}
		*d = Duration(f * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML accepts "150ms" or a number of seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	if v, err := time.ParseDuration(s); err == nil {
		*d = Duration(v)
		return nil
	}
	var f float64
	if err := n.Decode(&f); err != nil {
		return fmt.Errorf("duration: want a string like \"150ms\" or seconds, got %q", s)
	}
	*d = Duration(f * float64(time.Second))
	return nil
}
