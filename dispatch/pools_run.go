package dispatch

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/queue"
)

// claim routes a job to a pool. When it returns a nil pool, the action
// settles the job: dead (a pin or instance naming no pool) or requeued
// free of charge until a pool is back in rotation.
func (d *Dispatcher) claim(job queue.Job, op string, voice bool) (*pool, bool, *action) {
	cands, pinned, err := d.candidates(job)
	if err != nil {
		a := deadAction(queue.ReasonClientFault, err.Error())
		return nil, false, &a
	}
	p, probe, wait := d.route(cands, op, voice, time.Now())
	if p != nil {
		return p, probe, nil
	}
	detail := "no pool is in rotation"
	if pinned {
		detail = "pinned to pool " + cands[0].Name + ", which is out of rotation"
	}
	// The job did not run: its receive is given back, so a job pinned to a
	// pool waits for it as long as it takes.
	a := action{kind: ResultRequeued, free: true, ret: true, delay: wait, reason: "pool-unavailable", detail: detail}
	return nil, false, &a
}

// runPooled delivers one Connect job on the pool routing picks.
func (d *Dispatcher) runPooled(callCtx, stop context.Context, l queue.Lease) {
	job := l.Job
	spec, in, ok := d.prepare(l)
	if !ok {
		return
	}
	voice, _ := in.(*connect.StartOutboundVoiceContactInput)
	p, probe, a := d.claim(job, job.Op, voice != nil)
	if a != nil {
		d.apply(l, *a)
		return
	}
	defer p.pending.Add(-1)
	if err := d.substitute(job.Op, in, p); err != nil {
		p.health.neutral(probe)
		a := deadAction(queue.ReasonClientFault, err.Error())
		a.pool = p.Name
		d.apply(l, a)
		return
	}
	if spec.token {
		setInputToken(in, p.token(job))
	}
	var slot *callbudget.Slot
	if voice != nil {
		var a *action
		if slot, a = d.acquireCallOn(stop, job, p.CallBudget, p.Instance); a != nil {
			p.health.neutral(probe)
			a.pool = p.Name
			d.apply(l, *a)
			return
		}
	}
	if a := d.pinBeforeSend(job, p); a != nil {
		if slot != nil {
			slot.Release()
		}
		p.health.neutral(probe)
		d.apply(l, *a)
		return
	}
	ctx, cancel, byNotAfter := d.callContext(callCtx, job)
	ctx = awssdk.WithCallOptions(ctx, governor.CallOptions{Priority: Priority(job.Priority)})
	ctx, log := withAttemptLog(ctx, probe)
	out, err := spec.call(ctx, p.connect, in)
	cancel()
	a2 := d.decide(job, err, stop.Err() != nil, byNotAfter)
	a2 = d.poolVerdict(p, probe, true, job, err, log.unknown.Load(), a2)
	if voice == nil {
		d.apply(l, a2)
		return
	}
	d.settleCallOn(l, a2, out, slot, p.Instance, p)
}

// poolVerdict adjusts the action decided for a call on p by what the
// answer says about the pool (unknown: an attempt's outcome is unknown, as
// the pool's transport saw it), and keeps the pool's counters and, when
// judge is set (once per call: the first item of a dial batch), its
// health:
//
//   - success, or an answer that shows the pool works (a throttle, a
//     client fault, a hard quota): the pool is healthy; the action stands.
//   - an unknown outcome (an attempt timed out, was reset or got a 5xx):
//     the job is pinned to p (durably, queue.Pinner) before it is
//     requeued or released, and the pool's failure count grows.
//   - a definite pool failure (credentials refused, the request never
//     sent, credentials not to be had): the failure count grows and the
//     job is requeued at once, free of charge, for another pool.
//   - a full concurrency quota: the failure count grows; the job is
//     requeued free of charge after the concurrency delay, as without
//     pools, and routed afresh then.
func (d *Dispatcher) poolVerdict(p *pool, probe, judge bool, job queue.Job, err error, unknown bool, a action) action {
	a = d.poolVerdictOf(p, probe, judge, job, err, unknown, a)
	// A pin made before this send stays when the call may have been
	// made (success, an unknown outcome, a dead letter); it goes when
	// the job is given back without having been called, so another pool
	// may take it.
	if !unknown && (a.kind == ResultRequeued || a.kind == ResultReleased) {
		d.unpinFresh(job.ID)
	} else {
		d.fresh.Delete(job.ID)
	}
	return a
}

