package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	ctypes "github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// OpStartOutboundVoiceContact is the operation paced on calls in progress
// (Options.CallBudget) and followed to its end.
const OpStartOutboundVoiceContact = "StartOutboundVoiceContact"

// ContactEnd is what an end-of-contact signal says: a contact event
// (DISCONNECTED or COMPLETED; package contactevents reads them from SQS) or
// DescribeContact's answer.
type ContactEnd struct {
	ContactID string
	// Answered: the customer endpoint answered (ConnectedToSystemTimestamp
	// set).
	Answered bool
	// Reason is Connect's DisconnectReason when the signal carries it.
	Reason string
	// Initiation and Disconnect are the contact's timestamps (zero when
	// unknown).
	Initiation, Disconnect time.Time
	// Account is the AWS account the contact belongs to (a contact event's
	// "account"), when known. With Options.Pools it picks among the pools
	// of that account; empty: the contact is matched by ContactID alone.
	Account string
}

// tracked is one contact the dispatcher started and follows to its end.
// Its fields are guarded by contacts.mu.
type tracked struct {
	contact, job, instance string
	pool                   *pool  // nil: the single pool
	key                    string // in contacts.m: trackKey(pool, contact)
	started                time.Time
	nextPoll               time.Time
	polling                bool
	registered             bool        // the job was acknowledged and its "placed" outcome written
	end                    *ContactEnd // the end, once known
	needReason             bool        // ended unanswered without a reason: ask DescribeContact once
}

// contacts follows the contacts started by StartOutboundVoiceContact jobs.
type contacts struct {
	mu    sync.Mutex
	m     map[string]*tracked
	early map[string]earlyEnd // ends that arrived before their contact was registered

	connected, unanswered, refused, unknown atomic.Int64
	polls, events                           atomic.Int64
}

type earlyEnd struct {
	end ContactEnd
	at  time.Time
}

// maxEarly bounds the ends of unknown contacts kept (events of other
// dialers' calls arrive on the same queue).
const (
	maxEarly   = 10000
	earlyTTL   = 5 * time.Minute
	pollTick   = 100 * time.Millisecond
	maxPollers = 4
)

func newContacts() *contacts {
	return &contacts{m: map[string]*tracked{}, early: map[string]earlyEnd{}}
}

// instanceOf returns the instance id of an InstanceId member (an id or an
// instance ARN).
func instanceOf(v string) string {
	if i := strings.LastIndex(v, "instance/"); strings.HasPrefix(v, "arn:") && i >= 0 {
		v = v[i+len("instance/"):]
		if j := strings.IndexByte(v, '/'); j >= 0 {
			v = v[:j]
		}
	}
	return v
}

// acquireCallOn waits for a slot of the instance's calls-in-progress
// budget (the single pool's or a pool's) while the lease is held (and
// extended). It returns a nil slot and no action when pacing is off.
func (d *Dispatcher) acquireCallOn(stop context.Context, job queue.Job, budget *callbudget.Budget, instance string) (*callbudget.Slot, *action) {
	if budget == nil {
		return nil, nil
	}
	ctx := stop
	if !job.NotAfter.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(stop, job.NotAfter)
		defer cancel()
	}
	d.waitingCalls.Add(1)
	t0 := time.Now()
	slot, err := budget.Acquire(ctx, instance, Priority(job.Priority))
	d.waitingCalls.Add(-1)
	d.o.Logger.Debug("dispatch: call slot", "job", job.ID, "waited", time.Since(t0).String())
	switch {
	case err == nil:
		return slot, nil
	case errors.Is(err, callbudget.ErrNoBudget):
		a := action{kind: ResultDead, reason: queue.ReasonHardQuota, alarm: true,
			detail: err.Error() + "; lower dispatch.call_reserve or ask for a higher concurrent-active-calls quota (L-12AB7C57)"}
		return nil, &a
	case stop.Err() != nil:
		return nil, &action{kind: ResultReleased, free: true, reason: "released", detail: "the dispatcher is stopping"}
	default:
		a := deadAction(queue.ReasonExpired, "NotAfter passed while waiting for a call in progress to end (concurrent-active-calls budget)")
		return nil, &a
	}
}

// recordOutcome writes o on the job when the queue keeps outcomes.
func (d *Dispatcher) recordOutcome(jobID string, o queue.ContactOutcome) {
	rec, ok := d.o.Queue.(queue.OutcomeRecorder)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rec.RecordOutcome(ctx, jobID, o); err != nil && !errors.Is(err, queue.ErrNotFound) {
		d.o.Logger.Warn("dispatch: recording a job's outcome failed", "job", jobID, "err", err)
	}
}

