package governor_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// fakeLimiter admits one request every interval (burst 1, first at once),
// records every request, and fails early when the slot would come after
// ctx's deadline, like ratelimit.Limiter's contract asks.
type fakeLimiter struct {
	interval time.Duration
	fail     error // if set, Wait returns it

	mu   sync.Mutex
	next time.Time
	reqs []ratelimit.Request
}

func (f *fakeLimiter) Wait(ctx context.Context, req ratelimit.Request) error {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	if f.fail != nil {
		f.mu.Unlock()
		return f.fail
	}
	now := time.Now()
	at := now
	if f.next.After(at) {
		at = f.next
	}
	if dl, ok := ctx.Deadline(); ok && at.After(dl) {
		f.mu.Unlock()
		return fmt.Errorf("fake: slot in %v: %w", at.Sub(now), ratelimit.ErrWouldExceedDeadline)
	}
	f.next = at.Add(f.interval)
	f.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (f *fakeLimiter) Try(ctx context.Context, req ratelimit.Request) (ratelimit.Decision, error) {
	return ratelimit.Decision{OK: true}, nil
}
func (f *fakeLimiter) SetLimit(context.Context, string, ratelimit.Limit) error { return nil }
func (f *fakeLimiter) Limit(string) ratelimit.Limit                            { return ratelimit.Limit{} }
func (f *fakeLimiter) requests() []ratelimit.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ratelimit.Request(nil), f.reqs...)
}

// apiError looks like an aws-sdk-go-v2 API error to awserr.Classify.
type apiError struct {
	code       string
	status     int
	retryAfter time.Duration // sent as x-amz-retry-after when > 0
}

func (e *apiError) Error() string {
	return fmt.Sprintf("api error %s (HTTP %d)", e.code, e.status)
}
func (e *apiError) ErrorCode() string    { return e.code }
func (e *apiError) ErrorMessage() string { return e.code }
func (e *apiError) HTTPStatusCode() int  { return e.status }
func (e *apiError) HTTPResponse() *http.Response {
	h := http.Header{}
	if e.retryAfter > 0 {
		h.Set("x-amz-retry-after", strconv.FormatInt(e.retryAfter.Milliseconds(), 10))
	}
	return &http.Response{StatusCode: e.status, Header: h}
}

var (
	errThrottle  = &apiError{code: "ThrottlingException", status: 429}
	errInternal  = &apiError{code: "InternalServiceException", status: 500}
	errNotFound  = &apiError{code: "ResourceNotFoundException", status: 404}
	errLimitChat = &apiError{code: "LimitExceededException", status: 429} // on StartChatContact: concurrent chats
	errLimitUser = &apiError{code: "LimitExceededException", status: 429} // on CreateUser: users per instance
)

// half is a rand.Source whose Float64 is always 0.5.
type half struct{}

func (half) Uint64() uint64 { return 1 << 52 }

// recorder is an Observer that keeps everything.
type recorder struct {
	mu       sync.Mutex
	attempts []governor.Attempt
	outcomes []governor.Outcome
}

func (r *recorder) ObserveAttempt(a governor.Attempt) {
	r.mu.Lock()
	r.attempts = append(r.attempts, a)
	r.mu.Unlock()
}

func (r *recorder) ObserveOutcome(o governor.Outcome) {
	r.mu.Lock()
	r.outcomes = append(r.outcomes, o)
	r.mu.Unlock()
}

func newPCG(seed uint64) *rand.PCG { return rand.NewPCG(seed, seed) }
