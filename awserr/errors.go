package awserr

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error is a classified failure that is not a quota: a rate throttle, a
// transient failure, a client fault, a cancellation or an unknown failure.
// errors.Is matches the class sentinel; Unwrap returns the cause.
type Error struct {
	Info
	Err error // the original error, may be nil
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("awserr: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Class.String())
	if e.Code != "" || e.Status != 0 {
		b.WriteString(" (")
		b.WriteString(e.Code)
		if e.Status != 0 {
			if e.Code != "" {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "HTTP %d", e.Status)
		}
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	} else if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's class.
func (e *Error) Is(target error) bool {
	s := e.Class.Sentinel()
	return s != nil && target == s
}

// QuotaError is a concurrency or hard quota failure: the data behind
// ErrConcurrencyQuota and ErrHardQuota. errors.Is matches the class sentinel;
// Unwrap returns the cause.
type QuotaError struct {
	Op         string        // operation, e.g. "StartChatContact"
	Code       string        // error code, e.g. "LimitExceededException"
	QuotaName  string        // e.g. "Concurrent active chats per instance"; empty if not known
	QuotaCode  string        // Service Quotas code, e.g. "L-D4BA6F6E"; empty if not known
	Advice     string        // what to do
	Class      Class         // ClassConcurrencyQuota or ClassHardQuota
	RetryAfter time.Duration // server-suggested delay, 0 if none
	Err        error         // the original error, may be nil
}

func (e *QuotaError) Error() string {
	var b strings.Builder
	b.WriteString("awserr: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Class == ClassConcurrencyQuota {
		b.WriteString(ErrConcurrencyQuota.Error())
	} else {
		b.WriteString(ErrHardQuota.Error())
	}
	if e.QuotaName != "" {
		b.WriteString(": ")
		b.WriteString(e.QuotaName)
		if e.QuotaCode != "" {
			b.WriteString(" (" + e.QuotaCode + ")")
		}
	} else if e.QuotaCode != "" {
		b.WriteString(": " + e.QuotaCode)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	} else if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *QuotaError) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's class.
func (e *QuotaError) Is(target error) bool {
	s := e.Class.Sentinel()
	return s != nil && target == s
}

// Err returns i as an error wrapping cause: a *QuotaError for the
// concurrency and hard quota classes, an *Error otherwise.
func (i Info) Err(cause error) error {
	if i.Class.IsQuota() {
		return &QuotaError{
			Op: i.Op, Code: i.Code, QuotaName: i.QuotaName, QuotaCode: i.QuotaCode,
			Advice: i.Advice, Class: i.Class, RetryAfter: i.RetryAfter, Err: cause,
		}
	}
	return &Error{Info: i, Err: cause}
}

// infoOf recovers the Info carried by an *Error or *QuotaError in err's chain.
func infoOf(err error) (Info, bool) {
	var e *Error
	var q *QuotaError
	switch {
	case errors.As(err, &q):
		return Info{Class: q.Class, Op: q.Op, Code: q.Code, QuotaName: q.QuotaName,
			QuotaCode: q.QuotaCode, Advice: q.Advice, RetryAfter: q.RetryAfter}, true
	case errors.As(err, &e):
		return e.Info, true
	}
	return Info{}, false
}