// startTracking follows a contact a job started: its slot (if any) is bound
// to it, and an end that already arrived is applied once the job is
// registered.
func (d *Dispatcher) startTracking(job queue.Job, instance, contact string, slot *callbudget.Slot, now time.Time, p *pool) *tracked {
	if slot != nil {
		slot.StartAt(now, contact)
	}
	c := d.contacts
	c.mu.Lock()
	defer c.mu.Unlock()
	key := trackKey(p, contact)
	if t, ok := c.m[key]; ok {
		return t // a redelivery answered with the contact already followed
	}
	t := &tracked{contact: contact, job: job.ID, instance: instance, pool: p, key: key, started: now, nextPoll: now.Add(d.firstPoll())}
	c.m[key] = t
	if e, ok := c.early[contact]; ok && (p == nil || e.end.Account == "" || e.end.Account == p.Account) {
		delete(c.early, contact)
		end := e.end
		t.end = &end
	}
	return t
}

// firstPoll is how long after the start a contact is first described:
// without contact events, the poll interval but at most a second (a call
// that ended at once, refused by the network or past the quota, is known
// quickly); with them, the fallback interval.
func (d *Dispatcher) firstPoll() time.Duration {
	if d.o.ContactEvents {
		return d.o.ContactFallbackPoll
	}
	return min(d.o.ContactPoll, time.Second)
}

// registered marks the job acknowledged with its "placed" outcome written,
// and finishes the contact if its end came meanwhile.
func (d *Dispatcher) registered(t *tracked) {
	c := d.contacts
	c.mu.Lock()
	t.registered = true
	end := t.end
	c.mu.Unlock()
	if end != nil {
		d.endSlot(t)
		d.finish(t, *end)
	}
}

// ContactEnded applies an end-of-contact signal (a contact event from
// package contactevents). Duplicates and ends of contacts the dispatcher
// did not start are harmless.
func (d *Dispatcher) ContactEnded(e ContactEnd) {
	d.contacts.events.Add(1)
	now := time.Now()
	if !e.Disconnect.IsZero() {
		d.o.Logger.Debug("dispatch: contact ended", "contact", e.ContactID, "lag", now.Sub(e.Disconnect).String())
	}
	d.contactEnded(e, now)
}

func (d *Dispatcher) contactEnded(e ContactEnd, now time.Time) {
	c := d.contacts
	c.mu.Lock()
	t, ok := d.lookupLocked(e)
	if !ok {
		if len(c.early) >= maxEarly {
			for id, ee := range c.early {
				if now.Sub(ee.at) > earlyTTL || len(c.early) >= maxEarly {
					delete(c.early, id)
				}
			}
		}
		c.early[e.ContactID] = earlyEnd{end: e, at: now}
		c.mu.Unlock()
		return
	}
	d.endLocked(t, e)
}

// trackedEnded applies the end of a contact already in hand (a poll's
// answer).
func (d *Dispatcher) trackedEnded(t *tracked, e ContactEnd) {
	d.contacts.mu.Lock()
	d.endLocked(t, e)
}

// trackKey is the key of a tracked contact: its id, and with pools its
// pool's name too (contact ids of different accounts need not differ).
func trackKey(p *pool, contact string) string {
	if p == nil {
		return contact
	}
	return p.Name + "\x00" + contact
}

// lookupLocked finds the tracked contact e ends: by id, and with pools in
// the pools of e's account (every pool when it is not known). Requires
// contacts.mu held.
func (d *Dispatcher) lookupLocked(e ContactEnd) (*tracked, bool) {
	if d.pools == nil {
		t, ok := d.contacts.m[e.ContactID]
		return t, ok
	}
	for _, p := range d.pools {
		if e.Account != "" && e.Account != p.Account {
			continue
		}
		if t, ok := d.contacts.m[trackKey(p, e.ContactID)]; ok {
			return t, true
		}
	}
	return nil, false
}

// endLocked records t's end, frees its slot and writes its outcome once
// the job is registered. Requires contacts.mu held; releases it.
func (d *Dispatcher) endLocked(t *tracked, e ContactEnd) {
	c := d.contacts
	if t.end != nil {
		c.mu.Unlock()
		return
	}
	t.end = &e
	reg := t.registered
	c.mu.Unlock()
	d.endSlot(t)
	if reg {
		// The slot is free now; writing the outcome (a queue commit) must
		// not delay the next end the event consumer hands over.
		d.finishing.Go(func() { d.finish(t, e) })
	}
}

// endSlot frees the call slot of t's contact in its pool's budget.
func (d *Dispatcher) endSlot(t *tracked) {
	if b := d.budgetFor(t); b != nil {
		b.End(t.contact)
	}
}

