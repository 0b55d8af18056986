package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
)

// Defaults used when the corresponding Config field is zero.
const (
	DefaultRateScale = 10
	DefaultClients   = 16
	DefaultSeed      = 1
)

// Config configures a bench run. The zero value runs every scenario with
// every built-in strategy over loopback HTTP at DefaultRateScale.
type Config struct {
	// Scenarios and Strategies to run (names); empty means all.
	Scenarios  []string
	Strategies []string
	// RateScale multiplies every quota, so that a run takes 1/RateScale of
	// the time. Default 10.
	RateScale float64
	// Clients is the fleet scenario's number of callers. Default 16.
	Clients int
	// Seed makes a run repeatable (simulator, strategies, neighbour).
	// Default 1.
	Seed int64
	// Size multiplies every scenario's number of calls (0 means 1); smaller
	// runs for tests under the race detector.
	Size float64
	// Quotas is the published table the run scales; nil means
	// quotas.Default().
	Quotas *quotas.Table
	// InMemory reaches the simulator through an in-memory transport instead
	// of loopback HTTP: for virtual-time tests inside a testing/synctest
	// bubble. Latency is then the one-way latency of the transport, and
	// Jitter a uniform random extra per leg (seeded).
	InMemory bool
	Latency  time.Duration
	Jitter   time.Duration
	// Progress, if set, is called with the total number of calls once, then
	// with 1 after each call ends (from many goroutines).
	Progress func(total, done int)
	// RedisURL is the Redis the tollgate-redis strategy shares its buckets
	// through (each run under a fresh account); without it that strategy
	// fails with ErrNoRedis.
	RedisURL string
	// RedisWorker, when set, is the command (argv; the worker's flags are
	// appended) that starts one tollgate-redis caller as its own process:
	// the tollgate binary's hidden bench-redis-worker subcommand. Empty: the
	// callers run in this process.
	RedisWorker []string
	// Timeout bounds one scenario × strategy run in unscaled seconds; calls
	// still running then are canceled and count as failures. 0 means
	// 30 × the run's lower bound + 60 s.
	Timeout float64
}

func (c Config) scale() float64 {
	if c.RateScale <= 0 {
		return DefaultRateScale
	}
	return c.RateScale
}

func (c Config) clients() int {
	if c.Clients <= 0 {
		return DefaultClients
	}
	return c.Clients
}

func (c Config) seed() int64 {
	if c.Seed == 0 {
		return DefaultSeed
	}
	return c.Seed
}

// n scales a call count by Size (at least 1).
func (c Config) n(calls int) int {
	if c.Size <= 0 || c.Size == 1 {
		return calls
	}
	return max(1, int(math.Round(float64(calls)*c.Size)))
}

// table is the published (unscaled) table.
func (c Config) table() *quotas.Table {
	if c.Quotas == nil {
		return quotas.Default()
	}
	return c.Quotas
}

// quota is op's unscaled rate.
func (c Config) quota(op string) float64 {
	a, _ := c.table().API(op)
	return a.Rate
}

// Validate checks the names and numbers; errors name the field.
func (c Config) Validate() error {
	for _, s := range c.Scenarios {
		if _, ok := LookupScenario(s); !ok {
			return fmt.Errorf("scenario: unknown %q (have %v)", s, ScenarioNames())
		}
	}
	for _, s := range c.Strategies {
		if _, ok := LookupStrategy(s); !ok {
			return fmt.Errorf("strategy: unknown %q (have %v)", s, Strategies())
		}
	}
	switch {
	case c.RateScale < 0 || math.IsNaN(c.RateScale) || math.IsInf(c.RateScale, 0):
		return fmt.Errorf("rate-scale: must be > 0, got %v", c.RateScale)
	case c.Clients < 0:
		return fmt.Errorf("clients: must be > 0, got %d", c.Clients)
	case c.Size < 0:
		return fmt.Errorf("size: must be > 0, got %v", c.Size)
	}
	return nil
}

// Run runs every selected scenario with every selected strategy, one run at
// a time, each against a fresh simulator, and returns one Result per run.
func Run(ctx context.Context, c Config) ([]Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	scen := c.Scenarios
	if len(scen) == 0 {
		scen = ScenarioNames()
	}
	strat := c.Strategies
	if len(strat) == 0 {
		strat = Strategies()
	}
	if c.Progress != nil {
		total := 0
		for _, s := range scen {
			sc, _ := LookupScenario(s)
			total += sc.calls(c) * len(strat)
		}
		c.Progress(total, 0)
	}
	var out []Result
	for _, s := range scen {
		sc, _ := LookupScenario(s)
		for _, st := range strat {
			res, err := runOne(ctx, c, sc, st)
			if err != nil {
				return out, fmt.Errorf("%s × %s: %w", s, st, err)
			}
			out = append(out, res)
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
		}
	}
	return out, nil
}

