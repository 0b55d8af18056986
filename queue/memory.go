package queue

import (
	"bytes"
	"context"
	"sort"
	"strconv"
	"sync"
	"time"
)

// MemoryOptions configure NewMemory. The zero value is usable.
type MemoryOptions struct {
	// Now is the clock; nil means time.Now (which is fake time inside a
	// testing/synctest bubble).
	Now func() time.Time
	// MaxReceives is the receive limit (0 means DefaultMaxReceives).
	MaxReceives int
	// MaxFreeRequeues caps free requeues per job (0 means
	// DefaultMaxFreeRequeues; negative means none are free).
	MaxFreeRequeues int
	// MaxInput caps a job's Input in bytes (0 means DefaultMaxInput).
	MaxInput int
	// DoneRetention is how long success records are kept (0 means
	// DefaultDoneRetention).
	DoneRetention time.Duration
}

// Memory is an in-memory Queue: the reference implementation of the
// semantics, for tests and examples. It is not durable. Lease scans every
// waiting job, so it suits thousands of jobs, not millions.
type Memory struct {
	o MemoryOptions

	mu     sync.Mutex // guards everything below
	closed bool
	seq    int64
	jobs   map[string]*memJob
	tokens map[string]string // client token → job ID
	done   []string          // succeeded job IDs in finish order, for pruning
}

type memJob struct {
	Job
	seq    int64
	handle string // current lease handle; "" when not leased
	digest string // Digest of the job as enqueued
}

// NewMemory returns an empty in-memory queue.
func NewMemory(o MemoryOptions) *Memory {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxReceives <= 0 {
		o.MaxReceives = DefaultMaxReceives
	}
	if o.MaxFreeRequeues == 0 {
		o.MaxFreeRequeues = DefaultMaxFreeRequeues
	} else if o.MaxFreeRequeues < 0 {
		o.MaxFreeRequeues = 0
	}
	if o.DoneRetention <= 0 {
		o.DoneRetention = DefaultDoneRetention
	}
	return &Memory{o: o, jobs: make(map[string]*memJob), tokens: make(map[string]string)}
}

var _ Queue = (*Memory)(nil)

// Capabilities: everything is exact and strict.
func (m *Memory) Capabilities() Capabilities {
	return Capabilities{
		StrictPriority:        true,
		FIFO:                  true,
		StaleReceipts:         true,
		IdempotentEnqueue:     true,
		DurableStatus:         true,
		ExactStats:            true,
		VisibilityGranularity: time.Nanosecond,
	}
}

// begin checks ctx and the closed flag and locks mu.
func (m *Memory) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// Enqueue implements Queue.
func (m *Memory) Enqueue(ctx context.Context, jobs ...Job) ([]Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prepared, err := Prepare(m.o.Now(), m.o.MaxInput, jobs)
	if err != nil {
		return nil, err
	}
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	now := m.o.Now()
	// Check the whole batch first: a conflict stores nothing.
	for i, j := range prepared {
		if old, ok := m.jobs[j.ID]; ok {
			if old.digest != Digest(j) {
				return nil, &ConflictError{Index: i, ID: j.ID, Field: "ID"}
			}
			continue
		}
		if other, ok := m.tokens[j.ClientToken]; ok && other != j.ID {
			return nil, &ConflictError{Index: i, ID: j.ID, Field: "ClientToken", Other: other}
		}
	}
	for i, j := range prepared {
		if old, ok := m.jobs[j.ID]; ok {
			prepared[i] = m.view(old, now)
			continue
		}
		m.seq++
		j.Input = bytes.Clone(j.Input)
		m.jobs[j.ID] = &memJob{Job: j, seq: m.seq, digest: Digest(j)}
		m.tokens[j.ClientToken] = j.ID
		prepared[i] = m.view(m.jobs[j.ID], now)
	}
	return prepared, nil
}

// view returns a copy of j with its status as of now. Requires mu held.
func (m *Memory) view(j *memJob, now time.Time) Job {
	out := j.Job
	out.Input = bytes.Clone(j.Input)
	if out.Status == StatusInFlight && !now.Before(out.VisibleAt) {
		out.Status = StatusQueued
	}
	return out
}

// Lease implements Queue.
func (m *Memory) Lease(ctx context.Context, n int, visibility time.Duration) ([]Lease, error) {
	if err := CheckLease(n, visibility); err != nil {
		return nil, err
	}
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	now := m.o.Now()
	var cand []*memJob
	for _, j := range m.jobs {
		if (j.Status == StatusQueued || j.Status == StatusInFlight) && !now.Before(j.VisibleAt) {
			cand = append(cand, j)
		}
	}
	sort.Slice(cand, func(a, b int) bool {
		x, y := cand[a], cand[b]
		if x.Priority != y.Priority {
			return x.Priority < y.Priority
		}
		if !x.VisibleAt.Equal(y.VisibleAt) {
			return x.VisibleAt.Before(y.VisibleAt)
		}
		return x.seq < y.seq
	})
	var out []Lease
	for _, j := range cand {
		if len(out) == n {
			break
		}
		if reason, detail := DeadOnLease(j.Job, now, m.o.MaxReceives); reason != "" {
			m.kill(j, now, reason, detail)
			continue
		}
		j.Receives++
		j.Status = StatusInFlight
		j.VisibleAt = now.Add(visibility)
		j.handle = NewToken()
		out = append(out, Lease{Job: m.view(j, now), Receipt: MakeReceipt(j.ID, j.handle), Until: j.VisibleAt})
	}
	return out, nil
}

