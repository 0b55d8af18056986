package governor

import (
	"context"
	"errors"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// Run is the state of one governed call across its attempts. Do drives a Run
// to the end; an adapter whose host owns the retry loop (an SDK middleware)
// drives it step by step:
//
//	r := g.Start(op, co)
//	for {
//		if err := r.Admit(ctx); err != nil { return r.Finish(ctx, err) }
//		s := r.Settle(ctx, call(ctx))
//		if !s.Retry { return r.Finish(ctx, s.Err) }
//		if err := r.Backoff(ctx, s.Delay); err != nil { return r.Finish(ctx, err) }
//	}
//
// A Run is used by one goroutine at a time.
type Run struct {
	g     *Governor
	req   ratelimit.Request
	max   int
	start time.Time
	end   time.Time // budget end from MaxElapsed; zero if none

	attempts  int           // calls made
	wait      time.Duration // admission wait of the current attempt
	callStart time.Time     // when the current attempt was sent
	prev      time.Duration // the previous backoff delay
	last      error         // the last failed attempt's classified error
	lastInfo  awserr.Info
	pending   bool // a retry was decided and its admission has not happened yet
}

// Step is the governor's decision after one attempt.
type Step struct {
	Retry bool          // make another attempt after Delay
	Delay time.Duration // the backoff before the next admission
	Info  awserr.Info   // the attempt's classification; only Op is set on success
	Err   error         // when !Retry: the error for the caller (nil on success)
}

// Start begins a governed call of operation op at time.Now().
func (g *Governor) Start(op string, co CallOptions) *Run {
	r := &Run{
		g:     g,
		req:   ratelimit.Request{Op: op, Cost: co.Cost, Priority: co.Priority},
		max:   g.maxAttempts,
		start: time.Now(),
	}
	if co.MaxAttempts != 0 {
		r.max = co.MaxAttempts
	}
	if g.opts.MaxElapsed > 0 {
		r.end = r.start.Add(g.opts.MaxElapsed)
	}
	return r
}

// Op returns the operation of the call.
func (r *Run) Op() string { return r.req.Op }

// Attempts returns the number of calls made so far.
func (r *Run) Attempts() int { return r.attempts }

// Admit waits in the limiter for the next attempt. It fails with an *Error
// when ctx ends (Reason ctx.Err()), when the wait would end after the
// deadline (ErrDeadline), or when the limiter fails (ErrAdmission).
func (r *Run) Admit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return r.stop(err, 0, nil)
	}
	begin := time.Now()
	wctx, cancel := r.waitContext(ctx)
	err := r.g.limiter.Wait(wctx, r.req)
	cancel()
	now := time.Now()
	if err != nil {
		var reason error
		switch {
		case ctx.Err() != nil:
			reason = ctx.Err()
		case errors.Is(err, ratelimit.ErrWouldExceedDeadline), errors.Is(wctx.Err(), context.DeadlineExceeded):
			reason = ErrDeadline
		default:
			reason = ErrAdmission
		}
		r.pending = false
		return r.stop(reason, 0, err)
	}
	r.attempts++
	r.wait = now.Sub(begin)
	r.callStart = now
	r.pending = false
	return nil
}

// Settle classifies the result of the attempt just made, tells the observer
// and decides what comes next.
func (r *Run) Settle(ctx context.Context, err error) Step {
	now := time.Now()
	a := Attempt{
		Op: r.req.Op, Attempt: r.attempts, Start: r.callStart,
		Wait: r.wait, Latency: now.Sub(r.callStart), Err: err,
	}
	if err == nil {
		a.Info.Op = r.req.Op
		r.observeAttempt(a)
		return Step{Info: a.Info}
	}

	info := r.g.classify(r.req.Op, err)
	if info.Op == "" {
		info.Op = r.req.Op
	}
	a.Info = info
	r.lastInfo = info

	var s Step
	s.Info = info
	switch info.Class {
	case awserr.ClassRateThrottle, awserr.ClassTransient:
		r.last = info.Err(err)
		s = r.retryStep(ctx, now, info)
	case awserr.ClassConcurrencyQuota:
		if info.RetryAfter < r.g.opts.ConcurrencyDelay {
			info.RetryAfter = r.g.opts.ConcurrencyDelay
		}
		s.Info = info
		r.last = info.Err(err)
		s.Err = r.last
	default: // hard quota, client fault, canceled, unknown: never retried
		r.last = info.Err(err)
		s.Err = r.last
	}
	a.Retry, a.Delay = s.Retry, s.Delay
	r.pending = s.Retry
	r.observeAttempt(a)
	return s
}

