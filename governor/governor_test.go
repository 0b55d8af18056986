package governor_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/backoff"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// script returns fn, which returns errs in order and then nil, recording
// the fake time of each call relative to start.
type script struct {
	start time.Time
	errs  []error
	at    []time.Duration
}

func newScript(errs ...error) *script { return &script{start: time.Now(), errs: errs} }

func (s *script) fn(ctx context.Context) error {
	s.at = append(s.at, time.Since(s.start))
	if i := len(s.at) - 1; i < len(s.errs) {
		return s.errs[i]
	}
	return nil
}

func TestRetryTiming(t *testing.T) {
	type step struct {
		name     string
		op       string
		errs     []error
		opts     governor.Options
		want     []time.Duration // fake time of each call
		wantErrs []error         // errors.Is targets; nil means success
	}
	bo := backoff.Options{}
	th1 := bo.Delay(1, true, 0, 0.5)
	th2 := bo.Delay(2, true, th1, 0.5)
	tr1 := bo.Delay(1, false, 0, 0.5)
	tr2 := bo.Delay(2, false, tr1, 0.5)
	// The defaults are full jitter with a 1 s throttle base and a 50 ms
	// transient base; u = 0.5 halves the exponential ceiling.
	if th1 != 500*time.Millisecond || th2 != time.Second || tr1 != 25*time.Millisecond || tr2 != 50*time.Millisecond {
		t.Fatalf("default backoff: got %v %v %v %v want 500ms 1s 25ms 50ms", th1, th2, tr1, tr2)
	}
	steps := []step{
		{name: "success", op: "DescribeUser", want: []time.Duration{0}},
		{name: "throttle twice", op: "DescribeUser", errs: []error{errThrottle, errThrottle},
			want: []time.Duration{0, th1, th1 + th2}},
		{name: "transient twice", op: "DescribeUser", errs: []error{errInternal, errInternal},
			want: []time.Duration{0, tr1, tr1 + tr2}},
		{name: "retry-after is a floor", op: "DescribeUser",
			errs: []error{&apiError{code: "ThrottlingException", status: 429, retryAfter: 3 * time.Second}},
			want: []time.Duration{0, 3 * time.Second}},
		{name: "retry-after below backoff", op: "DescribeUser",
			errs: []error{&apiError{code: "ThrottlingException", status: 429, retryAfter: 100 * time.Millisecond}},
			want: []time.Duration{0, th1}},
		{name: "attempt cap", op: "DescribeUser", opts: governor.Options{MaxAttempts: 3},
			errs:     []error{errThrottle, errThrottle, errThrottle, errThrottle},
			want:     []time.Duration{0, th1, th1 + th2},
			wantErrs: []error{governor.ErrAttempts, awserr.ErrRateThrottle, errThrottle}},
		{name: "backoff attempt cap", op: "DescribeUser", opts: governor.Options{Backoff: backoff.Options{MaxAttempts: 2}},
			errs:     []error{errInternal, errInternal, errInternal},
			want:     []time.Duration{0, tr1},
			wantErrs: []error{governor.ErrAttempts, awserr.ErrTransient}},
		{name: "hard quota at once", op: "CreateUser", errs: []error{errLimitUser, nil},
			want: []time.Duration{0}, wantErrs: []error{awserr.ErrHardQuota, errLimitUser}},
		{name: "concurrency quota at once", op: "StartChatContact", errs: []error{errLimitChat, nil},
			want: []time.Duration{0}, wantErrs: []error{awserr.ErrConcurrencyQuota, errLimitChat}},
		{name: "client fault at once", op: "DescribeUser", errs: []error{errNotFound, nil},
			want: []time.Duration{0}, wantErrs: []error{awserr.ErrClientFault, errNotFound}},
		{name: "canceled never retried", op: "DescribeUser", errs: []error{context.Canceled, nil},
			want: []time.Duration{0}, wantErrs: []error{context.Canceled}},
		{name: "unknown not retried", op: "DescribeUser", errs: []error{errors.New("boom"), nil},
			want: []time.Duration{0}},
	}
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s.opts.Rand = half{}
				g := governor.New(&fakeLimiter{}, s.opts)
				sc := newScript(s.errs...)
				err := g.Do(context.Background(), s.op, sc.fn)
				if len(sc.at) != len(s.want) {
					t.Fatalf("step %d (%s): got %d calls at %v want %d at %v", i, s.name, len(sc.at), sc.at, len(s.want), s.want)
				}
				for j := range sc.at {
					if sc.at[j] != s.want[j] {
						t.Errorf("step %d (%s): call %d at %v want %v", i, s.name, j+1, sc.at[j], s.want[j])
					}
				}
				if elapsed := time.Since(sc.start); elapsed != s.want[len(s.want)-1] {
					t.Errorf("step %d (%s): returned after %v want %v", i, s.name, elapsed, s.want[len(s.want)-1])
				}
				wantOK := s.wantErrs == nil && (len(s.errs) < len(s.want) || s.name == "success")
				if wantOK && err != nil {
					t.Errorf("step %d (%s): got %v want success", i, s.name, err)
				}
				if !wantOK && err == nil {
					t.Errorf("step %d (%s): got success want an error", i, s.name)
				}
				for _, target := range s.wantErrs {
					if !errors.Is(err, target) {
						t.Errorf("step %d (%s): errors.Is(%v, %v) = false", i, s.name, err, target)
					}
				}
			})
		})
	}
}