// poolVerdictOf is poolVerdict without the pin made before the send.
func (d *Dispatcher) poolVerdictOf(p *pool, probe, judge bool, job queue.Job, err error, unknown bool, a action) action {
	a.pool = p.Name
	if err == nil {
		p.delivered.Add(1)
		if judge {
			d.poolWorks(p, probe)
		}
		return a
	}
	ok := func() {
		if judge {
			d.poolWorks(p, probe)
		}
	}
	neutral := func() {
		if judge {
			p.health.neutral(probe)
		}
	}
	failed := func(reason string) {
		p.fails.Add(1)
		if judge {
			d.poolFailed(p, probe, reason)
		}
	}
	var ge *governor.Error
	admissionOnly := errors.As(err, &ge) && ge.Err == nil
	var out *poolOutError
	if !unknown && errors.As(err, &out) {
		// Routed here before the pool went out: route it again.
		neutral()
		return action{kind: ResultRequeued, free: true, ret: true, delay: d.jitter(20 * time.Millisecond), pool: p.Name,
			reason: "pool-unavailable", detail: out.Error()}
	}
	info := awserr.Classify(job.Op, err)
	stopping := a.kind == ResultReleased
	switch {
	case unknown:
		d.pin(job.ID, p.Name)
		if stopping {
			neutral()
			return a
		}
		failed("unknown outcome: " + describe(info, ""))
		if a.kind == ResultDead && a.reason == queue.ReasonExpired {
			return a
		}
		a.kind = ResultRequeued
		return a
	case admissionOnly, stopping:
		neutral()
		return a
	case info.Class == awserr.ClassConcurrencyQuota:
		// Free of charge, after the concurrency delay: when every pool is
		// full, jobs must not bounce between them.
		failed(describe(info, ""))
		return a
	case info.Credentials(), info.Status == 0 && info.Code == "" && info.Class != awserr.ClassClientFault:
		// Refused by the account, or never sent (connection refused,
		// credentials not to be had): the job may go elsewhere.
		failed(describe(info, ""))
		if a.kind == ResultDead && a.reason == queue.ReasonExpired {
			return a
		}
		return action{kind: ResultRequeued, free: true, delay: d.jitter(50 * time.Millisecond), pool: p.Name,
			reason: "pool-failure", detail: "pool " + p.Name + ": " + describe(info, "moved to another pool"), class: info.Class}
	}
	ok()
	return a
}

func (d *Dispatcher) poolWorks(p *pool, probe bool) {
	if p.health.success(probe) {
		d.o.Logger.Info("dispatch: pool back in rotation", "pool", p.Name, "account", p.Account)
	}
}

func (d *Dispatcher) poolFailed(p *pool, probe bool, reason string) {
	if p.health.failure(time.Now(), probe, clip(reason, 200)) {
		d.o.Logger.Warn("dispatch: pool out of rotation", "pool", p.Name, "account", p.Account, "reason", clip(reason, 200))
	}
}

// pin pins a job to pool: in this process at once, and in the queue when
// it is a queue.Pinner (retried; the in-process pin covers a failure until
// the process ends).
func (d *Dispatcher) pin(id, pool string) {
	d.pins.Store(id, pool)
	pn, ok := d.o.Queue.(queue.Pinner)
	if !ok {
		return
	}
	var err error
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = pn.Pin(ctx, id, pool)
		cancel()
		if err == nil || errors.Is(err, queue.ErrNotFound) {
			return
		}
		time.Sleep(time.Duration(i+1) * 50 * time.Millisecond)
	}
	d.o.Logger.Warn("dispatch: pinning a job to its pool failed; pinned in this process only", "job", id, "pool", pool, "err", err)
}

// runDialPooled routes a unit of dial requests (one campaign, one pin) to
// a pool and delivers it there.
func (d *Dispatcher) runDialPooled(callCtx, stop context.Context, u unit) {
	p, probe, a := d.claim(u.leases[0].Job, OpPutDialRequestBatch, false)
	if a != nil {
		for _, l := range u.leases {
			d.apply(l, *a)
		}
		return
	}
	defer p.pending.Add(-1)
	campaign, err := d.mapID(OpPutDialRequestBatch, "CampaignId", u.campaign, p)
	if err != nil {
		p.health.neutral(probe)
		for _, l := range u.leases {
			a := deadAction(queue.ReasonClientFault, err.Error())
			a.pool = p.Name
			d.apply(l, a)
		}
		return
	}
	u.campaign = campaign
	d.runDialOn(callCtx, stop, u, p, probe)
}

// dialTarget is where runDialOn sends a batch: the single pool's governor
// and dialer, or a pool's.
func (d *Dispatcher) dialTarget(p *pool) (*governor.Governor, Dialer) {
	if p == nil {
		return d.o.Governor, d.dialer
	}
	return p.Governor, p.dialer
}

// connectFor returns the client that follows a tracked contact.
func (d *Dispatcher) connectFor(t *tracked) *connect.Client {
	if t.pool != nil {
		return t.pool.connect
	}
	return d.connect
}

// budgetFor returns the calls-in-progress budget of a tracked contact.
func (d *Dispatcher) budgetFor(t *tracked) *callbudget.Budget {
	if t.pool != nil {
		return t.pool.CallBudget
	}
	return d.o.CallBudget
}

// pinOf returns the pool job is pinned to ("" if none).
func (d *Dispatcher) pinOf(j queue.Job) string {
	if j.Pool != "" {
		return j.Pool
	}
	if v, ok := d.pins.Load(j.ID); ok {
		return v.(string)
	}
	return ""
}
