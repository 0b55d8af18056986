package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
)

// DefaultAging is the starvation bound used when HierarchyOptions.Aging is
// zero: a waiter queued this long is served ahead of every priority class.
const DefaultAging = 5 * time.Second

// HierarchyOptions configures a Hierarchy. The zero value means: operation
// limits from quotas.Default(), no account-wide cap, real time, and
// DefaultAging.
type HierarchyOptions struct {
	// Table supplies the limit of every operation not listed in Ops.
	// nil means quotas.Default(). The Hierarchy keeps its own copy.
	Table *quotas.Table
	// Account is the account-wide bucket that every admission also draws
	// from. The zero Limit means unlimited.
	Account Limit
	// Ops overrides the table for the listed operations. A zero Limit means
	// unlimited.
	Ops map[string]Limit
	// Now is the clock. nil means time.Now. Wait sleeps on runtime timers,
	// so a custom clock must advance with them (real time, or time inside a
	// testing/synctest bubble); TryAt and Reserve take the time explicitly.
	Now func() time.Time
	// Aging is the starvation bound: a waiter queued for longer than Aging
	// is served ahead of every priority class, oldest first. Zero means
	// DefaultAging; a negative value disables aging (strict priority, and
	// a low class can then starve under sustained higher-class demand).
	Aging time.Duration
}

// noBlock is the rank meaning "nothing blocked": after every real rank
// (RankAged and the class indexes).
const noBlock = NumClasses

// Hierarchy is the in-memory Limiter: one token bucket per operation nested
// inside one account bucket, with priority queues for waiters. An admission
// takes cost tokens from the operation's bucket and the account's bucket
// together, or from neither.
//
// Locking: a single mutex, mu, guards all mutable state (both kinds of
// bucket, the operation map, the wait queues and the timer). The timer
// callback takes mu too; nothing else is locked while mu is held, so there
// is no lock order to get wrong. Methods whose names end in Locked require
// mu held.
type Hierarchy struct {
	now   func() time.Time
	table *quotas.Table    // read-only after NewHierarchy
	over  map[string]Limit // read-only copy of HierarchyOptions.Ops

	mu        sync.Mutex
	acct      Bucket
	acctLimit Limit // as set by the caller (zero = unlimited)
	ops       map[string]*opState
	q         *WaitQueue[*waiter]
	epoch     uint64      // bumped by every dispatch; stamps opState.blockEpoch
	acctBlock int         // rank of the first waiter blocked on the account in the last dispatch
	timer     *time.Timer // fires dispatch when the next waiter can go
}

// opState is one operation's bucket. Guarded by Hierarchy.mu.
type opState struct {
	name       string
	b          Bucket
	limit      Limit  // as set (zero = unlimited)
	blockEpoch uint64 // == Hierarchy.epoch when a queued waiter holds this bucket
	blockRank  int    // rank of that waiter
}

// waiter is one blocked Wait call. Guarded by Hierarchy.mu.
type waiter struct {
	op      *opState // nil: account bucket only
	cost    float64
	ready   chan struct{} // closed when done
	done    bool          // granted or failed; to be removed from the queue
	granted bool
	err     error
}

var _ Limiter = (*Hierarchy)(nil)

// NewHierarchy returns a Hierarchy configured by opts.
func NewHierarchy(opts HierarchyOptions) *Hierarchy {
	h := &Hierarchy{
		now:       opts.Now,
		ops:       make(map[string]*opState),
		acctLimit: opts.Account,
		acctBlock: noBlock,
		q:         NewWaitQueue[*waiter](opts.Aging),
	}
	if h.now == nil {
		h.now = time.Now
	}
	if opts.Table == nil {
		h.table = quotas.Default()
	} else {
		h.table = opts.Table.Clone()
	}
	if len(opts.Ops) > 0 {
		h.over = make(map[string]Limit, len(opts.Ops))
		for k, v := range opts.Ops {
			h.over[k] = v
		}
	}
	h.acct = NewBucket(effective(opts.Account), h.now())
	return h
}

// effective maps the zero Limit to an unlimited one.
func effective(l Limit) Limit {
	if l.Rate == 0 && l.Burst == 0 {
		return Limit{Rate: Inf, Burst: Inf}
	}
	return l
}