// finish writes the final outcome of an ended contact. An unanswered end
// without a reason (contact events of GENERAL calls carry none) asks
// DescribeContact for it first.
func (d *Dispatcher) finish(t *tracked, e ContactEnd) {
	if !e.Answered && e.Reason == "" && !t.needReason {
		c := d.contacts
		c.mu.Lock()
		t.needReason, t.nextPoll = true, time.Now()
		c.mu.Unlock()
		return // the poll loop describes it and calls finish again
	}
	c := d.contacts
	c.mu.Lock()
	if _, ok := c.m[t.key]; !ok {
		c.mu.Unlock()
		return
	}
	delete(c.m, t.key)
	c.mu.Unlock()
	o := queue.ContactOutcome{Outcome: queue.OutcomeConnected, Reason: e.Reason}
	if e.Answered {
		c.connected.Add(1)
	} else {
		c.unanswered.Add(1)
		o.Outcome = queue.OutcomeEndedWithoutConnecting
		if o.Reason == "" {
			o.Reason = "no disconnect reason given"
		}
		if !e.Initiation.IsZero() && !e.Disconnect.IsZero() && e.Disconnect.Sub(e.Initiation) < time.Second {
			o.Reason += fmt.Sprintf("; ended %.1fs after it started, never answered (a reorder/fast-busy tone, e.g. past the concurrent-active-calls quota?)",
				e.Disconnect.Sub(e.Initiation).Seconds())
		}
	}
	d.recordOutcome(t.job, o)
}

// contactLoop polls DescribeContact for the contacts whose end is not
// known (at low priority, through the governor), asks for the reason of
// unanswered ends, and gives up on contacts older than MaxCallDuration.
func (d *Dispatcher) contactLoop(ctx context.Context) {
	t := time.NewTicker(pollTick)
	defer t.Stop()
	sem := make(chan struct{}, maxPollers)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		var due []*tracked
		var lost []*tracked
		c := d.contacts
		c.mu.Lock()
		for id, tr := range c.m {
			switch {
			case now.Sub(tr.started) >= d.o.MaxCallDuration && tr.end == nil:
				if tr.registered {
					delete(c.m, id)
					lost = append(lost, tr)
				}
			case tr.polling || now.Before(tr.nextPoll):
			case tr.end == nil && d.o.ContactPoll < 0 && !d.o.ContactEvents:
			case tr.end == nil || (tr.needReason && tr.registered):
				tr.polling = true
				due = append(due, tr)
			}
		}
		for id, ee := range c.early {
			if now.Sub(ee.at) > earlyTTL {
				delete(c.early, id)
			}
		}
		c.mu.Unlock()
		for _, tr := range lost {
			c.unknown.Add(1)
			d.endSlot(tr)
			d.recordOutcome(tr.job, queue.ContactOutcome{Outcome: queue.OutcomePlaced,
				Reason: fmt.Sprintf("no end learned within max_call_duration (%v)", d.o.MaxCallDuration)})
		}
		for _, tr := range due {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				d.poll(ctx, tr)
			}()
		}
	}
}

// poll describes one contact and applies what it says.
func (d *Dispatcher) poll(ctx context.Context, tr *tracked) {
	d.contacts.polls.Add(1)
	cctx, cancel := context.WithTimeout(ctx, d.o.CallTimeout)
	defer cancel()
	cctx = awssdk.WithCallOptions(cctx, governor.CallOptions{Priority: ratelimit.PriorityLow})
	out, err := d.connectFor(tr).DescribeContact(cctx, &connect.DescribeContactInput{
		InstanceId: aws.String(tr.instance), ContactId: aws.String(tr.contact)})
	c := d.contacts
	next := d.o.ContactPoll
	if d.o.ContactEvents || next <= 0 {
		next = d.o.ContactFallbackPoll
	}
	c.mu.Lock()
	tr.polling = false
	tr.nextPoll = time.Now().Add(next)
	needReason, end := tr.needReason, tr.end
	c.mu.Unlock()
	if err != nil {
		var rnf *ctypes.ResourceNotFoundException
		if !errors.As(err, &rnf) && ctx.Err() == nil {
			d.o.Logger.Debug("dispatch: DescribeContact failed; trying again later", "contact", tr.contact, "err", err)
		}
		if needReason && end != nil && ctx.Err() == nil {
			// No reason to be had: finish with what the event said.
			e := *end
			e.Reason = "unknown (DescribeContact failed: " + clip(err.Error(), 200) + ")"
			d.finish(tr, e)
		}
		return
	}
	ct := out.Contact
	if ct == nil || ct.DisconnectTimestamp == nil {
		return // still in progress
	}
	e := ContactEnd{ContactID: tr.contact, Answered: validTime(ct.ConnectedToSystemTimestamp),
		Reason: aws.ToString(ct.DisconnectReason), Disconnect: *ct.DisconnectTimestamp}
	if ct.InitiationTimestamp != nil {
		e.Initiation = *ct.InitiationTimestamp
	}
	if needReason && end != nil {
		d.finish(tr, e)
		return
	}
	d.trackedEnded(tr, e)
}

// validTime: set and not a 1970 sentinel.
func validTime(t *time.Time) bool {
	return t != nil && t.After(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
}
