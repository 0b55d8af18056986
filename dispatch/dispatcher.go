package dispatch

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/campaigns"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// Dispatcher delivers queued jobs to Amazon Connect. Create it with New and
// start it with Run.
type Dispatcher struct {
	o       Options
	connect *connect.Client
	dialer  Dialer
	held    heldLeases
	wake    chan struct{}

	contacts  *contacts
	finishing sync.WaitGroup // outcome writes started by ContactEnded

	pools  []*pool          // nil: the single pool of Options.AWS/Governor
	byName map[string]*pool // pools by Name
	pins   sync.Map         // job ID → pool name: pins set by this process
	fresh  sync.Map         // job ID → pool name: pins made before this attempt's send (pools_pin.go)

	running      atomic.Bool
	inFlight     atomic.Int64
	waitingCalls atomic.Int64
	counts       [numResults]atomic.Int64
	alarms       atomic.Int64
}

// New returns a Dispatcher for o. It builds the Connect client from o.AWS
// and puts it under o.Governor; with o.Pools, one client per pool, under
// the pool's governor.
func New(o Options) (*Dispatcher, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	d := &Dispatcher{o: o, wake: make(chan struct{}, 1), contacts: newContacts()}
	d.held.m = make(map[string]time.Time)
	if len(o.Pools) > 0 {
		if d.pools, err = newPools(o); err != nil {
			return nil, err
		}
		d.byName = make(map[string]*pool, len(d.pools))
		for _, p := range d.pools {
			d.byName[p.Name] = p
		}
		d.connect, d.dialer = d.pools[0].connect, d.pools[0].dialer
		return d, nil
	}
	opts := []func(*connect.Options){awssdk.Govern(o.Governor)}
	if o.Endpoint != "" {
		opts = append(opts, func(co *connect.Options) { co.BaseEndpoint = aws.String(o.Endpoint) })
	}
	d.connect = connect.NewFromConfig(o.AWS, opts...)
	d.dialer = o.Dialer
	if d.dialer == nil {
		ce := o.CampaignsEndpoint
		if ce == "" {
			ce = o.Endpoint
		}
		d.dialer = campaigns.New(o.AWS, campaigns.Options{Endpoint: ce})
	}
	return d, nil
}

// Connect returns the governed Connect client the dispatcher calls through.
// Other callers in the process (a metrics poller, say) may use it to share
// the same buckets. With pools it is the first pool's.
func (d *Dispatcher) Connect() *connect.Client { return d.connect }

// Governor returns the governor every call is admitted through; with pools,
// the first pool's.
func (d *Dispatcher) Governor() *governor.Governor {
	if d.pools != nil {
		return d.pools[0].Governor
	}
	return d.o.Governor
}

// Wake makes an idle Run poll the queue now (call it after an Enqueue).
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Stats are the dispatcher's counters since New.
type Stats struct {
	Running   bool  `json:"running"`
	InFlight  int64 `json:"in_flight"` // jobs leased and not yet settled
	Succeeded int64 `json:"succeeded"`
	Requeued  int64 `json:"requeued"`
	Dead      int64 `json:"dead"`
	Released  int64 `json:"released"`
	Lost      int64 `json:"lost"`   // settled on a stale receipt (the lease had run out)
	Alarms    int64 `json:"alarms"` // hard quotas met

	// Calls: StartOutboundVoiceContact jobs followed to their end.
	CallsInProgress        int64 `json:"calls_in_progress"`        // contacts started whose end is not known yet
	CallsWaiting           int64 `json:"calls_waiting"`            // jobs waiting for a slot of the calls-in-progress budget
	Connected              int64 `json:"connected"`                // contacts that ended answered
	EndedWithoutConnecting int64 `json:"ended_without_connecting"` // contacts that ended unanswered
	Refused                int64 `json:"refused"`                  // calls Connect refused (dead-lettered)
	EndsUnknown            int64 `json:"ends_unknown"`             // contacts whose end was not learned within MaxCallDuration
	ContactEvents          int64 `json:"contact_events"`           // end-of-contact events received
	ContactPolls           int64 `json:"contact_polls"`            // DescribeContact calls made
}

