package awserr

import "errors"

var classNames = [...]string{
	ClassUnknown:          "unknown",
	ClassRateThrottle:     "rate-throttle",
	ClassConcurrencyQuota: "concurrency-quota",
	ClassHardQuota:        "hard-quota",
	ClassTransient:        "transient",
	ClassClientFault:      "client-fault",
	ClassCanceled:         "canceled",
}

// String returns the class's stable name, e.g. "rate-throttle".
func (c Class) String() string {
	if c >= 0 && int(c) < len(classNames) {
		return classNames[c]
	}
	return "unknown"
}

// ParseClass returns the class named s (as produced by String).
func ParseClass(s string) (Class, bool) {
	for i, n := range classNames {
		if n == s {
			return Class(i), true
		}
	}
	return ClassUnknown, false
}

// MarshalText implements encoding.TextMarshaler with the class's name.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Class) UnmarshalText(b []byte) error {
	v, ok := ParseClass(string(b))
	if !ok {
		return errors.New("awserr: unknown class " + string(b))
	}
	*c = v
	return nil
}

// Sentinel returns the sentinel error of c (ErrRateThrottle, …);
// context.Canceled for ClassCanceled and nil for ClassUnknown.
func (c Class) Sentinel() error {
	switch c {
	case ClassRateThrottle:
		return ErrRateThrottle
	case ClassConcurrencyQuota:
		return ErrConcurrencyQuota
	case ClassHardQuota:
		return ErrHardQuota
	case ClassTransient:
		return ErrTransient
	case ClassClientFault:
		return ErrClientFault
	case ClassCanceled:
		return ErrCanceled
	}
	return nil
}

// ErrCanceled is the sentinel of ClassCanceled. Errors of that class usually
// also unwrap to context.Canceled or context.DeadlineExceeded.
var ErrCanceled = errors.New("canceled")

// Retryable reports whether the same request may succeed if sent again
// later: true for rate throttles, transient failures and concurrency quotas
// (after a contact ends), false for hard quotas, client faults, cancellation
// and unrecognised failures.
func (i Info) Retryable() bool {
	switch i.Class {
	case ClassRateThrottle, ClassTransient, ClassConcurrencyQuota:
		return true
	}
	return false
}

// IsQuota reports whether the class is a concurrency or hard quota.
func (c Class) IsQuota() bool { return c == ClassConcurrencyQuota || c == ClassHardQuota }