// call is one logical call's record.
type call struct {
	client int
	op     string
	issued time.Time
	end    time.Time
	ok     bool
}

// quotaStep is a quota change during a run (unscaled seconds and rates).
type quotaStep struct {
	at    float64
	rate  float64
	burst int
}

// run is the state of one scenario × strategy run.
type run struct {
	cfg   Config
	env   Env
	srv   *server
	strat Strategy
	start time.Time

	mu       sync.Mutex
	calls    []call
	clients  map[int]Client
	schedule map[string][]quotaStep // unscaled
	nbRand   *rand.Rand
	nbOp     string // the neighbour's operation
	loads    []load // the scenario's demand (Scenario.loads)

	progress func(total, done int)
	failed   atomic.Int64 // calls that could not even be attempted
}

func runOne(ctx context.Context, c Config, sc Scenario, strategy string) (Result, error) {
	scale := c.scale()
	table, err := ScaleRates(c.table(), scale)
	if err != nil {
		return Result{}, err
	}
	srv, err := startServerJitter(table, c.seed(), c.InMemory, c.Latency, c.Jitter)
	if err != nil {
		return Result{}, err
	}
	defer srv.close()
	env := Env{
		Endpoint: srv.url, HTTPClient: srv.client, Quotas: table, RateScale: scale,
		Seed: c.seed(), Region: srv.sim.Region(), Ops: sc.Ops, Callers: 1,
		RedisURL: c.RedisURL, RedisWorker: c.RedisWorker, sim: srv.sim,
	}
	if sc.multi {
		env.Callers = c.clients()
	}
	st, err := newStrategy(strategy, env)
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	r := &run{
		cfg: c, env: env, srv: srv, strat: st,
		clients: map[int]Client{}, schedule: map[string][]quotaStep{},
		nbRand: rand.New(rand.NewPCG(uint64(c.seed()), 0xb0b)), progress: c.Progress,
		loads: sc.loads(c),
	}
	for _, op := range sc.Ops {
		a, _ := c.table().API(op)
		r.schedule[op] = []quotaStep{{at: 0, rate: a.Rate, burst: a.Burst}}
	}
	timeout := c.Timeout
	if timeout <= 0 {
		all := map[string]int{}
		for _, l := range r.loads {
			all[l.op] = l.n
		}
		timeout = 30*r.lowerBound(all, nil) + 60
	}
	rctx, cancel := context.WithTimeout(ctx, env.Scaled(time.Duration(timeout*float64(time.Second))))
	defer cancel()
	r.start = time.Now()
	if err := sc.run(rctx, r); err != nil {
		return Result{}, err
	}
	end := time.Now()
	return r.result(sc, strategy, end), nil
}