func TestQuotaErrors(t *testing.T) {
	g := governor.New(&fakeLimiter{}, governor.Options{ConcurrencyDelay: 45 * time.Second})

	err := g.Do(context.Background(), "CreateUser", func(context.Context) error { return errLimitUser })
	var q *awserr.QuotaError
	if !errors.As(err, &q) {
		t.Fatalf("hard quota: got %T %v want *awserr.QuotaError", err, err)
	}
	if q.Op != "CreateUser" || q.Code != "LimitExceededException" || q.Class != awserr.ClassHardQuota ||
		q.QuotaCode == "" || q.QuotaName == "" || q.Advice == "" {
		t.Errorf("hard quota: got %+v want op, code, quota name and code, advice", q)
	}

	err = g.Do(context.Background(), "StartChatContact", func(context.Context) error { return errLimitChat })
	if !errors.As(err, &q) || !errors.Is(err, awserr.ErrConcurrencyQuota) || errors.Is(err, awserr.ErrHardQuota) {
		t.Fatalf("concurrency quota: got %v", err)
	}
	if q.RetryAfter != 45*time.Second {
		t.Errorf("concurrency quota: suggested delay %v want 45s", q.RetryAfter)
	}
	if q.QuotaCode != "L-D4BA6F6E" {
		t.Errorf("concurrency quota: quota code %q want L-D4BA6F6E", q.QuotaCode)
	}

	// A server delay above the floor is kept.
	slow := &apiError{code: "LimitExceededException", status: 429, retryAfter: time.Minute}
	err = g.Do(context.Background(), "StartChatContact", func(context.Context) error { return slow })
	if !errors.As(err, &q) || q.RetryAfter != time.Minute {
		t.Errorf("concurrency quota with retry-after: got %v want RetryAfter 1m", err)
	}
}

func TestDeadlineBackoffFailsEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := governor.New(&fakeLimiter{}, governor.Options{Rand: half{}})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		ra := &apiError{code: "ThrottlingException", status: 429, retryAfter: 5 * time.Second}
		sc := newScript(ra, nil)
		err := g.Do(ctx, "DescribeUser", sc.fn)
		if len(sc.at) != 1 {
			t.Fatalf("got %d calls want 1", len(sc.at))
		}
		if el := time.Since(sc.start); el != 0 {
			t.Errorf("returned after %v want at once", el)
		}
		var ge *governor.Error
		if !errors.As(err, &ge) || !errors.Is(err, governor.ErrDeadline) || !errors.Is(err, awserr.ErrRateThrottle) || !errors.Is(err, ra) {
			t.Fatalf("got %v want ErrDeadline wrapping the throttle", err)
		}
		if ge.Wait != 5*time.Second || ge.Attempts != 1 {
			t.Errorf("got wait %v attempts %d want 5s, 1", ge.Wait, ge.Attempts)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v: the context has not expired, the error must not say it did", err)
		}
	})
}

func TestDeadlineAdmissionFailsEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := &fakeLimiter{interval: 10 * time.Second}
		g := governor.New(lim, governor.Options{Rand: half{}})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sc := newScript(errInternal, nil)
		err := g.Do(ctx, "DescribeUser", sc.fn)
		tr1 := backoff.Options{}.Delay(1, false, 0, 0.5)
		if len(sc.at) != 1 {
			t.Fatalf("got %d calls want 1", len(sc.at))
		}
		if el := time.Since(sc.start); el != tr1 {
			t.Errorf("returned after %v want %v (the backoff, then an early admission failure)", el, tr1)
		}
		var ge *governor.Error
		if !errors.As(err, &ge) || !errors.Is(err, governor.ErrDeadline) || !errors.Is(err, ratelimit.ErrWouldExceedDeadline) ||
			!errors.Is(err, awserr.ErrTransient) {
			t.Fatalf("got %v want ErrDeadline wrapping ErrWouldExceedDeadline and the transient error", err)
		}
		if len(lim.requests()) != 2 {
			t.Errorf("got %d admissions want 2", len(lim.requests()))
		}
	})
}

func TestMaxElapsedBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// No context deadline: the budget alone stops the retries.
		g := governor.New(&fakeLimiter{}, governor.Options{Rand: half{}, MaxElapsed: 3 * time.Second, MaxAttempts: 100})
		sc := newScript(errThrottle, errThrottle, errThrottle, errThrottle, errThrottle, errThrottle)
		err := g.Do(context.Background(), "DescribeUser", sc.fn)
		// 0, 0.5, 1.5, then a 2 s backoff would end at 3.5 s > 3 s.
		want := []time.Duration{0, 500 * time.Millisecond, 1500 * time.Millisecond}
		if len(sc.at) != len(want) {
			t.Fatalf("got calls at %v want %v", sc.at, want)
		}
		if !errors.Is(err, governor.ErrDeadline) {
			t.Fatalf("got %v want ErrDeadline", err)
		}
		if el := time.Since(sc.start); el != want[2] {
			t.Errorf("returned after %v want %v", el, want[2])
		}

		// The budget also bounds admission waits.
		lim := &fakeLimiter{interval: 10 * time.Second}
		g = governor.New(lim, governor.Options{Rand: half{}, MaxElapsed: 5 * time.Second})
		start := time.Now()
		if err := g.Do(context.Background(), "DescribeUser", func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
		err = g.Do(context.Background(), "DescribeUser", func(context.Context) error { return nil })
		if !errors.Is(err, governor.ErrDeadline) {
			t.Fatalf("got %v want ErrDeadline from admission", err)
		}
		if el := time.Since(start); el != 0 {
			t.Errorf("admission failed after %v want at once", el)
		}
	})
}

func TestCancelDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := governor.New(&fakeLimiter{}, governor.Options{Rand: half{}})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(2*time.Second, cancel)
		ra := &apiError{code: "ThrottlingException", status: 429, retryAfter: 10 * time.Second}
		sc := newScript(ra, nil)
		err := g.Do(ctx, "DescribeUser", sc.fn)
		if el := time.Since(sc.start); el != 2*time.Second {
			t.Errorf("returned after %v want 2s", el)
		}
		if len(sc.at) != 1 {
			t.Errorf("got %d calls want 1", len(sc.at))
		}
		if !errors.Is(err, context.Canceled) || !errors.Is(err, awserr.ErrRateThrottle) {
			t.Errorf("got %v want context.Canceled wrapping the throttle", err)
		}
	})
}

func TestCancelDuringAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := &fakeLimiter{interval: time.Minute}
		g := governor.New(lim, governor.Options{})
		_ = g.Do(context.Background(), "DescribeUser", func(context.Context) error { return nil })
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel)
		start := time.Now()
		called := false
		err := g.Do(ctx, "DescribeUser", func(context.Context) error { called = true; return nil })
		if called || !errors.Is(err, context.Canceled) {
			t.Fatalf("got called=%v err=%v want no call and context.Canceled", called, err)
		}
		if el := time.Since(start); el != time.Second {
			t.Errorf("returned after %v want 1s", el)
		}
	})
}

func TestEveryAttemptIsAdmitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := &fakeLimiter{interval: 2 * time.Second}
		g := governor.New(lim, governor.Options{Rand: half{}})
		co := governor.CallOptions{Priority: ratelimit.PriorityLow, Cost: 2}
		sc := newScript(errThrottle, errInternal)
		if err := g.DoWith(context.Background(), "ListUsers", co, sc.fn); err != nil {
			t.Fatal(err)
		}
		want := ratelimit.Request{Op: "ListUsers", Cost: 2, Priority: ratelimit.PriorityLow}
		reqs := lim.requests()
		if len(reqs) != 3 {
			t.Fatalf("got %d admissions want 3", len(reqs))
		}
		for i, r := range reqs {
			if r != want {
				t.Errorf("admission %d: got %+v want %+v", i+1, r, want)
			}
		}
		// Retries wait for their slot in the same bucket: the backoffs
		// (0.5 s, 25 ms) are shorter than the 2 s interval.
		wantAt := []time.Duration{0, 2 * time.Second, 4 * time.Second}
		for i := range wantAt {
			if sc.at[i] != wantAt[i] {
				t.Errorf("call %d at %v want %v", i+1, sc.at[i], wantAt[i])
			}
		}
	})
}

func TestAdmissionFailure(t *testing.T) {
	boom := errors.New("store down")
	g := governor.New(&fakeLimiter{fail: boom}, governor.Options{})
	called := false
	err := g.Do(context.Background(), "ListUsers", func(context.Context) error { called = true; return nil })
	if called || !errors.Is(err, governor.ErrAdmission) || !errors.Is(err, boom) {
		t.Fatalf("got called=%v err=%v want ErrAdmission wrapping the limiter's error", called, err)
	}
}

func TestObserver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		lim := &fakeLimiter{interval: time.Second}
		g := governor.New(lim, governor.Options{Rand: half{}, Observer: rec})
		start := time.Now()
		latency := 100 * time.Millisecond
		calls := 0
		err := g.Do(context.Background(), "ListUsers", func(context.Context) error {
			calls++
			time.Sleep(latency)
			if calls == 1 {
				return errThrottle
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.attempts) != 2 || len(rec.outcomes) != 1 {
			t.Fatalf("got %d attempts %d outcomes want 2, 1", len(rec.attempts), len(rec.outcomes))
		}
		a1, a2 := rec.attempts[0], rec.attempts[1]
		// Call 1 at 0 (100 ms), backoff 500 ms to 600 ms, slot at 1 s: wait 400 ms.
		type step struct {
			got, want any
			what      string
		}
		steps := []step{
			{a1.Op, "ListUsers", "a1.Op"},
			{a1.Attempt, 1, "a1.Attempt"},
			{a1.Start, start, "a1.Start"},
			{a1.Wait, time.Duration(0), "a1.Wait"},
			{a1.Latency, latency, "a1.Latency"},
			{a1.Info.Class, awserr.ClassRateThrottle, "a1.Info.Class"},
			{a1.Retry, true, "a1.Retry"},
			{a1.Delay, 500 * time.Millisecond, "a1.Delay"},
			{a2.Attempt, 2, "a2.Attempt"},
			{a2.Start, start.Add(time.Second), "a2.Start"},
			{a2.Wait, 400 * time.Millisecond, "a2.Wait"},
			{a2.Err, error(nil), "a2.Err"},
			{a2.Info.Op, "ListUsers", "a2.Info.Op"},
			{a2.Retry, false, "a2.Retry"},
			{rec.outcomes[0].Attempts, 2, "outcome.Attempts"},
			{rec.outcomes[0].Elapsed, 1100 * time.Millisecond, "outcome.Elapsed"},
			{rec.outcomes[0].Err, error(nil), "outcome.Err"},
			{rec.outcomes[0].Info.Class, awserr.ClassRateThrottle, "outcome.Info.Class (last failure)"},
		}
		for i, s := range steps {
			if s.got != s.want {
				t.Errorf("step %d: %s: got %v want %v", i, s.what, s.got, s.want)
			}
		}
	})
}

