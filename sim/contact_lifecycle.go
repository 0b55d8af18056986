package sim

import (
	"container/heap"
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Contact lifecycle of simulated voice calls: what DescribeContact answers
// and the contact events (EventBridge "Amazon Connect Contact Event") the
// simulator publishes. A call the instance accepts rings, is answered
// (ConnectedToSystemTimestamp) and ends with CUSTOMER_DISCONNECT after its
// sampled duration; StopContact ends it with OTHER (the reason Connect
// records for API disconnects). A call beyond the concurrent-active-calls
// quota (call_limit reorder) ends at once, never answered, with
// DisconnectReason OTHER: what Connect records for a reorder tone is not
// documented (shared reference contact-lifecycle.md §3.2), so the
// simulator picks the reason the heuristic there expects.

// Disconnect reasons the simulator records.
const (
	ReasonCustomerDisconnect = "CUSTOMER_DISCONNECT"
	ReasonOther              = "OTHER"
)

// Contact event types the simulator publishes, in the order they happen.
const (
	EventInitiated         = "INITIATED"
	EventConnectedToSystem = "CONNECTED_TO_SYSTEM"
	EventDisconnected      = "DISCONNECTED"
)

// ContactEventSink receives contact events, each one EventBridge event as
// JSON (the whole envelope: what an EventBridge rule with an SQS target and
// no input transformer delivers as the message body). Package
// contactevents has the Amazon SQS sink. It is called from one goroutine,
// in event time order; an error is counted and the events are dropped
// (EventBridge's delivery is best effort too).
type ContactEventSink interface {
	PublishContactEvents(ctx context.Context, events []json.RawMessage) error
}

// ringTime is how long a simulated call rings before it is answered: a
// tenth of its duration, at most 2 s.
func ringTime(d time.Duration) time.Duration { return min(d/10, 2*time.Second) }

// eventEnvelope is the EventBridge envelope (contact-lifecycle.md §1.2).
type eventEnvelope struct {
	Version    string        `json:"version"`
	ID         string        `json:"id"`
	DetailType string        `json:"detail-type"`
	Source     string        `json:"source"`
	Account    string        `json:"account"`
	Time       string        `json:"time"`
	Region     string        `json:"region"`
	Resources  []string      `json:"resources"`
	Detail     contactDetail `json:"detail"`
}

type contactDetail struct {
	EventType                  string            `json:"eventType"`
	ContactID                  string            `json:"contactId"`
	InitialContactID           string            `json:"initialContactId"`
	Channel                    string            `json:"channel"`
	InstanceARN                string            `json:"instanceArn"`
	InitiationMethod           string            `json:"initiationMethod"`
	InitiationTimestamp        string            `json:"initiationTimestamp"`
	ConnectedToSystemTimestamp string            `json:"connectedToSystemTimestamp,omitempty"`
	DisconnectTimestamp        string            `json:"disconnectTimestamp,omitempty"`
	Tags                       map[string]string `json:"tags,omitempty"`
}

const eventTimeLayout = "2006-01-02T15:04:05.000Z"

// pendingEvent is one event due at at.
type pendingEvent struct {
	at   time.Time
	seq  uint64
	typ  string
	inst *instance
	c    *contact
}

type eventHeap []pendingEvent

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(pendingEvent)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// emitter publishes contact events when they are due, from one goroutine
// started on the first event and stopped by Server.Close.
type emitter struct {
	s    *Server
	sink ContactEventSink

	mu      sync.Mutex // guards everything below
	pending eventHeap
	seq     uint64
	started bool
	closed  bool
	wake    chan struct{}
	done    chan struct{}
	// publishing holds a token per publish in flight.
	publishing chan struct{}
	cancel     context.CancelFunc
}

func newEmitter(s *Server, sink ContactEventSink) *emitter {
	if sink == nil {
		return nil
	}
	return &emitter{s: s, sink: sink, wake: make(chan struct{}, 1), done: make(chan struct{}), publishing: make(chan struct{}, maxPublishing)}
}

// schedule queues an event of c at at. Safe with or without st.mu held.
func (e *emitter) schedule(at time.Time, typ string, inst *instance, c *contact) {
	if e == nil {
		return
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	heap.Push(&e.pending, pendingEvent{at: at, seq: e.seq, typ: typ, inst: inst, c: c})
	e.seq++
	if !e.started {
		e.started = true
		ctx, cancel := context.WithCancel(context.Background())
		e.cancel = cancel
		go e.run(ctx)
	}
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// scheduleCall queues the events of a voice call started at c.start.
func (e *emitter) scheduleCall(inst *instance, c *contact) {
	if e == nil {
		return
	}
	e.schedule(c.start, EventInitiated, inst, c)
	if !c.connected.IsZero() {
		e.schedule(c.connected, EventConnectedToSystem, inst, c)
	}
	e.schedule(c.end, EventDisconnected, inst, c)
}

func (e *emitter) run(ctx context.Context) {
	defer close(e.done)
	defer func() { // wait for the publishes in flight
		for range maxPublishing {
			e.publishing <- struct{}{}
		}
	}()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		now := e.s.now()
		e.mu.Lock()
		var due []pendingEvent
		for e.pending.Len() > 0 && !e.pending[0].at.After(now) {
			due = append(due, heap.Pop(&e.pending).(pendingEvent))
		}
		wait := time.Hour
		if e.pending.Len() > 0 {
			wait = e.pending[0].at.Sub(now)
		}
		e.mu.Unlock()
		if len(due) > 0 {
			e.publish(ctx, due, now)
			continue
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-t.C:
		}
	}
}

// publish builds and sends the due events; a DISCONNECTED whose contact
// now ends later or was already announced (StopContact moved it) is
// skipped.
func (e *emitter) publish(ctx context.Context, due []pendingEvent, now time.Time) {
	st := e.s.st
	out := make([]json.RawMessage, 0, len(due))
	st.mu.Lock()
	for _, p := range due {
		c := p.c
		if p.typ == EventDisconnected {
			if c.endSent || c.end.After(now) || !c.end.Equal(p.at) {
				continue
			}
			c.endSent = true
		}
		if p.typ == EventConnectedToSystem && !c.end.After(p.at) {
			continue // stopped before it was answered
		}
		out = append(out, e.event(p, st.newID()))
	}
	st.mu.Unlock()
	if len(out) == 0 {
		return
	}
	// Publish in the background (at most maxPublishing at once), so a slow
	// sink does not hold back the events due next: EventBridge delivers
	// unordered too.
	e.publishing <- struct{}{}
	go func() {
		defer func() { <-e.publishing }()
		if err := e.sink.PublishContactEvents(ctx, out); err != nil {
			e.s.stats.contactEventErrors.Add(int64(len(out)))
			if e.s.o.Logger != nil {
				e.s.o.Logger.Warn("sim: publishing contact events failed", "events", len(out), "err", err)
			}
			return
		}
		e.s.stats.contactEvents.Add(int64(len(out)))
	}()
}

// maxPublishing bounds the publishes in flight.
const maxPublishing = 4

// event renders one event; requires st.mu held.
func (e *emitter) event(p pendingEvent, id string) json.RawMessage {
	c, inst, s := p.c, p.inst, e.s
	d := contactDetail{
		EventType: p.typ, ContactID: c.id, InitialContactID: c.id, Channel: c.ch.String(),
		InstanceARN: inst.arn, InitiationMethod: "API",
		InitiationTimestamp: c.start.UTC().Format(eventTimeLayout),
		Tags:                map[string]string{"aws:connect:instanceId": inst.id},
	}
	if !c.connected.IsZero() && !c.connected.After(p.at) && c.connected.Before(c.end) {
		d.ConnectedToSystemTimestamp = c.connected.UTC().Format(eventTimeLayout)
	}
	if p.typ == EventDisconnected {
		d.DisconnectTimestamp = c.end.UTC().Format(eventTimeLayout)
	}
	b, _ := json.Marshal(eventEnvelope{
		Version: "0", ID: id, DetailType: "Amazon Connect Contact Event", Source: "aws.connect",
		Account: s.o.AccountID, Time: p.at.UTC().Format(time.RFC3339), Region: s.o.Region,
		Resources: []string{inst.arn, inst.arn + "/contact/" + c.id},
		Detail:    d,
	})
	return b
}

// close stops the goroutine; pending events are dropped.
func (e *emitter) close() {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.closed = true
	started := e.started
	if e.cancel != nil {
		e.cancel()
	}
	e.mu.Unlock()
	if started {
		<-e.done
	}
}

// Close stops publishing contact events (Options.ContactEvents) and
// answers the requests an outage holds (OutageTimeout). The handler keeps
// serving requests; an outage no longer holds them.
func (s *Server) Close() error {
	s.events.close()
	s.releaseHeld()
	return nil
}

type describeContactIn struct{ pathInstance }

func (in *describeContactIn) validate(v *validator, rc *reqCtx) *apiError {
	in.validateInstance(v, rc)
	v.length("contactId", rc.labels[1], 1, 256)
	return nil
}

type contactOut struct {
	Arn                        string  `json:"Arn"`
	Id                         string  `json:"Id"`
	InitialContactId           string  `json:"InitialContactId"`
	Channel                    string  `json:"Channel"`
	InitiationMethod           string  `json:"InitiationMethod"`
	InitiationTimestamp        *epoch  `json:"InitiationTimestamp,omitempty"`
	ConnectedToSystemTimestamp *epoch  `json:"ConnectedToSystemTimestamp,omitempty"`
	DisconnectTimestamp        *epoch  `json:"DisconnectTimestamp,omitempty"`
	DisconnectReason           *string `json:"DisconnectReason,omitempty"`
	LastUpdateTimestamp        *epoch  `json:"LastUpdateTimestamp,omitempty"`
}

// describeContact answers with the contact as of now: the timestamps that
// have passed and, once it ended, the disconnect reason.
func (s *Server) describeContact(rc *reqCtx, _ *describeContactIn, inst *instance) (any, *apiError) {
	c := inst.contacts[rc.labels[1]]
	if c == nil {
		return nil, errf(codeResourceNotFound, "Contact not found: "+clip(rc.labels[1]))
	}
	out := contactOut{
		Arn: inst.arn + "/contact/" + c.id, Id: c.id, InitialContactId: c.id, Channel: c.ch.String(),
		InitiationMethod: "API", InitiationTimestamp: ep(c.start), LastUpdateTimestamp: ep(c.start),
	}
	if !c.connected.IsZero() && !c.connected.After(rc.now) && c.connected.Before(c.end) {
		out.ConnectedToSystemTimestamp = ep(c.connected)
		out.LastUpdateTimestamp = ep(c.connected)
	}
	if !c.end.After(rc.now) {
		out.DisconnectTimestamp = ep(c.end)
		out.LastUpdateTimestamp = ep(c.end)
		reason := c.reason
		if reason == "" {
			reason = ReasonCustomerDisconnect
		}
		out.DisconnectReason = &reason
	}
	return struct{ Contact contactOut }{out}, nil
}