// DeadOnLease says whether a job found visible by Lease must be
// dead-lettered instead of leased, and why: ReasonExpired when its NotAfter
// has passed, ReasonMaxReceives when FailedReceives reached maxReceives.
// Backends call it so that they agree on the rule.
func DeadOnLease(j Job, now time.Time, maxReceives int) (reason, detail string) {
	if !j.NotAfter.IsZero() && !now.Before(j.NotAfter) {
		return ReasonExpired, "deadline " + j.NotAfter.UTC().Format(time.RFC3339Nano) + " passed before the job could run"
	}
	if j.FailedReceives() >= maxReceives {
		d := "received " + strconv.Itoa(j.Receives) + " times without success"
		if j.LastError != "" {
			d += "; last error: " + j.LastError
		}
		return ReasonMaxReceives, Truncate(d, MaxDetailLen)
	}
	return "", ""
}

// kill dead-letters j. Requires mu held.
func (m *Memory) kill(j *memJob, now time.Time, reason, detail string) {
	j.Status = StatusDead
	j.DeadReason, j.DeadDetail = reason, detail
	j.FinishedAt = now
	j.handle = ""
}

// leased finds the job a receipt refers to, if the receipt is current.
// Requires mu held.
func (m *Memory) leased(receipt string) (*memJob, error) {
	id, handle, ok := SplitReceipt(receipt)
	if !ok {
		return nil, ErrStaleReceipt
	}
	j, ok := m.jobs[id]
	if !ok || j.handle == "" || j.handle != handle {
		return nil, ErrStaleReceipt
	}
	return j, nil
}

