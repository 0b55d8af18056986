package governor_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/backoff"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// connectError stands in for an aws-sdk-go-v2 API error.
type connectError struct {
	code   string
	status int
}

func (e connectError) Error() string        { return e.code }
func (e connectError) ErrorCode() string    { return e.code }
func (e connectError) HTTPStatusCode() int  { return e.status }
func (e connectError) ErrorMessage() string { return e.code }

func ExampleGovernor_Do() {
	limiter := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{}) // the published Connect quotas
	g := governor.New(limiter, governor.Options{
		Backoff: backoff.Options{ThrottleBase: time.Millisecond}, // short, for the example
		Rand:    rand.NewPCG(1, 2),
		Observer: governor.ObserverFuncs{Attempt: func(a governor.Attempt) {
			if a.Err == nil {
				fmt.Printf("attempt %d: ok\n", a.Attempt)
				return
			}
			fmt.Printf("attempt %d: %v, retry=%v\n", a.Attempt, a.Info.Class, a.Retry)
		}},
	})

	calls := 0
	err := g.Do(context.Background(), "DescribeUser", func(ctx context.Context) error {
		calls++
		if calls < 3 {
			return connectError{"ThrottlingException", 429}
		}
		return nil
	})
	fmt.Println("err:", err)
	// Output:
	// attempt 1: rate-throttle, retry=true
	// attempt 2: rate-throttle, retry=true
	// attempt 3: ok
	// err: <nil>
}

func ExampleGovernor_Do_hardQuota() {
	g := governor.New(ratelimit.NewHierarchy(ratelimit.HierarchyOptions{}), governor.Options{})
	calls := 0
	err := g.Do(context.Background(), "CreateUser", func(ctx context.Context) error {
		calls++
		return connectError{"LimitExceededException", 429}
	})
	var q *awserr.QuotaError
	if errors.Is(err, awserr.ErrHardQuota) && errors.As(err, &q) {
		fmt.Printf("calls: %d\nquota: %s (%s)\n", calls, q.QuotaName, q.QuotaCode)
	}
	// Output:
	// calls: 1
	// quota: Users per instance (L-9A46857E)
}

func ExampleGovernor_Do_concurrencyQuota() {
	g := governor.New(ratelimit.NewHierarchy(ratelimit.HierarchyOptions{}), governor.Options{})
	err := g.Do(context.Background(), "StartChatContact", func(ctx context.Context) error {
		return connectError{"LimitExceededException", 429}
	})
	var q *awserr.QuotaError
	if errors.Is(err, awserr.ErrConcurrencyQuota) && errors.As(err, &q) {
		fmt.Printf("requeue in %v: %s\n", q.RetryAfter, q.QuotaName)
	}
	// Output:
	// requeue in 30s: Concurrent active chats per instance
}

func ExampleGovernor_DoWith() {
	g := governor.New(ratelimit.NewHierarchy(ratelimit.HierarchyOptions{}), governor.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	// A batch job: low priority, and a server asking for 5 s cannot fit in
	// the 1 s left, so the governor fails at once instead of sleeping.
	err := g.DoWith(ctx, "ListUsers", governor.CallOptions{Priority: ratelimit.PriorityLow},
		func(ctx context.Context) error { return slowDown{} })
	fmt.Println(errors.Is(err, governor.ErrDeadline), errors.Is(err, awserr.ErrRateThrottle))
	// Output:
	// true true
}

// slowDown is a throttle whose server asks for 5 s.
type slowDown struct{}

func (slowDown) Error() string       { return "ThrottlingException" }
func (slowDown) ErrorCode() string   { return "ThrottlingException" }
func (slowDown) HTTPStatusCode() int { return 429 }
func (slowDown) HTTPResponse() *http.Response {
	return &http.Response{StatusCode: 429, Header: http.Header{"X-Amz-Retry-After": {"5000"}}}
}
