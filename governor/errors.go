package governor

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinels for why the governor stopped retrying. They are matched with
// errors.Is on an *Error.
var (
	// ErrDeadline: the next wait (backoff or admission) would have ended
	// after the context's deadline or the MaxElapsed budget, so the call
	// failed early instead of sleeping into it.
	ErrDeadline = errors.New("governor: the next wait would end after the deadline")
	// ErrAttempts: the attempt cap was reached.
	ErrAttempts = errors.New("governor: attempts exhausted")
	// ErrAdmission: the Limiter failed for a reason other than the deadline
	// or the context (for example a shared limiter's store was unreachable).
	ErrAdmission = errors.New("governor: admission failed")
)

// Error reports why a retryable call stopped. errors.Is matches Reason
// (ErrDeadline, ErrAttempts, ErrAdmission, context.Canceled or
// context.DeadlineExceeded), the last attempt's classified error (so
// awserr.ErrRateThrottle and the SDK's own error types still match) and the
// limiter's error.
type Error struct {
	Op        string
	Attempts  int           // calls made
	Elapsed   time.Duration // since the call started
	Reason    error         // why the governor stopped
	Wait      time.Duration // for ErrDeadline after a failure: the backoff that would have overrun
	Err       error         // the last attempt's classified error; nil if no attempt failed
	Admission error         // the Limiter's error if admission failed, else nil
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("governor: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(strings.TrimPrefix(e.Reason.Error(), "governor: "))
	if e.Wait > 0 {
		fmt.Fprintf(&b, " (backoff %v)", e.Wait)
	}
	fmt.Fprintf(&b, " after %d attempt(s) in %v", e.Attempts, e.Elapsed)
	if e.Admission != nil {
		b.WriteString("; admission: ")
		b.WriteString(e.Admission.Error())
	}
	if e.Err != nil {
		b.WriteString("; last error: ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Reason, Admission and Err, those that are set.
func (e *Error) Unwrap() []error {
	out := make([]error, 0, 3)
	for _, err := range []error{e.Reason, e.Admission, e.Err} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}
