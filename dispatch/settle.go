package dispatch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/campaigns"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/queue"
)

// Result is how a leased job was settled.
type Result int

// Results.
const (
	ResultSucceeded Result = iota // acknowledged
	ResultRequeued                // given back with a delay
	ResultDead                    // moved to the dead-letter queue
	ResultReleased                // given back at shutdown, not counted as a failed receive
	ResultLost                    // the receipt was stale: the lease had run out and the job went to another consumer
	numResults
)

var resultNames = [...]string{"succeeded", "requeued", "dead", "released", "lost"}

func (r Result) String() string {
	if r >= 0 && int(r) < len(resultNames) {
		return resultNames[r]
	}
	return "unknown"
}

// MarshalText gives the name.
func (r Result) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Outcome describes one settled job, for Options.Observer.
type Outcome struct {
	JobID    string
	Op       string
	Result   Result
	Reason   string        // dead letters: the reason (queue.Reason…); requeues: the failure class
	Detail   string        // the error, advice or failure code
	Class    awserr.Class  // the failure's class; ClassUnknown on success
	Delay    time.Duration // requeues: the delay
	Free     bool          // requeues: not counted as a failed receive
	Alarm    bool          // a hard quota: someone must ask for an increase
	Receives int           // the job's receives including this one
	Held     time.Duration // from the lease to the settlement
	Pool     string        // with Options.Pools: the pool the job was routed to ("" if none)
}

// action is what to do with a leased job.
type action struct {
	kind   Result
	delay  time.Duration
	free   bool
	reason string
	detail string
	class  awserr.Class
	alarm  bool
	pool   string // the pool the job ran on (pools only)
	ret    bool   // requeues: the job did not run; its receive is given back (queue.Requeue.Return)
}

func deadAction(reason, detail string) action {
	a := action{kind: ResultDead, reason: reason, detail: detail}
	if reason == queue.ReasonClientFault {
		a.class = awserr.ClassClientFault
	}
	return a
}

// decide maps a call's result to what happens to the job (the package
// documentation has the table). stopping says the dispatcher is shutting
// down, so a cancelled call releases the job; byNotAfter says the call's
// deadline was the job's NotAfter, so running out of time means the job
// expired (the governor gives up at once when no token can come in time).
func (d *Dispatcher) decide(job queue.Job, err error, stopping, byNotAfter bool) action {
	if err == nil {
		return action{kind: ResultSucceeded}
	}
	if (byNotAfter || expired(job, time.Now())) && isDeadline(err) {
		return deadAction(queue.ReasonExpired, "NotAfter passes before the call can be admitted or completed: "+clip(err.Error(), 300))
	}
	if stopping && errors.Is(err, context.Canceled) {
		return action{kind: ResultReleased, free: true, reason: "released", detail: "the dispatcher is stopping", class: awserr.ClassCanceled}
	}
	var ge *governor.Error
	if errors.As(err, &ge) && ge.Err == nil {
		// No attempt failed: the call could not be admitted within its
		// budget. That is the quota doing its job, not the job failing.
		return action{kind: ResultRequeued, free: true, delay: d.jitter(time.Second),
			reason: "admission", detail: clip(ge.Error(), 300), class: awserr.ClassRateThrottle}
	}
	info := awserr.Classify(job.Op, err)
	switch info.Class {
	case awserr.ClassRateThrottle:
		delay := d.o.Backoff.Delay(max(job.Receives, 1), true, 0, rand.Float64())
		if ge != nil && ge.Wait > delay {
			delay = ge.Wait
		}
		if info.RetryAfter > delay {
			delay = info.RetryAfter
		}
		return action{kind: ResultRequeued, delay: delay, reason: info.Class.String(),
			detail: describe(info, "retries exhausted"), class: info.Class}
	case awserr.ClassConcurrencyQuota:
		delay := info.RetryAfter
		if delay <= 0 {
			delay = d.o.ConcurrencyDelay
		}
		return action{kind: ResultRequeued, free: true, delay: d.jitter(delay), reason: info.Class.String(),
			detail: describe(info, info.QuotaName), class: info.Class}
	case awserr.ClassHardQuota:
		detail := info.Advice
		if q := strings.TrimSpace(info.QuotaName + " " + info.QuotaCode); q != "" {
			detail = fmt.Sprintf("%s [%s; quota %s]", detail, codeOf(info), q)
		} else {
			detail = fmt.Sprintf("%s [%s]", detail, codeOf(info))
		}
		return action{kind: ResultDead, reason: queue.ReasonHardQuota, detail: detail, class: info.Class, alarm: true}
	case awserr.ClassClientFault:
		return action{kind: ResultDead, reason: queue.ReasonClientFault, detail: describe(info, ""), class: info.Class}
	}
	// Transient, unknown, or the call's own deadline: retry later, counted.
	delay := d.o.Backoff.Delay(max(job.Receives, 1), false, 0, rand.Float64())
	if info.RetryAfter > delay {
		delay = info.RetryAfter
	}
	return action{kind: ResultRequeued, delay: delay, reason: info.Class.String(), detail: describe(info, ""), class: info.Class}
}