// retryStep decides a retryable failure: retry after a backoff, or stop
// because of the context, the attempt cap or the deadline.
func (r *Run) retryStep(ctx context.Context, now time.Time, info awserr.Info) Step {
	s := Step{Info: info}
	if err := ctx.Err(); err != nil {
		s.Err = r.stop(err, 0, nil)
		return s
	}
	if r.max > 0 && r.attempts >= r.max {
		s.Err = r.stop(ErrAttempts, 0, nil)
		return s
	}
	throttle := info.Class == awserr.ClassRateThrottle
	d := r.g.opts.Backoff.Delay(r.attempts, throttle, r.prev, r.g.uniform())
	if d < info.RetryAfter {
		d = info.RetryAfter
	}
	if dl, ok := r.deadline(ctx); ok && now.Add(d).After(dl) {
		s.Err = r.stop(ErrDeadline, d, nil)
		return s
	}
	r.prev = d
	s.Retry, s.Delay = true, d
	return s
}

// Backoff sleeps d before the next admission. If ctx ends first it returns
// an *Error with Reason ctx.Err() wrapping the last attempt's error.
func (r *Run) Backoff(ctx context.Context, d time.Duration) error {
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if err := ctx.Err(); err != nil {
		r.pending = false
		return r.stop(err, 0, nil)
	}
	return nil
}

// Finish reports the outcome to the observer and returns the error for the
// caller. If the host's own backoff was interrupted by ctx (err is not an
// error the Run produced), it is replaced by an *Error whose Reason is
// ctx.Err() and which wraps the last attempt's error, as Do would return.
func (r *Run) Finish(ctx context.Context, err error) error {
	if err != nil && r.pending && ctx.Err() != nil {
		err = r.stop(ctx.Err(), 0, nil)
	}
	r.pending = false
	if o := r.g.opts.Observer; o != nil {
		out := Outcome{
			Op: r.req.Op, Attempts: r.attempts, Start: r.start,
			Elapsed: time.Since(r.start), Err: err,
		}
		if r.last != nil {
			out.Info = r.lastInfo
		}
		o.ObserveOutcome(out)
	}
	return err
}

// stop builds the *Error for reason.
func (r *Run) stop(reason error, wait time.Duration, admission error) error {
	return &Error{
		Op: r.req.Op, Attempts: r.attempts, Elapsed: time.Since(r.start),
		Reason: reason, Wait: wait, Err: r.last, Admission: admission,
	}
}

// deadline is the earlier of ctx's deadline and the MaxElapsed budget.
func (r *Run) deadline(ctx context.Context) (time.Time, bool) {
	dl, ok := ctx.Deadline()
	if !r.end.IsZero() && (!ok || r.end.Before(dl)) {
		return r.end, true
	}
	return dl, ok
}

// waitContext bounds the admission wait by the MaxElapsed budget when that
// ends before ctx's own deadline.
func (r *Run) waitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.end.IsZero() {
		return ctx, func() {}
	}
	if dl, ok := ctx.Deadline(); ok && !dl.After(r.end) {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, r.end)
}

func (r *Run) observeAttempt(a Attempt) {
	if o := r.g.opts.Observer; o != nil {
		o.ObserveAttempt(a)
	}
}