// configured returns op's limit from Ops or the table.
func (h *Hierarchy) configured(op string) Limit {
	if l, ok := h.over[op]; ok {
		return l
	}
	a, _ := h.table.API(op)
	return Limit{Rate: a.Rate, Burst: float64(a.Burst)}
}

// opLocked returns op's state, creating a full bucket on first use; nil for
// op "" (account only). Requires mu held.
func (h *Hierarchy) opLocked(op string, now time.Time) *opState {
	if op == "" {
		return nil
	}
	if s, ok := h.ops[op]; ok {
		return s
	}
	l := h.configured(op)
	s := &opState{name: op, b: NewBucket(effective(l), now), limit: l}
	h.ops[op] = s
	return s
}

// fitsLocked reports ErrExceedsBurst if cost can never fit op's or the
// account's bucket. Requires mu held.
func (h *Hierarchy) fitsLocked(op *opState, cost float64) error {
	if op != nil && !op.b.unlimited() && cost > op.b.burst {
		return fmt.Errorf("ratelimit: %s: cost %v > burst %v: %w", op.name, cost, op.b.burst, ErrExceedsBurst)
	}
	if !h.acct.unlimited() && cost > h.acct.burst {
		return fmt.Errorf("ratelimit: account: cost %v > burst %v: %w", cost, h.acct.burst, ErrExceedsBurst)
	}
	return nil
}

// Try admits req now or not at all. It is shorthand for TryAt(Now(), req)
// after checking ctx.
func (h *Hierarchy) Try(ctx context.Context, req Request) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, fmt.Errorf("ratelimit: try %s: %w", req.Op, err)
	}
	return h.TryAt(h.now(), req)
}

// TryAt admits req at now or not at all. A request is refused while waiters
// that rank ahead of it (an older waiter of its class or any waiter of a
// higher class, on the same bucket) are queued, so polling with Try cannot
// overtake Wait callers. The error is non-nil only for an invalid cost or
// ErrExceedsBurst.
func (h *Hierarchy) TryAt(now time.Time, req Request) (Decision, error) {
	cost, err := req.Tokens()
	if err != nil {
		return Decision{}, err
	}
	h.mu.Lock()
	op := h.opLocked(req.Op, now)
	if err := h.fitsLocked(op, cost); err != nil {
		h.mu.Unlock()
		return Decision{}, err
	}
	d := h.admitLocked(now, op, cost, req.Priority)
	h.mu.Unlock()
	return d, nil
}

// admitLocked admits cost tokens of op at now for a caller of priority p,
// or says when to retry. Requires mu held.
func (h *Hierarchy) admitLocked(now time.Time, op *opState, cost float64, p Priority) Decision {
	if h.q.Len() > 0 {
		h.dispatchLocked(now)
		if h.q.Len() > 0 && h.blockedLocked(op, p.Class()) {
			return Decision{RetryIn: h.estimateLocked(now, op, cost, p)}
		}
	}
	if h.takeLocked(now, op, cost) {
		return Decision{OK: true}
	}
	return Decision{RetryIn: h.estimateLocked(now, op, cost, p)}
}

// takeLocked takes cost from op's bucket and the account's if both hold it,
// and reports whether it did. Requires mu held.
func (h *Hierarchy) takeLocked(now time.Time, op *opState, cost float64) bool {
	var ot float64
	if op != nil && !op.b.unlimited() {
		ot = op.b.advance(now)
		if ot+epsilon < cost {
			return false
		}
	}
	var at float64
	if !h.acct.unlimited() {
		at = h.acct.advance(now)
		if at+epsilon < cost {
			return false
		}
		h.acct.settle(now, at-cost)
	}
	if op != nil && !op.b.unlimited() {
		op.b.settle(now, ot-cost)
	}
	return true
}

// giveLocked returns cost tokens to op's bucket and the account's. Requires
// mu held.
func (h *Hierarchy) giveLocked(now time.Time, op *opState, cost float64) {
	if op != nil {
		op.b.ReturnN(now, cost)
	}
	h.acct.ReturnN(now, cost)
}

// blockedLocked reports whether a queued waiter ranking ahead of a new
// request of class holds op's bucket or the account's. Valid right after
// dispatchLocked. Requires mu held.
func (h *Hierarchy) blockedLocked(op *opState, class int) bool {
	if h.acctBlock <= class {
		return true
	}
	return op != nil && op.blockEpoch == h.epoch && op.blockRank <= class
}

