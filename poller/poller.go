package poller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Shared is a cache shared by every process of a deployment, with one
// refresher at a time per key (redisx.Cache).
type Shared interface {
	GetOrRefresh(ctx context.Context, key string, ttl time.Duration, refresh func(ctx context.Context) ([]byte, error)) ([]byte, error)
}

// Options configure a Poller. Queries and Call are required; every other
// zero field means its default.
type Options struct {
	// Queries are the scheduled reads.
	Queries []Query
	// Call makes one call (one page).
	Call Caller
	// IsRead accepts the operations a query may name (nil: any).
	IsRead func(op string) bool
	// Rate returns an operation's quota (requests/s) for the Fit check at
	// New; nil skips the check.
	Rate func(op string) (float64, bool)
	// Share is the share of each operation's quota the queries may use
	// together (0 < Share ≤ 1); 0 means DefaultShare.
	Share float64
	// Shared, when set, makes one poll per interval for every process
	// sharing it (redisx.Cache).
	Shared Shared
	// KeyPrefix starts the Shared keys; default "poll:".
	KeyPrefix string
	// StateFile, when set, keeps the last value of every query on disk.
	StateFile string
	// History is how many points of each query's figures are kept;
	// default 120.
	History int
	// PollTimeout bounds one poll (all its pages); default the query's
	// interval, at least 2 s and at most 30 s.
	PollTimeout time.Duration
	// Logger receives the log; nil discards it.
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.Call == nil {
		return o, errors.New("poller: Options.Call is required")
	}
	if o.Share == 0 {
		o.Share = DefaultShare
	}
	if !(o.Share > 0 && o.Share <= 1) {
		return o, fmt.Errorf("poller: share must be > 0 and at most 1, got %v", o.Share)
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = "poll:"
	}
	if o.History == 0 {
		o.History = 120
	}
	if o.History < 1 || o.History > 100000 {
		return o, fmt.Errorf("poller: history must be 1-100000, got %d", o.History)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Point is one poll's figures.
type Point struct {
	T time.Time          `json:"t"`
	V map[string]float64 `json:"v"`
}

// Snapshot is what a reader sees of one query.
type Snapshot struct {
	Name        string             `json:"name"`
	Op          string             `json:"op"`
	Value       json.RawMessage    `json:"value"`
	Numbers     map[string]float64 `json:"numbers,omitempty"`
	FetchedAt   time.Time          `json:"fetched_at"`
	Age         float64            `json:"age"` // seconds since FetchedAt (0 when never fetched)
	NextRefresh time.Time          `json:"next_refresh"`
	Stale       bool               `json:"stale"`
	Restored    bool               `json:"restored,omitempty"` // read from disk, not yet re-polled
	Interval    float64            `json:"interval"`           // seconds, configured
	Effective   float64            `json:"effective_interval"` // seconds, after throttle stretching
	Stretch     float64            `json:"stretch"`            // 1 = not stretched
	Polls       int64              `json:"polls"`              // polls made by this process
	Calls       int64              `json:"calls"`              // pages fetched by this process
	LastError   string             `json:"last_error,omitempty"`
	History     []Point            `json:"history,omitempty"`
}

// Event is what Subscribe delivers: a query's new value.
type Event struct {
	Snapshot Snapshot
}

// entry is one query's state; guarded by Poller.mu.
type entry struct {
	q         Query
	value     json.RawMessage
	numbers   map[string]float64
	fetchedAt time.Time
	restored  bool
	next      time.Time
	polls     int64
	calls     int64
	lastErr   string
	history   []Point
}

// Poller polls its queries and holds their latest values. Create it with
// New, start it with Run; the read methods are safe for concurrent use at
// any time.
type Poller struct {
	o Options

	saveMu sync.Mutex // serializes writers of the state file (never held with mu while writing)

	mu      sync.Mutex // guards everything below
	entries map[string]*entry
	order   []string
	stretch map[string]*stretch // by operation
	base    map[string]time.Duration
	flights map[string]*flight
	subs    map[int]chan Event
	nextSub int
	dirty   bool
}

type flight struct {
	done chan struct{}
	err  error
}

// New validates and fits the queries, restores the state file if any, and
// returns a Poller. Nothing is polled until Run.
func New(o Options) (*Poller, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := Validate(o.Queries, o.IsRead); err != nil {
		return nil, err
	}
	if o.Rate != nil {
		if err := Fit(o.Queries, o.Share, o.Rate); err != nil {
			return nil, err
		}
	}
	p := &Poller{o: o, entries: map[string]*entry{}, stretch: map[string]*stretch{}, base: map[string]time.Duration{},
		flights: map[string]*flight{}, subs: map[int]chan Event{}}
	for _, q := range o.Queries {
		p.entries[q.Name] = &entry{q: q}
		p.order = append(p.order, q.Name)
		if b, ok := p.base[q.Op]; !ok || q.Interval < b {
			p.base[q.Op] = q.Interval
		}
		if p.stretch[q.Op] == nil {
			p.stretch[q.Op] = &stretch{}
		}
	}
	if o.StateFile != "" {
		if err := p.restore(); err != nil {
			o.Logger.Warn("poller: could not restore the last values; starting empty", "file", o.StateFile, "err", err)
		}
	}
	return p, nil
}

// Queries returns the configured queries.
func (p *Poller) Queries() []Query { return append([]Query(nil), p.o.Queries...) }

// Run polls every query on its schedule until ctx ends. The first poll of
// each query is at once (restored values are served stale meanwhile).
func (p *Poller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, q := range p.o.Queries {
		wg.Add(1)
		go func() { defer wg.Done(); p.loop(ctx, q) }()
	}
	wg.Wait()
	p.flush()
	return nil
}

func (p *Poller) loop(ctx context.Context, q Query) {
	for {
		err := p.Refresh(ctx, q.Name)
		if ctx.Err() != nil {
			return
		}
		now := time.Now()
		eff := p.effective(q)
		p.mu.Lock()
		e := p.entries[q.Name]
		next := e.fetchedAt.Add(eff)
		switch {
		case p.o.Shared != nil:
			// Shared: polls fall on slots of the wall clock (multiples of
			// the interval), the same in every process, one poll per slot.
			next = slotStart(now, eff).Add(eff)
		case err != nil || e.fetchedAt.IsZero() || !next.After(now):
			next = now.Add(eff)
		}
		e.next = next
		p.mu.Unlock()
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// slotStart is the start of the wall-clock slot of length d holding t.
func slotStart(t time.Time, d time.Duration) time.Time {
	ms := d.Milliseconds()
	if ms <= 0 {
		return t
	}
	return time.UnixMilli(t.UnixMilli() / ms * ms)
}

// effective is q's interval stretched by its operation's throttles.
func (p *Poller) effective(q Query) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return scaled(q.Interval, p.stretch[q.Op].factor())
}

// Refresh polls the query now, unless a poll of it is in progress in this
// process (then it waits for that one) or, with Options.Shared, another
// process polled it within its interval (then it takes that value).
func (p *Poller) Refresh(ctx context.Context, name string) error {
	p.mu.Lock()
	e, ok := p.entries[name]
	if !ok {
		p.mu.Unlock()
		return fmt.Errorf("poller: no query %q", name)
	}
	if f, ok := p.flights[name]; ok {
		p.mu.Unlock()
		select {
		case <-f.done:
			return f.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	p.flights[name] = f
	q := e.q
	p.mu.Unlock()

	f.err = p.refresh(ctx, q)
	p.mu.Lock()
	delete(p.flights, name)
	p.mu.Unlock()
	close(f.done)
	return f.err
}

// record is what the shared cache holds for a query.
type record struct {
	Op        string          `json:"op"`
	Value     json.RawMessage `json:"value"`
	FetchedAt time.Time       `json:"fetched_at"`
}

func (p *Poller) refresh(ctx context.Context, q Query) error {
	eff := p.effective(q)
	timeout := p.o.PollTimeout
	if timeout == 0 {
		timeout = min(max(eff, 2*time.Second), 30*time.Second)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	calls := 0
	poll := func(ctx context.Context) ([]byte, error) {
		// FetchedAt is when the poll was asked for, so the schedule
		// (FetchedAt + interval) does not drift by the call's latency.
		asked := time.Now()
		v, n, err := fetch(ctx, p.o.Call, q.Op, q.Input)
		calls += n
		if err != nil {
			return nil, err
		}
		return json.Marshal(record{Op: q.Op, Value: v, FetchedAt: asked})
	}
	var b []byte
	var err error
	if p.o.Shared != nil {
		// One key per slot: the first process to ask for a slot polls, the
		// others wait for its value. The key names the interval, so
		// processes on different (stretched) intervals never share a slot.
		slot := slotStart(time.Now(), eff)
		key := fmt.Sprintf("%s%s:%d:%d", p.o.KeyPrefix, q.Name, eff.Milliseconds(), slot.UnixMilli())
		b, err = p.o.Shared.GetOrRefresh(ctx, key, 2*eff, poll)
	} else {
		b, err = poll(ctx)
	}
	now := time.Now()
	p.mu.Lock()
	e := p.entries[q.Name]
	if calls > 0 {
		e.polls++
		e.calls += int64(calls)
	}
	if err != nil {
		e.lastErr = err.Error()
		p.mu.Unlock()
		if ctx.Err() == nil {
			p.o.Logger.Warn("poller: poll failed", "query", q.Name, "op", q.Op, "err", err)
		}
		return err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil || r.Op != q.Op {
		e.lastErr = "the shared cache holds a value that is not this query's"
		p.mu.Unlock()
		return fmt.Errorf("poller: %s: %s", q.Name, e.lastErr)
	}
	e.lastErr = ""
	if calls > 0 {
		p.stretch[q.Op].ok(now, p.base[q.Op])
	}
	if !r.FetchedAt.After(e.fetchedAt) && !e.restored {
		p.mu.Unlock()
		return nil // nothing new
	}
	e.value, e.fetchedAt, e.restored = r.Value, r.FetchedAt, false
	e.numbers = Numbers(r.Value)
	e.history = append(e.history, Point{T: r.FetchedAt, V: e.numbers})
	if n := len(e.history) - p.o.History; n > 0 {
		e.history = append(e.history[:0], e.history[n:]...)
	}
	e.next = r.FetchedAt.Add(scaled(q.Interval, p.stretch[q.Op].factor()))
	snap := p.snapshotLocked(e, now, false)
	subs := make([]chan Event, 0, len(p.subs))
	for _, c := range p.subs {
		subs = append(subs, c)
	}
	p.dirty = true
	p.mu.Unlock()
	for _, c := range subs {
		select {
		case c <- Event{Snapshot: snap}:
		default: // a slow reader misses a value, never blocks the poller
		}
	}
	p.save()
	return nil
}

// Throttled tells the poller that a call of op was throttled at now (from
// any caller in the process: the governor's observer). The intervals of
// op's queries stretch; they recover after clean polls.
func (p *Poller) Throttled(op string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.stretch[op]
	if !ok {
		return
	}
	if s.throttled(now, p.base[op]) {
		p.o.Logger.Info("poller: throttles on the operation; stretching its poll intervals", "op", op, "stretch", s.factor())
	}
}

// Snapshot returns the query's latest state at now, with its history.
func (p *Poller) Snapshot(name string, now time.Time) (Snapshot, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[name]
	if !ok {
		return Snapshot{}, false
	}
	return p.snapshotLocked(e, now, true), true
}

// List returns every query's latest state at now, in configuration order,
// without history.
func (p *Poller) List(now time.Time) []Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Snapshot, 0, len(p.order))
	for _, n := range p.order {
		out = append(out, p.snapshotLocked(p.entries[n], now, false))
	}
	return out
}

// snapshotLocked requires p.mu held.
func (p *Poller) snapshotLocked(e *entry, now time.Time, history bool) Snapshot {
	f := p.stretch[e.q.Op].factor()
	eff := scaled(e.q.Interval, f)
	s := Snapshot{
		Name: e.q.Name, Op: e.q.Op, Value: e.value, Numbers: e.numbers, FetchedAt: e.fetchedAt,
		NextRefresh: e.next, Restored: e.restored, Interval: e.q.Interval.Seconds(), Effective: eff.Seconds(),
		Stretch: f, Polls: e.polls, Calls: e.calls, LastError: e.lastErr,
	}
	if !e.fetchedAt.IsZero() {
		s.Age = max(0, now.Sub(e.fetchedAt).Seconds())
	}
	// Stale: restored and not re-polled, never fetched, or older than an
	// interval (with a little slack for the poll's own latency).
	s.Stale = e.restored || e.fetchedAt.IsZero() || now.Sub(e.fetchedAt) > eff+eff/2
	if history {
		s.History = append([]Point(nil), e.history...)
	}
	return s
}

// Stretch returns each polled operation's interval multiplier (1: not
// stretched).
func (p *Poller) Stretch() map[string]float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]float64, len(p.stretch))
	for op, s := range p.stretch {
		out[op] = s.factor()
	}
	return out
}

// MaxSubscribers bounds Subscribe's readers.
const MaxSubscribers = 4096

// ErrTooManySubscribers is returned by Subscribe past MaxSubscribers.
var ErrTooManySubscribers = errors.New("poller: too many subscribers")

// Subscribe returns a channel that receives every new value (a reader too
// slow to keep up with buf pending events misses some), and the function
// that ends the subscription.
func (p *Poller) Subscribe(buf int) (<-chan Event, func(), error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.subs) >= MaxSubscribers {
		return nil, nil, ErrTooManySubscribers
	}
	c := make(chan Event, max(buf, 1))
	id := p.nextSub
	p.nextSub++
	p.subs[id] = c
	return c, func() {
		p.mu.Lock()
		delete(p.subs, id)
		p.mu.Unlock()
	}, nil
}