func TestObservers(t *testing.T) {
	if governor.Observers(nil, nil) != nil {
		t.Error("Observers of nothing: want nil")
	}
	var n int
	count := governor.ObserverFuncs{Attempt: func(governor.Attempt) { n++ }}
	o := governor.Observers(count, nil, count)
	o.ObserveAttempt(governor.Attempt{})
	o.ObserveOutcome(governor.Outcome{}) // nil Outcome func is skipped
	if n != 2 {
		t.Errorf("got %d calls want 2", n)
	}
}

func TestSeededJitterIsReproducible(t *testing.T) {
	delays := func() []time.Duration {
		var out []time.Duration
		synctest.Test(t, func(t *testing.T) {
			rec := &recorder{}
			g := governor.New(&fakeLimiter{}, governor.Options{Rand: newPCG(7), Observer: rec, MaxAttempts: 6})
			_ = g.Do(context.Background(), "ListUsers", func(context.Context) error { return errThrottle })
			for _, a := range rec.attempts {
				out = append(out, a.Delay)
			}
		})
		return out
	}
	a, b := delays(), delays()
	if len(a) != 6 {
		t.Fatalf("got %d attempts want 6", len(a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("attempt %d: got %v and %v with the same seed", i+1, a[i], b[i])
		}
	}
	if a[0] == a[1] && a[1] == a[2] {
		t.Errorf("delays %v: want jitter", a)
	}
}

func TestNoAttemptCapAndCustomClassify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Everything is transient to this classifier, even "boom".
		classify := func(op string, err error) awserr.Info {
			return awserr.Info{Class: awserr.ClassTransient, Op: op}
		}
		g := governor.New(&fakeLimiter{}, governor.Options{MaxAttempts: -1, Classify: classify, Rand: half{}})
		boom := errors.New("boom")
		errs := make([]error, 12) // more than DefaultMaxAttempts
		for i := range errs {
			errs[i] = boom
		}
		sc := newScript(errs...)
		if err := g.Do(context.Background(), "ListUsers", sc.fn); err != nil {
			t.Fatalf("got %v want success after 13 calls", err)
		}
		if len(sc.at) != 13 {
			t.Errorf("got %d calls want 13", len(sc.at))
		}
		if g.MaxAttempts() >= 0 {
			t.Errorf("MaxAttempts() = %d want negative (no cap)", g.MaxAttempts())
		}
		// Per call, a cap can be set again.
		sc = newScript(errs...)
		err := g.DoWith(context.Background(), "ListUsers", governor.CallOptions{MaxAttempts: 2}, sc.fn)
		if len(sc.at) != 2 || !errors.Is(err, governor.ErrAttempts) || !errors.Is(err, boom) {
			t.Errorf("got %d calls, %v want 2 and ErrAttempts wrapping boom", len(sc.at), err)
		}
	})
}

func TestDefaults(t *testing.T) {
	type step struct {
		opts governor.Options
		want int
	}
	steps := []step{
		{governor.Options{}, governor.DefaultMaxAttempts},
		{governor.Options{MaxAttempts: 4}, 4},
		{governor.Options{Backoff: backoff.SeedRecipe()}, 8},
		{governor.Options{Backoff: backoff.Options{MaxAttempts: 5}}, 5},
		{governor.Options{MaxAttempts: 2, Backoff: backoff.Options{MaxAttempts: 5}}, 2},
	}
	for i, s := range steps {
		if got := governor.New(&fakeLimiter{}, s.opts).MaxAttempts(); got != s.want {
			t.Errorf("step %d: got %d want %d", i, got, s.want)
		}
	}
}