// estimateLocked returns a lower bound on how long a new request of
// priority p must wait: the time to earn its cost plus the cost of the
// waiters on the same operation queued ahead of it (they must go first), in
// both buckets. Requires mu held.
func (h *Hierarchy) estimateLocked(now time.Time, op *opState, cost float64, p Priority) time.Duration {
	need := cost
	for w := range h.q.Ahead(now, p) {
		if w.op == op {
			need += w.cost
		}
	}
	d := h.acct.timeFor(now, need)
	if op != nil {
		if od := op.b.timeFor(now, need); od > d {
			d = od
		}
	}
	return d
}

// Wait blocks until req is admitted, ctx ends, or the admission clearly
// cannot happen before ctx's deadline. In the last case it returns at once
// with an error wrapping ErrWouldExceedDeadline; when ctx ends first the
// error wraps ctx.Err(). Waiters are served highest class first, FIFO
// within a class, and a waiter queued longer than the aging bound goes
// ahead of every class.
func (h *Hierarchy) Wait(ctx context.Context, req Request) error {
	cost, err := req.Tokens()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ratelimit: wait %s: %w", req.Op, err)
	}
	h.mu.Lock()
	now := h.now()
	op := h.opLocked(req.Op, now)
	if err := h.fitsLocked(op, cost); err != nil {
		h.mu.Unlock()
		return err
	}
	d := h.admitLocked(now, op, cost, req.Priority)
	if d.OK {
		h.mu.Unlock()
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && (d.RetryIn == InfDuration || now.Add(d.RetryIn).After(dl)) {
		h.mu.Unlock()
		return fmt.Errorf("ratelimit: wait %s: needs %v, deadline in %v: %w", req.Op, d.RetryIn, dl.Sub(now), ErrWouldExceedDeadline)
	}
	w := &waiter{op: op, cost: cost, ready: make(chan struct{})}
	h.q.Push(now, req.Priority, w)
	h.dispatchLocked(now)
	h.mu.Unlock()

	select {
	case <-w.ready:
		return w.err
	case <-ctx.Done():
	}
	h.mu.Lock()
	now = h.now()
	switch {
	case w.granted:
		// Admitted as ctx ended: the caller will not act, so give it back.
		h.giveLocked(now, op, cost)
	case !w.done:
		h.q.Remove(w)
		w.done = true
	}
	h.dispatchLocked(now)
	h.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	return fmt.Errorf("ratelimit: wait %s: %w", req.Op, ctx.Err())
}

// SetLimit changes the limit of op ("" for the account bucket) now. Tokens
// already earned are kept up to the new burst. A zero Limit means
// unlimited. Queued waiters are re-examined at once. The error is non-nil
// only when ctx has already ended (then nothing changes).
func (h *Hierarchy) SetLimit(ctx context.Context, op string, l Limit) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ratelimit: set limit %s: %w", op, err)
	}
	h.mu.Lock()
	now := h.now()
	if op == "" {
		h.acctLimit = l
		h.acct.SetLimit(now, effective(l))
	} else {
		s := h.opLocked(op, now)
		s.limit = l
		s.b.SetLimit(now, effective(l))
	}
	if h.q.Len() > 0 {
		h.dispatchLocked(now)
	}
	h.mu.Unlock()
	return nil
}

// Limit returns the current limit of op ("" for the account bucket) as set;
// the zero Limit means unlimited.
func (h *Hierarchy) Limit(op string) Limit {
	h.mu.Lock()
	defer h.mu.Unlock()
	if op == "" {
		return h.acctLimit
	}
	if s, ok := h.ops[op]; ok {
		return s.limit
	}
	return h.configured(op)
}

// TokensAt returns the tokens op's bucket and the account's bucket hold at
// now (negative while reservations are outstanding; the burst, which may be
// Inf, for an unlimited bucket). For op "" opTokens is the account's.
func (h *Hierarchy) TokensAt(now time.Time, op string) (opTokens, account float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	account = h.acct.TokensAt(now)
	s := h.opLocked(op, now)
	if s == nil {
		return account, account
	}
	return s.b.TokensAt(now), account
}

// Waiting returns the number of Wait calls queued.
func (h *Hierarchy) Waiting() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.q.Len()
}
