package callbudget

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// Defaults used when the corresponding Options field is zero.
const (
	// DefaultLimit is Connect's default concurrent-active-calls quota.
	DefaultLimit = 10
	// DefaultMaxDuration bounds how long a slot is held when no end of the
	// call is ever learned.
	DefaultMaxDuration = time.Hour
)

// ErrNoBudget: the instance's budget is zero (the reserve takes the whole
// quota), so no call can ever be admitted. See *BudgetError.
var ErrNoBudget = errors.New("callbudget: no calls can be admitted")

// BudgetError says which instance has no budget and why.
type BudgetError struct {
	Instance       string
	Limit, Reserve int
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("callbudget: instance %s: the reserve (%d) leaves nothing of the concurrent-active-calls quota (%d)", e.Instance, e.Reserve, e.Limit)
}

// Is reports ErrNoBudget.
func (e *BudgetError) Is(target error) bool { return target == ErrNoBudget }

// Options configure a Budget. The zero value is usable: quota 10 per
// instance, no reserve, slots held at most an hour.
type Options struct {
	// Limit is the concurrent-active-calls quota of an instance without
	// its own (SetLimit). 0 means DefaultLimit.
	Limit int
	// Reserve is left unused in every instance for other callers
	// (inbound calls, agents, other dialers). Negative is treated as 0.
	Reserve int
	// MaxDuration is the longest a slot is held without an end: from
	// Acquire until StartAt, and from StartAt on. 0 means
	// DefaultMaxDuration.
	MaxDuration time.Duration
	// Aging is the wait queue's aging bound (ratelimit.NewWaitQueue): 0
	// means ratelimit.DefaultAging, negative means strict priority.
	Aging time.Duration
	// Now is the clock of Acquire and the convenience methods; nil means
	// time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	o.Reserve = max(o.Reserve, 0)
	if o.MaxDuration <= 0 {
		o.MaxDuration = DefaultMaxDuration
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Budget holds the slots of every instance. It is safe for concurrent use:
// one mutex guards all its state, and helpers ending in Locked require it
// held.
type Budget struct {
	o Options

	mu        sync.Mutex
	inst      map[string]*instance
	byContact map[string]*Slot
	timer     *time.Timer // wakes waiters when the earliest slot expires
	timerAt   time.Time
}

type instance struct {
	name   string
	limit  int // 0: Options.Limit
	held   map[*Slot]struct{}
	queue  *ratelimit.WaitQueue[*waiter]
	served int64
}

type waiter struct {
	ch   chan *Slot // buffered 1: the granted slot
	prio ratelimit.Priority
}

// Slot is one call's hold on its instance's budget. Its methods are safe
// for concurrent use; Release after an end (or a second Release) does
// nothing.
type Slot struct {
	b        *Budget
	inst     *instance
	contact  string
	deadline time.Time
	done     bool // requires b.mu held
}

// New returns a Budget for o.
func New(o Options) *Budget {
	return &Budget{o: o.withDefaults(), inst: map[string]*instance{}, byContact: map[string]*Slot{}}
}

// SetLimit sets an instance's quota (for example from Service Quotas); 0
// goes back to Options.Limit. A raised limit serves waiters at once.
func (b *Budget) SetLimit(instanceID string, limit int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	in := b.instLocked(instanceID)
	in.limit = max(limit, 0)
	b.grantLocked(in, b.o.Now())
}

// Limit returns the instance's quota and budget (quota − reserve, at least 0).
func (b *Budget) Limit(instanceID string) (quota, budget int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	in := b.instLocked(instanceID)
	return b.quotaLocked(in), b.budgetLocked(in)
}

// Active returns the slots held in the instance.
func (b *Budget) Active(instanceID string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if in := b.inst[instanceID]; in != nil {
		return len(in.held)
	}
	return 0
}

// Waiting returns the callers waiting for a slot in the instance.
func (b *Budget) Waiting(instanceID string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if in := b.inst[instanceID]; in != nil {
		return in.queue.Len()
	}
	return 0
}

func (b *Budget) instLocked(name string) *instance {
	in := b.inst[name]
	if in == nil {
		in = &instance{name: name, held: map[*Slot]struct{}{}, queue: ratelimit.NewWaitQueue[*waiter](b.o.Aging)}
		b.inst[name] = in
	}
	return in
}

func (b *Budget) quotaLocked(in *instance) int {
	if in.limit > 0 {
		return in.limit
	}
	return b.o.Limit
}

func (b *Budget) budgetLocked(in *instance) int { return max(b.quotaLocked(in)-b.o.Reserve, 0) }

// TryAcquireAt takes a slot in the instance if one is free at now and no
// waiter of the same or a higher class is queued ahead.
func (b *Budget) TryAcquireAt(now time.Time, instanceID string, p ratelimit.Priority) (*Slot, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked(now)
	in := b.instLocked(instanceID)
	for range in.queue.Ahead(now, p) {
		return nil, false
	}
	if len(in.held) >= b.budgetLocked(in) {
		return nil, false
	}
	return b.takeLocked(in, now), true
}

// takeLocked gives a new slot of in.
func (b *Budget) takeLocked(in *instance, now time.Time) *Slot {
	s := &Slot{b: b, inst: in, deadline: now.Add(b.o.MaxDuration)}
	in.held[s] = struct{}{}
	in.served++
	b.armLocked(s.deadline)
	return s
}

// Acquire waits for a slot in the instance (Options.Now's clock). It fails
// at once with a *BudgetError when the budget is zero, and with ctx.Err()
// when ctx ends first.
func (b *Budget) Acquire(ctx context.Context, instanceID string, p ratelimit.Priority) (*Slot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	now := b.o.Now()
	b.expireLocked(now)
	in := b.instLocked(instanceID)
	if b.budgetLocked(in) == 0 {
		b.mu.Unlock()
		return nil, &BudgetError{Instance: instanceID, Limit: b.quotaLocked(in), Reserve: b.o.Reserve}
	}
	ahead := false
	for range in.queue.Ahead(now, p) {
		ahead = true
		break
	}
	if !ahead && len(in.held) < b.budgetLocked(in) {
		s := b.takeLocked(in, now)
		b.mu.Unlock()
		return s, nil
	}
	w := &waiter{ch: make(chan *Slot, 1), prio: p}
	in.queue.Push(now, p, w)
	b.mu.Unlock()

	select {
	case s := <-w.ch:
		return s, nil
	case <-ctx.Done():
		b.mu.Lock()
		removed := in.queue.Remove(w)
		b.mu.Unlock()
		if !removed {
			// Granted in the same instant: give the slot back.
			(<-w.ch).Release()
		}
		return nil, ctx.Err()
	}
}

// grantLocked hands free slots of in to its waiters in service order.
func (b *Budget) grantLocked(in *instance, now time.Time) {
	if in.queue.Len() == 0 {
		return
	}
	in.queue.Walk(now, func(w *waiter, _ int) (remove, stop bool) {
		if len(in.held) >= b.budgetLocked(in) {
			return false, true
		}
		w.ch <- b.takeLocked(in, now)
		return true, false
	})
}

// armLocked makes sure the expiry timer fires by at.
func (b *Budget) armLocked(at time.Time) {
	if b.timer != nil && !b.timerAt.After(at) {
		return
	}
	if b.timer != nil {
		b.timer.Stop()
	}
	b.timerAt = at
	b.timer = time.AfterFunc(max(at.Sub(b.o.Now()), 0), func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.timer = nil
		b.expireLocked(b.o.Now())
	})
}

// ExpireAt releases the slots whose MaxDuration passed by now and returns
// the contact ids among them (the calls whose end was never learned).
func (b *Budget) ExpireAt(now time.Time) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.expireLocked(now)
}

