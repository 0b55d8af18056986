package awssdk_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
)

func throttleRetryAfter(ms string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		reply(w, 429, map[string]string{"X-Amzn-ErrorType": "ThrottlingException", "x-amz-retry-after": ms}, `{"message":"Rate exceeded"}`)
	}
}

// TestDeadlineFailsEarly: a 5 s backoff cannot fit in a 2 s deadline, so
// the call returns at once after the first attempt instead of sleeping.
func TestDeadlineFailsEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(throttleRetryAfter("5000"))
		client := connect.NewFromConfig(testConfig(srv), endpoint, awssdk.Govern(newGov(governor.Options{})))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		err := calls["ListUsers"](ctx, client)
		if el := time.Since(start); el != 0 {
			t.Errorf("returned after %v want at once", el)
		}
		if n := srv.requests(); n != 1 {
			t.Errorf("got %d attempts want 1", n)
		}
		var ge *governor.Error
		if !errors.As(err, &ge) || !errors.Is(err, governor.ErrDeadline) || !errors.Is(err, awserr.ErrRateThrottle) || ge.Wait != 5*time.Second {
			t.Errorf("got %v want ErrDeadline for a 5s backoff wrapping the throttle", err)
		}
	})
}

// TestDeadlineFailsEarlyInAdmission: the operation's bucket is empty and
// its next token comes after the deadline.
func TestDeadlineFailsEarlyInAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, 200, nil, `{}`) })
		lim := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Ops: map[string]ratelimit.Limit{"ListUsers": {Rate: 0.1, Burst: 1}}})
		client := connect.NewFromConfig(testConfig(srv), endpoint, awssdk.Govern(governor.New(lim, governor.Options{})))
		if err := calls["ListUsers"](context.Background(), client); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		err := calls["ListUsers"](ctx, client)
		if el := time.Since(start); el != 0 {
			t.Errorf("returned after %v want at once", el)
		}
		if n := srv.requests(); n != 1 {
			t.Errorf("got %d requests want 1", n)
		}
		if !errors.Is(err, governor.ErrDeadline) || !errors.Is(err, ratelimit.ErrWouldExceedDeadline) {
			t.Errorf("got %v want ErrDeadline from admission", err)
		}
	})
}

// TestCancelDuringSDKBackoff: the SDK sleeps the governor's 10 s delay; a
// cancel after 2 s ends it, and the caller gets context.Canceled wrapping
// the throttle.
func TestCancelDuringSDKBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &outcomes{}
		srv := newServer(throttleRetryAfter("10000"))
		client := connect.NewFromConfig(testConfig(srv), endpoint, awssdk.Govern(newGov(governor.Options{Observer: rec})))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(2*time.Second, cancel)
		start := time.Now()
		err := calls["ListUsers"](ctx, client)
		if el := time.Since(start); el != 2*time.Second {
			t.Errorf("returned after %v want 2s", el)
		}
		if n := srv.requests(); n != 1 {
			t.Errorf("got %d attempts want 1", n)
		}
		if !errors.Is(err, context.Canceled) || !errors.Is(err, awserr.ErrRateThrottle) {
			t.Errorf("got %v want context.Canceled wrapping the throttle", err)
		}
		if len(rec.list) != 1 || !errors.Is(rec.list[0].Err, context.Canceled) || rec.list[0].Attempts != 1 {
			t.Errorf("observed outcomes %+v want one canceled after 1 attempt", rec.list)
		}
	})
}

// TestEveryAttemptAdmitted: retries wait for tokens in the same bucket as
// first attempts. The bucket gives 1 token/s; the transient backoffs (25,
// 50 ms) are shorter, so attempts land on the token schedule.
func TestEveryAttemptAdmitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(w http.ResponseWriter, _ *http.Request, n int) {
			if n < 3 {
				reply(w, 500, map[string]string{"X-Amzn-ErrorType": "InternalServiceException"}, `{}`)
				return
			}
			reply(w, 200, nil, `{}`)
		})
		lim := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Ops: map[string]ratelimit.Limit{"ListUsers": {Rate: 1, Burst: 1}}})
		var attempts []governor.Attempt
		obs := governor.ObserverFuncs{Attempt: func(a governor.Attempt) { attempts = append(attempts, a) }}
		g := governor.New(lim, governor.Options{Rand: half{}, Observer: obs})
		client := connect.NewFromConfig(testConfig(srv), endpoint, awssdk.Govern(g))
		if err := calls["ListUsers"](context.Background(), client); err != nil {
			t.Fatal(err)
		}
		want := []time.Duration{0, time.Second, 2 * time.Second}
		if len(srv.at) != len(want) {
			t.Fatalf("got requests at %v want %v", srv.at, want)
		}
		for i := range want {
			if srv.at[i] != want[i] {
				t.Errorf("request %d at %v want %v", i+1, srv.at[i], want[i])
			}
		}
		if len(attempts) != 3 {
			t.Fatalf("observed %d attempts want 3", len(attempts))
		}
		// Attempt 2: backoff 25 ms, then 975 ms in admission.
		if a := attempts[1]; a.Op != "ListUsers" || a.Attempt != 2 || a.Wait != 975*time.Millisecond || a.Info.Class != awserr.ClassTransient {
			t.Errorf("attempt 2: got %+v want ListUsers, #2, 975ms wait, transient", a)
		}
	})
}

type outcomes struct{ list []governor.Outcome }

func (o *outcomes) ObserveAttempt(governor.Attempt) {}
func (o *outcomes) ObserveOutcome(x governor.Outcome) {
	o.list = append(o.list, x)
}

// recordingLimiter records the requests a Limiter sees.
type recordingLimiter struct {
	ratelimit.Limiter
	reqs []ratelimit.Request
}

func (r *recordingLimiter) Wait(ctx context.Context, req ratelimit.Request) error {
	r.reqs = append(r.reqs, req)
	return r.Limiter.Wait(ctx, req)
}

func TestWithCallOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(w http.ResponseWriter, _ *http.Request, n int) {
			if n == 1 {
				throttleAlways(w, nil, n)
				return
			}
			reply(w, 200, nil, `{}`)
		})
		lim := &recordingLimiter{Limiter: ratelimit.NewHierarchy(ratelimit.HierarchyOptions{})}
		client := connect.NewFromConfig(testConfig(srv), endpoint, awssdk.Govern(governor.New(lim, governor.Options{Rand: half{}})))
		co := governor.CallOptions{Priority: ratelimit.PriorityCritical, Cost: 2}
		if err := calls["DescribeUser"](awssdk.WithCallOptions(context.Background(), co), client); err != nil {
			t.Fatal(err)
		}
		want := ratelimit.Request{Op: "DescribeUser", Cost: 2, Priority: ratelimit.PriorityCritical}
		if len(lim.reqs) != 2 || lim.reqs[0] != want || lim.reqs[1] != want {
			t.Errorf("got admissions %+v want 2 × %+v", lim.reqs, want)
		}
	})
}