// Stats returns the counters.
func (d *Dispatcher) Stats() Stats {
	return Stats{
		Running:   d.running.Load(),
		InFlight:  d.inFlight.Load(),
		Succeeded: d.counts[ResultSucceeded].Load(),
		Requeued:  d.counts[ResultRequeued].Load(),
		Dead:      d.counts[ResultDead].Load(),
		Released:  d.counts[ResultReleased].Load(),
		Lost:      d.counts[ResultLost].Load(),
		Alarms:    d.alarms.Load(),

		CallsInProgress:        d.callsInProgress(),
		CallsWaiting:           d.waitingCalls.Load(),
		Connected:              d.contacts.connected.Load(),
		EndedWithoutConnecting: d.contacts.unanswered.Load(),
		Refused:                d.contacts.refused.Load(),
		EndsUnknown:            d.contacts.unknown.Load(),
		ContactEvents:          d.contacts.events.Load(),
		ContactPolls:           d.contacts.polls.Load(),
	}
}

func (d *Dispatcher) callsInProgress() int64 {
	c := d.contacts
	c.mu.Lock()
	defer c.mu.Unlock()
	n := int64(0)
	for _, t := range c.m {
		if t.end == nil {
			n++
		}
	}
	return n
}

// Run leases and delivers jobs until ctx ends, then stops leasing, lets the
// calls in flight finish for up to ShutdownGrace, cancels the rest and
// releases their jobs to the queue, and returns. It returns nil after a
// clean shutdown, or the queue's error if the queue is closed under it.
// Run may be called once at a time.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("dispatch: Run is already running")
	}
	defer d.running.Store(false)

	// Calls run on their own context: they outlive ctx by ShutdownGrace.
	callCtx, cancelCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelCalls()
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(d.o.ShutdownGrace, cancelCalls)
		<-callCtx.Done()
		t.Stop()
	})
	defer stopGrace()

	extCtx, stopExt := context.WithCancel(context.WithoutCancel(ctx))
	extDone := make(chan struct{})
	go func() { defer close(extDone); d.extendLoop(extCtx) }()
	ctcDone := make(chan struct{})
	go func() { defer close(ctcDone); d.contactLoop(ctx) }()
	defer func() { <-ctcDone; d.finishing.Wait() }()

	var wg sync.WaitGroup
	err := d.leaseLoop(ctx, callCtx, &wg)
	wg.Wait()
	stopExt()
	<-extDone
	return err
}

// leaseLoop leases jobs while slots are free and starts a worker per unit.
func (d *Dispatcher) leaseLoop(ctx, callCtx context.Context, wg *sync.WaitGroup) error {
	slots := make(chan struct{}, d.o.Concurrency)
	idle := time.Duration(0)
	fails := 0
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		leases, err := d.o.Queue.Lease(ctx, d.o.MaxBatch, d.o.Visibility)
		if err != nil {
			<-slots
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, queue.ErrClosed) {
				return err
			}
			fails++
			d.o.Logger.Warn("dispatch: lease failed", "err", err)
			if !d.sleep(ctx, d.o.Backoff.Delay(min(fails, 10), false, 0, rand.Float64())+100*time.Millisecond) {
				return nil
			}
			continue
		}
		fails = 0
		if len(leases) == 0 {
			<-slots
			idle = min(max(2*idle, 5*time.Millisecond), d.o.IdleWait)
			if !d.sleep(ctx, idle) {
				return nil
			}
			continue
		}
		idle = 0
		d.inFlight.Add(int64(len(leases)))
		d.held.add(leases)
		units := d.group(leases)
		for i, u := range units {
			if i > 0 {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					for _, rest := range units[i:] {
						for _, l := range rest.leases {
							d.apply(l, action{kind: ResultReleased, free: true, reason: "released", detail: "the dispatcher is stopping"})
						}
					}
					return nil
				}
			}
			wg.Add(1)
			go func(u unit) {
				defer wg.Done()
				defer func() { <-slots }()
				switch {
				case d.pools != nil && u.dial:
					d.runDialPooled(callCtx, ctx, u)
				case d.pools != nil:
					d.runPooled(callCtx, ctx, u.leases[0])
				case u.dial:
					d.runDial(callCtx, ctx, u)
				default:
					d.runOne(callCtx, ctx, u.leases[0])
				}
			}(u)
		}
	}
}