func isDeadline(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, governor.ErrDeadline)
}

// jitter returns a delay in [d/2, d).
func (d *Dispatcher) jitter(dur time.Duration) time.Duration {
	return dur/2 + time.Duration(rand.Int64N(int64(dur/2)+1))
}

func codeOf(info awserr.Info) string {
	c := info.Code
	if c == "" {
		c = "no error code"
	}
	if info.Status != 0 {
		c += fmt.Sprintf(", HTTP %d", info.Status)
	}
	return c
}

// describe renders a failure for a dead letter or LastError:
// "DestinationNotAllowedException (HTTP 403): message".
func describe(info awserr.Info, extra string) string {
	var b strings.Builder
	if info.Code != "" {
		b.WriteString(info.Code)
	} else {
		b.WriteString(info.Class.String())
	}
	if info.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", info.Status)
	}
	if info.Message != "" {
		b.WriteString(": ")
		b.WriteString(info.Message)
	}
	if extra != "" {
		b.WriteString("; ")
		b.WriteString(extra)
	}
	if info.RequestID != "" {
		b.WriteString(" [request ")
		b.WriteString(info.RequestID)
		b.WriteString("]")
	}
	return clip(b.String(), queue.MaxDetailLen)
}

// apply settles a leased job in the queue and reports it.
func (d *Dispatcher) apply(l queue.Lease, a action) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	switch a.kind {
	case ResultSucceeded:
		err = d.o.Queue.Ack(ctx, l.Receipt)
	case ResultRequeued, ResultReleased:
		reason := a.reason
		if a.detail != "" {
			reason += ": " + a.detail
		}
		err = d.o.Queue.Requeue(ctx, l.Receipt, queue.Requeue{Delay: a.delay, Reason: reason, Free: a.free, Return: a.ret})
	case ResultDead:
		err = d.o.Queue.DeadLetter(ctx, l.Receipt, a.reason, a.detail)
	}
	d.held.remove(l.Receipt)
	d.inFlight.Add(-1)
	kind := a.kind
	if err != nil {
		if errors.Is(err, queue.ErrStaleReceipt) {
			kind = ResultLost
		} else {
			// The lease stays; the job becomes visible again when it runs
			// out and is delivered again with the same ClientToken.
			d.o.Logger.Warn("dispatch: settling a job failed", "job", l.Job.ID, "op", l.Job.Op, "result", a.kind.String(), "err", err)
			kind = ResultLost
		}
	}
	d.counts[kind].Add(1)
	if a.alarm && kind == ResultDead {
		d.alarms.Add(1)
		d.o.Logger.Warn("dispatch: hard quota: job dead-lettered; a quota increase is needed",
			"job", l.Job.ID, "op", l.Job.Op, "detail", a.detail)
	}
	if d.o.Observer != nil {
		d.o.Observer(Outcome{
			JobID: l.Job.ID, Op: l.Job.Op, Result: kind, Reason: a.reason, Detail: a.detail,
			Class: a.class, Delay: a.delay, Free: a.free, Alarm: a.alarm && kind == ResultDead,
			Receives: l.Job.Receives, Held: time.Since(l.Until.Add(-d.o.Visibility)), Pool: a.pool,
		})
	}
}

// runDial delivers the dial requests of one campaign in one
// PutDialRequestBatch call. Items that fail inside the 200 response are
// settled one by one: RequestThrottled is requeued (not counted as a
// failed receive, up to the queue's cap), InvalidInput is dead-lettered,
// anything else is requeued.
func (d *Dispatcher) runDial(callCtx, stop context.Context, u unit) {
	d.runDialOn(callCtx, stop, u, nil, false)
}