func (b *Budget) expireLocked(now time.Time) []string {
	var out []string
	var next time.Time
	for _, in := range b.inst {
		freed := false
		for s := range in.held {
			if !now.Before(s.deadline) {
				if s.contact != "" {
					out = append(out, s.contact)
				}
				b.dropLocked(s)
				freed = true
			} else if next.IsZero() || s.deadline.Before(next) {
				next = s.deadline
			}
		}
		if freed {
			b.grantLocked(in, now)
		}
	}
	if !next.IsZero() && b.timer == nil {
		b.armLocked(next)
	}
	return out
}

func (b *Budget) dropLocked(s *Slot) {
	if s.done {
		return
	}
	s.done = true
	delete(s.inst.held, s)
	if s.contact != "" && b.byContact[s.contact] == s {
		delete(b.byContact, s.contact)
	}
}

// StartAt binds the slot to the contact Connect started at now: its end
// (EndAt) frees the slot, and MaxDuration now counts from now. A second
// contact id replaces the first. It reports false when the slot was
// already released (for example it expired while the request was slow).
func (s *Slot) StartAt(now time.Time, contactID string) bool {
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.done {
		return false
	}
	if s.contact != "" && b.byContact[s.contact] == s {
		delete(b.byContact, s.contact)
	}
	s.contact = contactID
	if old := b.byContact[contactID]; old != nil && old != s {
		// The same contact again (a redelivered job answered by its
		// ClientToken): one call, one slot.
		b.dropLocked(old)
	}
	b.byContact[contactID] = s
	s.deadline = now.Add(b.o.MaxDuration)
	b.armLocked(s.deadline)
	return true
}

// Start is StartAt with the budget's clock.
func (s *Slot) Start(contactID string) bool { return s.StartAt(s.b.o.Now(), contactID) }

// ReleaseAt frees the slot (the request created no call, or its end is
// known) and serves the next waiter.
func (s *Slot) ReleaseAt(now time.Time) {
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.done {
		return
	}
	b.dropLocked(s)
	b.grantLocked(s.inst, now)
}

// Release is ReleaseAt with the budget's clock.
func (s *Slot) Release() { s.ReleaseAt(s.b.o.Now()) }

// Contact returns the contact id bound by StartAt ("" before).
func (s *Slot) Contact() string {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.contact
}

// EndAt frees the slot of the contact that ended (a DISCONNECTED event,
// or DescribeContact's DisconnectTimestamp) and reports whether one was
// held. Ends of unknown or already freed contacts are ignored, so
// duplicated and late signals are harmless.
func (b *Budget) EndAt(now time.Time, contactID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.byContact[contactID]
	if s == nil {
		return false
	}
	b.dropLocked(s)
	b.grantLocked(s.inst, now)
	return true
}

// End is EndAt with the budget's clock.
func (b *Budget) End(contactID string) bool { return b.EndAt(b.o.Now(), contactID) }

// Instances returns the instances the budget has seen (by Acquire,
// TryAcquireAt, SetLimit or Limit), sorted.
func (b *Budget) Instances() []string {
	b.mu.Lock()
	out := make([]string, 0, len(b.inst))
	for name := range b.inst {
		out = append(out, name)
	}
	b.mu.Unlock()
	slices.Sort(out)
	return out
}