// sleep waits for d, a Wake or the end of ctx; it reports whether ctx is
// still live.
func (d *Dispatcher) sleep(ctx context.Context, dur time.Duration) bool {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C:
	case <-d.wake:
	case <-ctx.Done():
		return false
	}
	return true
}

// unit is the work of one worker: a single job, or dial requests of one
// campaign for one PutDialRequestBatch.
type unit struct {
	leases   []queue.Lease
	dial     bool
	campaign string
}

// group splits leased jobs into units, batching dial requests by campaign
// up to MaxBatch (with pools: by campaign and pin). Order of first
// appearance is kept.
func (d *Dispatcher) group(leases []queue.Lease) []unit {
	var units []unit
	open := map[string]int{} // campaign (and pin) → index of its unit still filling
	for _, l := range leases {
		if l.Job.Op == OpPutDialRequestBatch {
			if dr, err := decodeDial(l.Job.Input); err == nil && dr.CampaignID != "" {
				key := dr.CampaignID
				if d.pools != nil {
					key += "\x00" + d.pinOf(l.Job)
				}
				if i, ok := open[key]; ok && len(units[i].leases) < d.o.MaxBatch {
					units[i].leases = append(units[i].leases, l)
					continue
				}
				open[key] = len(units)
				units = append(units, unit{leases: []queue.Lease{l}, dial: true, campaign: dr.CampaignID})
				continue
			}
		}
		units = append(units, unit{leases: []queue.Lease{l}})
	}
	return units
}

// prepare checks a leased Connect job before any pool or call is chosen:
// not expired, a supported operation, an input that decodes. When it
// reports false the job has been dead-lettered.
func (d *Dispatcher) prepare(l queue.Lease) (opSpec, any, bool) {
	job := l.Job
	if expired(job, time.Now()) {
		d.apply(l, deadAction(queue.ReasonExpired, "NotAfter passed before the call was made"))
		return opSpec{}, nil, false
	}
	spec, ok := connectOps[job.Op]
	if !ok {
		d.apply(l, deadAction(queue.ReasonClientFault, "Op: "+job.Op+" is not a supported operation"))
		return opSpec{}, nil, false
	}
	in, err := decodeInput(spec, job.Input)
	if err != nil {
		d.apply(l, deadAction(queue.ReasonClientFault, err.Error()))
		return opSpec{}, nil, false
	}
	return spec, in, true
}

// runOne delivers one Connect job. stop is Run's context: when it has ended,
// a cancelled call releases its job instead of failing it.
func (d *Dispatcher) runOne(callCtx, stop context.Context, l queue.Lease) {
	job := l.Job
	spec, in, ok := d.prepare(l)
	if !ok {
		return
	}
	if spec.token {
		// The same token on every attempt and every redelivery: Connect
		// answers a repeat with the contact it already started.
		setInputToken(in, job.ClientToken)
	}
	voice, _ := in.(*connect.StartOutboundVoiceContactInput)
	var slot *callbudget.Slot
	instance := ""
	if voice != nil {
		instance = instanceOf(aws.ToString(voice.InstanceId))
		var a *action
		if slot, a = d.acquireCallOn(stop, job, d.o.CallBudget, instance); a != nil {
			d.apply(l, *a)
			return
		}
	}
	ctx, cancel, byNotAfter := d.callContext(callCtx, job)
	ctx = awssdk.WithCallOptions(ctx, governor.CallOptions{Priority: Priority(job.Priority)})
	out, err := spec.call(ctx, d.connect, in)
	cancel()
	a := d.decide(job, err, stop.Err() != nil, byNotAfter)
	if voice == nil {
		d.apply(l, a)
		return
	}
	d.settleCallOn(l, a, out, slot, instance, nil)
}