// ScaleRates returns a copy of t with every rate multiplied by f and every
// burst kept: the same buckets with time running f times faster (a burst of
// B absorbs the same B calls, in 1/f of the time). quotas.Table.Scale, which
// scales bursts too, would change the scenarios' shape.
func ScaleRates(t *quotas.Table, f float64) (*quotas.Table, error) {
	c := t.Clone()
	for _, a := range c.APIs() {
		a.Rate *= f
		if err := c.SetAPI(a); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// at returns the run time of unscaled second s.
func (r *run) at(s float64) time.Time {
	return r.start.Add(time.Duration(s / r.cfg.scale() * float64(time.Second)))
}

// sleepUntil sleeps until unscaled second s; false if ctx ended first.
func (r *run) sleepUntil(ctx context.Context, s float64) bool {
	return sleepCtx(ctx, time.Until(r.at(s)))
}

// setQuota changes op's quota (unscaled rate and burst) now.
func (r *run) setQuota(op string, rate float64, burst int) {
	if err := r.srv.sim.SetQuota(op, rate*r.cfg.scale(), burst); err != nil {
		panic(err) // the scenario names a known operation
	}
	r.mu.Lock()
	r.schedule[op] = append(r.schedule[op], quotaStep{at: r.unscaled(time.Since(r.start)), rate: rate, burst: burst})
	r.mu.Unlock()
}

// client returns caller i, building it on first use.
func (r *run) client(i int) (Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clients[i]; ok {
		return c, nil
	}
	c, err := r.strat.Client(i)
	if err != nil {
		return nil, err
	}
	r.clients[i] = c
	return c, nil
}

// do makes one logical call of op by caller i, issued at issued.
func (r *run) do(ctx context.Context, i int, op string, issued time.Time) {
	ok := false
	defer func() {
		r.mu.Lock()
		r.calls = append(r.calls, call{client: i, op: op, issued: issued, end: time.Now(), ok: ok})
		r.mu.Unlock()
		if r.progress != nil {
			r.progress(0, 1)
		}
	}()
	fn, err := callFor(op)
	if err != nil {
		return
	}
	c, err := r.client(i)
	if err != nil {
		r.failed.Add(1)
		return
	}
	ok = c.Do(ctx, op, fn) == nil
}

// openLoop issues n calls of op by caller i at a steady rate (unscaled calls
// per second; +Inf: all at once) from unscaled second from, each in its own
// goroutine, and waits for all of them.
func (r *run) openLoop(ctx context.Context, i int, op string, n int, rate, from float64) error {
	var wg sync.WaitGroup
	for k := 0; k < n; k++ {
		s := from
		if !math.IsInf(rate, 1) {
			s += float64(k) / rate
		}
		if !r.sleepUntil(ctx, s) {
			// Canceled: the remaining calls fail without being sent.
			for ; k < n; k++ {
				r.mu.Lock()
				now := time.Now()
				r.calls = append(r.calls, call{client: i, op: op, issued: now, end: now})
				r.mu.Unlock()
				if r.progress != nil {
					r.progress(0, 1)
				}
			}
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.do(ctx, i, op, r.at(s))
		}()
	}
	wg.Wait()
	return nil
}

// closedLoop makes n calls of op by caller i with w workers, each taking the
// next call as soon as its previous one ends.
func (r *run) closedLoop(ctx context.Context, i int, op string, n, w int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				r.do(ctx, i, op, time.Now())
			}
		}()
	}
	wg.Wait()
	return nil
}

// neighbour sends op at rate (unscaled, Poisson arrivals) from unscaled
// second from to to, with an ungoverned client (SDK retries off); its calls
// are not the strategy's and are not recorded as such.
func (r *run) neighbour(ctx context.Context, op string, rate, from, to float64) {
	c := NoRetryClient(r.env, -1)
	fn, _ := callFor(op)
	r.mu.Lock()
	r.nbOp = op
	r.mu.Unlock()
	var wg sync.WaitGroup
	defer wg.Wait()
	s := from
	for {
		r.mu.Lock()
		s += r.nbRand.ExpFloat64() / rate
		r.mu.Unlock()
		if s >= to || !r.sleepUntil(ctx, s) {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = fn(ctx, c)
		}()
	}
}

// boundInput returns what op's ideal schedule depends on in this run: the
// quota schedule as it happened, the neighbour's accepted requests on op
// (from the recorded responses) and the transport's least one-way latency
// (known in memory; over loopback HTTP taken as 0).
func (r *run) boundInput(op string, ev []event) boundInput {
	r.mu.Lock()
	in := boundInput{sched: append([]quotaStep(nil), r.schedule[op]...)}
	nbOp := r.nbOp
	r.mu.Unlock()
	if len(in.sched) == 0 {
		a, _ := r.cfg.table().API(op)
		in.sched = []quotaStep{{rate: a.Rate, burst: a.Burst}}
	}
	if op == nbOp {
		for _, e := range ev {
			if e.caller == AccessKey(-1) && e.status < 300 {
				in.others = append(in.others, r.unscaled(e.t.Sub(r.start)))
			}
		}
	}
	if r.cfg.InMemory {
		in.leg = r.unscaled(r.cfg.Latency)
	}
	return in
}

// lowerBound is the least time (unscaled seconds) in which any strategy
// could have ended as many calls of each operation as succeeded (ok, per
// operation): the latest of the operations' ideal schedules, less a
// microsecond, so that the clocks' rounding to the nanosecond (the run's
// timers, the bound's float seconds) cannot put a perfect run below it.
func (r *run) lowerBound(ok map[string]int, ev []event) float64 {
	b := 0.0
	for _, l := range r.loads {
		b = math.Max(b, r.boundInput(l.op, ev).bound(l, ok[l.op]))
	}
	return math.Max(0, b-1e-6)
}

// errRunEmpty reports a run without calls.
var errRunEmpty = errors.New("bench: the run made no calls")

// sortedCalls returns the calls sorted by end time.
func (r *run) sortedCalls() []call {
	r.mu.Lock()
	out := append([]call(nil), r.calls...)
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].end.Before(out[j].end) })
	return out
}