// Ack implements Queue.
func (m *Memory) Ack(ctx context.Context, receipts ...string) error {
	if err := m.begin(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	now := m.o.Now()
	m.prune(now)
	errs := make([]error, len(receipts))
	for i, r := range receipts {
		j, err := m.leased(r)
		if err != nil {
			errs[i] = err
			continue
		}
		j.Status = StatusSucceeded
		j.FinishedAt = now
		j.Input = nil
		j.handle = ""
		m.done = append(m.done, j.ID)
	}
	return JoinBatch(errs)
}

// prune drops success records older than DoneRetention. Requires mu held.
func (m *Memory) prune(now time.Time) {
	cut := now.Add(-m.o.DoneRetention)
	k := 0
	for k < len(m.done) {
		j, ok := m.jobs[m.done[k]]
		if ok && j.Status == StatusSucceeded && j.FinishedAt.After(cut) {
			break
		}
		if ok && j.Status == StatusSucceeded {
			m.remove(j)
		}
		k++
	}
	m.done = m.done[k:]
}

// Extend implements Queue.
func (m *Memory) Extend(ctx context.Context, receipt string, visibility time.Duration) error {
	if err := CheckVisibility(visibility); err != nil {
		return err
	}
	if err := m.begin(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	j, err := m.leased(receipt)
	if err != nil {
		return err
	}
	j.VisibleAt = m.o.Now().Add(visibility)
	j.Status = StatusInFlight
	return nil
}

// Requeue implements Queue.
func (m *Memory) Requeue(ctx context.Context, receipt string, r Requeue) error {
	r, err := CheckRequeue(r)
	if err != nil {
		return err
	}
	if err := m.begin(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	j, err := m.leased(receipt)
	if err != nil {
		return err
	}
	j.Status = StatusQueued
	j.VisibleAt = m.o.Now().Add(r.Delay)
	j.handle = ""
	if r.Reason != "" {
		j.LastError = r.Reason
	}
	switch {
	case r.Return:
		j.Receives = max(j.Receives-1, 0)
	case r.Free && j.FreeRequeues < m.o.MaxFreeRequeues:
		j.FreeRequeues++
	}
	return nil
}

// DeadLetter implements Queue.
func (m *Memory) DeadLetter(ctx context.Context, receipt, reason, detail string) error {
	detail, err := CheckDeadLetter(reason, detail)
	if err != nil {
		return err
	}
	if err := m.begin(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	j, err := m.leased(receipt)
	if err != nil {
		return err
	}
	m.kill(j, m.o.Now(), reason, detail)
	return nil
}

// Get implements Queue.
func (m *Memory) Get(ctx context.Context, id string) (Job, error) {
	if err := m.begin(ctx); err != nil {
		return Job{}, err
	}
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return Job{}, ErrNotFound
	}
	return m.view(j, m.o.Now()), nil
}

// RecordOutcome implements OutcomeRecorder.
func (m *Memory) RecordOutcome(ctx context.Context, id string, o ContactOutcome) error {
	o, err := CheckOutcome(o)
	if err != nil {
		return err
	}
	if err := m.begin(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return ErrNotFound
	}
	ApplyOutcome(&j.Job, o)
	return nil
}

var _ OutcomeRecorder = (*Memory)(nil)

// Pin implements Pinner.
func (m *Memory) Pin(ctx context.Context, id, pool string) error {
	if err := CheckPool(pool); err != nil {
		return err
	}
	if err := m.begin(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return ErrNotFound
	}
	j.Pool = pool
	return nil
}

var _ Pinner = (*Memory)(nil)

// deadSorted returns the dead letters, oldest first. Requires mu held.
func (m *Memory) deadSorted(reason string) []*memJob {
	var d []*memJob
	for _, j := range m.jobs {
		if j.Status == StatusDead && (reason == "" || j.DeadReason == reason) {
			d = append(d, j)
		}
	}
	sort.Slice(d, func(a, b int) bool {
		if !d[a].FinishedAt.Equal(d[b].FinishedAt) {
			return d[a].FinishedAt.Before(d[b].FinishedAt)
		}
		return d[a].seq < d[b].seq
	})
	return d
}

// ListDead implements Queue.
func (m *Memory) ListDead(ctx context.Context, o ListOptions) ([]Job, error) {
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	now := m.o.Now()
	limit := ListLimit(o)
	d := m.deadSorted(o.Reason)
	start := 0
	if o.After != "" {
		start = len(d)
		for i, j := range d {
			if j.ID == o.After {
				start = i + 1
				break
			}
		}
	}
	out := []Job{}
	for _, j := range d[start:] {
		if len(out) == limit {
			break
		}
		out = append(out, m.view(j, now))
	}
	return out, nil
}

// selectDead returns the dead letters a Selector picks. Requires mu held.
func (m *Memory) selectDead(s Selector) []*memJob {
	if s.All {
		return m.deadSorted(s.Reason)
	}
	var out []*memJob
	for _, id := range s.IDs {
		if j, ok := m.jobs[id]; ok && j.Status == StatusDead {
			out = append(out, j)
		}
	}
	return out
}

// Redrive implements Queue.
func (m *Memory) Redrive(ctx context.Context, r Redrive) (int, error) {
	if err := CheckSelector(r.Selector); err != nil {
		return 0, err
	}
	if err := m.begin(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	now := m.o.Now()
	sel := m.selectDead(r.Selector)
	for _, j := range sel {
		j.Status = StatusQueued
		j.VisibleAt = now
		j.Receives, j.FreeRequeues = 0, 0
		j.DeadReason, j.DeadDetail = "", ""
		j.FinishedAt = time.Time{}
		if r.ClearNotAfter {
			j.NotAfter = time.Time{}
		}
		m.seq++
		j.seq = m.seq
	}
	return len(sel), nil
}

// PurgeDead implements Queue.
func (m *Memory) PurgeDead(ctx context.Context, s Selector) (int, error) {
	if err := CheckSelector(s); err != nil {
		return 0, err
	}
	if err := m.begin(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	sel := m.selectDead(s)
	for _, j := range sel {
		m.remove(j)
	}
	return len(sel), nil
}

// Stats implements Queue.
func (m *Memory) Stats(ctx context.Context) (Stats, error) {
	if err := m.begin(ctx); err != nil {
		return Stats{}, err
	}
	defer m.mu.Unlock()
	now := m.o.Now()
	m.prune(now)
	s := Stats{ByOp: map[string]OpStats{}, DeadByReason: map[string]int64{}}
	var oldest time.Time
	for _, j := range m.jobs {
		o := s.ByOp[j.Op]
		switch {
		case j.Status == StatusSucceeded:
			s.Succeeded++
			continue
		case j.Status == StatusDead:
			s.Dead++
			o.Dead++
			s.DeadByReason[j.DeadReason]++
		case !now.Before(j.VisibleAt):
			s.Ready++
			o.Ready++
		case j.Status == StatusInFlight:
			s.InFlight++
			o.InFlight++
		default:
			s.Delayed++
			o.Delayed++
		}
		s.ByOp[j.Op] = o
		if j.Status != StatusDead && (oldest.IsZero() || j.EnqueuedAt.Before(oldest)) {
			oldest = j.EnqueuedAt
		}
	}
	if !oldest.IsZero() {
		s.OldestAge = now.Sub(oldest)
	}
	return s, nil
}

// Close implements Queue.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