// settleCallOn settles a StartOutboundVoiceContact job and follows its
// contact (on pool p; nil: the single pool): the slot is bound to the
// contact (or released when no call was created), the job acknowledged
// with the outcome "placed", and the end applied when it comes.
func (d *Dispatcher) settleCallOn(l queue.Lease, a action, out any, slot *callbudget.Slot, instance string, p *pool) {
	contact := ""
	if o, ok := out.(*connect.StartOutboundVoiceContactOutput); ok && o != nil {
		contact = aws.ToString(o.ContactId)
	}
	if a.kind != ResultSucceeded || contact == "" {
		// No contact was created (or none is known: a timed-out request
		// that did create one is found again by the redelivery, whose
		// ClientToken returns the same ContactId).
		if slot != nil {
			slot.Release()
		}
		d.apply(l, a)
		if a.kind == ResultDead && (a.reason == queue.ReasonClientFault || a.reason == queue.ReasonHardQuota) {
			d.contacts.refused.Add(1)
			d.recordOutcome(l.Job.ID, queue.ContactOutcome{Outcome: queue.OutcomeRefused, Reason: a.detail})
		}
		return
	}
	t := d.startTracking(l.Job, instance, contact, slot, time.Now(), p)
	d.apply(l, a)
	d.recordOutcome(l.Job.ID, queue.ContactOutcome{ContactIDs: []string{contact}, Outcome: queue.OutcomePlaced})
	d.registered(t)
}

// callContext bounds a call by CallTimeout and by the job's NotAfter: a
// call that cannot start before the deadline is not made. byNotAfter says
// the deadline is the job's NotAfter.
func (d *Dispatcher) callContext(ctx context.Context, job queue.Job) (_ context.Context, _ context.CancelFunc, byNotAfter bool) {
	dl := time.Now().Add(d.o.CallTimeout)
	if !job.NotAfter.IsZero() && job.NotAfter.Before(dl) {
		dl, byNotAfter = job.NotAfter, true
	}
	ctx, cancel := context.WithDeadline(ctx, dl)
	return ctx, cancel, byNotAfter
}

func expired(j queue.Job, now time.Time) bool {
	return !j.NotAfter.IsZero() && !now.Before(j.NotAfter)
}

// Priority maps a job's priority to the governor's classes: ≤ -2 critical,
// -1 high, 0 normal, ≥ 1 low.
func Priority(p int) ratelimit.Priority {
	switch {
	case p <= -2:
		return ratelimit.PriorityCritical
	case p == -1:
		return ratelimit.PriorityHigh
	case p == 0:
		return ratelimit.PriorityNormal
	}
	return ratelimit.PriorityLow
}

// heldLeases are the receipts the dispatcher holds and their visibility
// deadlines, for extension.
type heldLeases struct {
	mu sync.Mutex // guards m
	m  map[string]time.Time
}

func (h *heldLeases) add(ls []queue.Lease) {
	h.mu.Lock()
	for _, l := range ls {
		h.m[l.Receipt] = l.Until
	}
	h.mu.Unlock()
}

func (h *heldLeases) remove(receipt string) {
	h.mu.Lock()
	delete(h.m, receipt)
	h.mu.Unlock()
}

// due returns the receipts whose visibility ends before limit.
func (h *heldLeases) due(limit time.Time) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for r, until := range h.m {
		if until.Before(limit) {
			out = append(out, r)
		}
	}
	return out
}

func (h *heldLeases) set(receipt string, until time.Time) {
	h.mu.Lock()
	if _, ok := h.m[receipt]; ok {
		h.m[receipt] = until
	}
	h.mu.Unlock()
}

// extendLoop keeps held leases alive: a job waiting for a worker slot or for
// a token, or in backoff, must not become visible to another consumer. A
// lease is extended by Visibility when less than half of it is left.
func (d *Dispatcher) extendLoop(ctx context.Context) {
	tick := max(d.o.Visibility/4, 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		for _, r := range d.held.due(now.Add(d.o.Visibility / 2)) {
			err := d.o.Queue.Extend(ctx, r, d.o.Visibility)
			switch {
			case err == nil:
				d.held.set(r, now.Add(d.o.Visibility))
			case errors.Is(err, queue.ErrStaleReceipt):
				d.held.remove(r)
			case ctx.Err() != nil:
				return
			default:
				d.o.Logger.Warn("dispatch: extending a lease failed", "err", err)
			}
		}
	}
}
