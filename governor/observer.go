package governor

import (
	"time"

	"github.com/tollgatehq/tollgate/awserr"
)

// Attempt describes one call made by the governor.
type Attempt struct {
	Op      string
	Attempt int           // 1 for the first call, 2 for the first retry, …
	Start   time.Time     // when the call was sent (after admission)
	Wait    time.Duration // time spent in admission before the call
	Latency time.Duration // how long the call took
	Err     error         // the call's error; nil on success
	Info    awserr.Info   // the classification of Err; only Op is set on success
	Retry   bool          // the governor will retry
	Delay   time.Duration // when Retry: the backoff before the next admission
}

// Outcome describes how a call (all its attempts) ended.
type Outcome struct {
	Op       string
	Attempts int // calls made; 0 if the first admission failed
	Start    time.Time
	Elapsed  time.Duration
	Err      error       // what the caller got; nil on success
	Info     awserr.Info // the last failed attempt's classification; zero if none failed
}

// Observer receives every attempt and every outcome. Methods are called
// synchronously on the calling goroutine, possibly from many goroutines at
// once; they must be quick and safe for concurrent use.
type Observer interface {
	ObserveAttempt(Attempt)
	ObserveOutcome(Outcome)
}

// ObserverFuncs adapts functions to an Observer. A nil field is skipped.
type ObserverFuncs struct {
	Attempt func(Attempt)
	Outcome func(Outcome)
}

// ObserveAttempt calls f.Attempt if it is set.
func (f ObserverFuncs) ObserveAttempt(a Attempt) {
	if f.Attempt != nil {
		f.Attempt(a)
	}
}

// ObserveOutcome calls f.Outcome if it is set.
func (f ObserverFuncs) ObserveOutcome(o Outcome) {
	if f.Outcome != nil {
		f.Outcome(o)
	}
}

// Observers fans out to every non-nil observer in order. It returns nil if
// there is none.
func Observers(obs ...Observer) Observer {
	var list multiObserver
	for _, o := range obs {
		if o != nil {
			list = append(list, o)
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return list
}

type multiObserver []Observer

func (m multiObserver) ObserveAttempt(a Attempt) {
	for _, o := range m {
		o.ObserveAttempt(a)
	}
}

func (m multiObserver) ObserveOutcome(o Outcome) {
	for _, ob := range m {
		ob.ObserveOutcome(o)
	}
}
