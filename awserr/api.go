package awserr

import (
	"errors"
	"net/http"
	"time"
)

// Class is what a failed call means for the caller.
type Class int

// Classes of failure. The zero value is ClassUnknown.
const (
	ClassUnknown          Class = iota // nothing recognised
	ClassRateThrottle                  // a token bucket is empty: wait for a token, retry in the same budget
	ClassConcurrencyQuota              // a concurrency quota (chats, tasks, calls) is full: park, requeue with delay
	ClassHardQuota                     // a resource quota: only an increase helps; fail fast
	ClassTransient                     // 5xx, timeouts, resets: retry with short backoff
	ClassClientFault                   // bad input, not found, denied: do not retry
	ClassCanceled                      // the caller's context was canceled or its deadline passed
)

// Sentinels, one per class, matched by errors.Is on *Error.
var (
	ErrRateThrottle     = errors.New("rate throttle")
	ErrConcurrencyQuota = errors.New("concurrency quota exceeded")
	ErrHardQuota        = errors.New("hard quota exceeded")
	ErrTransient        = errors.New("transient failure")
	ErrClientFault      = errors.New("client fault")
)

// Info is the classification of one failure.
type Info struct {
	Class      Class
	Op         string        // operation, e.g. "StartChatContact"
	Code       string        // sanitized error code, e.g. "LimitExceededException"
	Status     int           // HTTP status, 0 if unknown
	Message    string        // the service's message
	RequestID  string        // X-Amzn-RequestId
	RetryAfter time.Duration // from x-amz-retry-after (ms) or Retry-After; 0 if absent
	QuotaName  string        // for quota classes: the quota's name
	QuotaCode  string        // for quota classes: the Service Quotas code, e.g. "L-D4BA6F6E"
	Advice     string        // one or two plain sentences on what to do
}

// Interfaces through which aws-sdk-go-v2 errors are reached without importing it.
type (
	errorCoder     interface{ ErrorCode() string }
	errorMessager  interface{ ErrorMessage() string }
	httpStatusCode interface{ HTTPStatusCode() int }
	httpResponser  interface{ HTTPResponse() *http.Response }
	requestIDer    interface{ ServiceRequestID() string }
)