// runDialOn is runDial on pool p (nil: the single pool); probe says the
// batch is p's probe.
func (d *Dispatcher) runDialOn(callCtx, stop context.Context, u unit, p *pool, probe bool) {
	now := time.Now()
	token := func(j queue.Job) string { return j.ClientToken }
	if p != nil {
		token = p.token
	}
	var live []queue.Lease
	var items []campaigns.DialRequest
	prio := 1 << 30
	for _, l := range u.leases {
		if expired(l.Job, now) {
			d.apply(l, deadAction(queue.ReasonExpired, "NotAfter passed before the call was made"))
			continue
		}
		dr, err := decodeDial(l.Job.Input)
		if err == nil {
			err = dr.validate(now)
		}
		if err != nil {
			if dr.ExpirationTime.Before(now) && !dr.ExpirationTime.IsZero() {
				d.apply(l, deadAction(queue.ReasonExpired, "the dial request's expirationTime passed before the call was made"))
			} else {
				d.apply(l, deadAction(queue.ReasonClientFault, err.Error()))
			}
			continue
		}
		exp := dr.ExpirationTime
		if exp.IsZero() {
			exp = l.Job.NotAfter
		}
		if exp.IsZero() {
			exp = now.Add(DefaultDialExpiry)
		}
		items = append(items, campaigns.DialRequest{
			ClientToken:    token(l.Job),
			PhoneNumber:    dr.PhoneNumber,
			ExpirationTime: exp,
			Attributes:     dr.Attributes,
		})
		live = append(live, l)
		prio = min(prio, l.Job.Priority)
	}
	if len(live) == 0 {
		if p != nil {
			p.health.neutral(probe)
		}
		return
	}
	if p != nil {
		// Every item is pinned to p before the batch is sent (pools_pin.go);
		// an item that cannot be is given back and sent later.
		kept, keptItems := live[:0:0], items[:0:0]
		for i, l := range live {
			if a := d.pinBeforeSend(l.Job, p); a != nil {
				d.apply(l, *a)
				continue
			}
			kept, keptItems = append(kept, l), append(keptItems, items[i])
		}
		live, items = kept, keptItems
		if len(live) == 0 {
			p.health.neutral(probe)
			return
		}
	}
	gov, dialer := d.dialTarget(p)
	ctx, cancel := context.WithTimeout(callCtx, d.o.CallTimeout)
	ctx, log := withAttemptLog(ctx, probe)
	var out *campaigns.PutDialRequestBatchOutput
	err := gov.DoWith(ctx, OpPutDialRequestBatch, governor.CallOptions{Priority: Priority(prio)}, func(ctx context.Context) error {
		o, err := dialer.PutDialRequestBatch(ctx, u.campaign, items)
		out = o
		return err
	})
	cancel()
	if err != nil {
		for i, l := range live {
			a := d.decide(l.Job, err, stop.Err() != nil, false)
			if p != nil {
				// The pool's health is judged once per batch.
				// A Dialer of the caller's sends past the pool's
				// transport: its error alone tells.
				unknown := log.unknown.Load() || p.Dialer != nil && awserr.OutcomeUnknown(OpPutDialRequestBatch, err)
				a = d.poolVerdict(p, probe && i == 0, i == 0, l.Job, err, unknown, a)
			}
			d.apply(l, a)
		}
		return
	}
	if p != nil {
		d.poolWorks(p, probe)
	}
	type result struct {
		ok   bool
		code string
	}
	byToken := make(map[string]result, len(live))
	for _, s := range out.SuccessfulRequests {
		byToken[s.ClientToken] = result{ok: true}
	}
	for _, f := range out.FailedRequests {
		if _, ok := byToken[f.ClientToken]; !ok {
			byToken[f.ClientToken] = result{code: f.FailureCode}
		}
	}
	// Throttled items share one delay so they come back together and are
	// batched again, instead of trickling back one call each.
	recv := 1
	for _, l := range live {
		recv = max(recv, l.Job.Receives)
	}
	throttledDelay := d.o.Backoff.Delay(recv, true, 0, rand.Float64())
	now = time.Now()
	apply := d.apply
	if p != nil {
		apply = func(l queue.Lease, a action) {
			a.pool = p.Name
			d.apply(l, a)
		}
	}
	for _, l := range live {
		r, ok := byToken[token(l.Job)]
		if p != nil && ok && r.ok {
			p.delivered.Add(1)
		}
		switch {
		case !ok:
			if p != nil {
				// Sent and not answered for: the item may have been
				// accepted; only this pool's account knows its token.
				d.pin(l.Job.ID, p.Name)
			}
			apply(l, action{kind: ResultRequeued, delay: d.o.Backoff.Delay(max(l.Job.Receives, 1), false, 0, rand.Float64()),
				reason: awserr.ClassUnknown.String(), detail: "PutDialRequestBatch returned no result for the item"})
		case r.ok:
			apply(l, action{kind: ResultSucceeded})
		case r.code == campaigns.FailureRequestThrottled:
			// Outbound Campaigns has no capacity for more records now: wait
			// and retry; this is not the job's fault.
			apply(l, action{kind: ResultRequeued, free: true,
				delay:  throttledDelay,
				reason: awserr.ClassConcurrencyQuota.String(), detail: "PutDialRequestBatch item failed: RequestThrottled (no dialing capacity)",
				class: awserr.ClassConcurrencyQuota})
		case r.code == campaigns.FailureInvalidInput:
			if expired(l.Job, now) {
				apply(l, deadAction(queue.ReasonExpired, "PutDialRequestBatch item failed: InvalidInput after the job's NotAfter"))
			} else {
				apply(l, deadAction(queue.ReasonClientFault, "PutDialRequestBatch item failed: InvalidInput"))
			}
		default:
			apply(l, action{kind: ResultRequeued, delay: d.o.Backoff.Delay(max(l.Job.Receives, 1), false, 0, rand.Float64()),
				reason: awserr.ClassTransient.String(), detail: "PutDialRequestBatch item failed: " + r.code, class: awserr.ClassTransient})
		}
	}
}
