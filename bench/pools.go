package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// ScenarioPools is the quota-pools scenario: one queue of dial jobs
// (StartOutboundVoiceContact) delivered by `tollgate serve`'s own process
// (internal/app, the configuration's pools section) over 1, 2 and 4
// accounts of one simulator (sim.NewMulti), each account with its own
// instance, ids and buckets. It runs alone: its strategy is serve's.
const ScenarioPools = "pools"

// Pools scenario defaults.
const (
	DefaultPoolsJobs      = 1000
	DefaultPoolsRateScale = 10
)

// DefaultPoolCounts are the pool counts the scenario runs by default.
var DefaultPoolCounts = []int{1, 2, 4}

// ErrPoolsConfig matches the errors of an invalid PoolsConfig.
var ErrPoolsConfig = errors.New("pools")

// PoolsConfig configures RunPools. The zero value runs 1,000 jobs over 1, 2
// and 4 pools at rate scale 10.
type PoolsConfig struct {
	Pools     []int   // pool counts, one run each (1..sim.MaxAccounts)
	Jobs      int     // dial jobs per run
	RateScale float64 // multiplies every quota of the simulator and of serve
	Seed      int64
	// Progress, when set, is called as jobs end (done of total, per run).
	Progress func(pools, done, total int)
	// Logger receives serve's log (nil discards it).
	Logger *slog.Logger
}

// PoolsResult is one run: the figures and the lower bound they are held to.
type PoolsResult struct {
	Pools     int     `json:"pools"`
	Jobs      int     `json:"jobs"`
	Succeeded int64   `json:"succeeded"`
	Dead      int64   `json:"dead"`
	Rate      float64 `json:"rate"`  // each account's StartOutboundVoiceContact rate (scaled), calls/s
	Burst     float64 `json:"burst"` // and its bucket size
	// ContactsStarted is summed over every account: a second call to one
	// customer would make it exceed Succeeded.
	ContactsStarted int64 `json:"contacts_started"`
	// Requests and Throttled are the simulator's StartOutboundVoiceContact
	// requests and 429s, summed over every account.
	Requests  int64   `json:"requests"`
	Throttled int64   `json:"throttled"`
	Throttles float64 `json:"throttled_share"` // Throttled ÷ Succeeded
	// PerPool is each pool's delivered calls (Dispatcher.PoolStats).
	PerPool map[string]int64 `json:"per_pool"`
	// Elapsed is from the dispatcher's start to the last job's end; Bound is
	// the N-pool lower bound (see RunPools); Ratio is Elapsed ÷ Bound.
	Elapsed time.Duration `json:"elapsed_ns"`
	Bound   time.Duration `json:"bound_ns"`
	Ratio   float64       `json:"ratio"`
}

// PoolsReport is every run of the scenario.
type PoolsReport struct {
	RateScale float64       `json:"rate_scale"`
	Results   []PoolsResult `json:"results"`
}

func (c PoolsConfig) withDefaults() (PoolsConfig, error) {
	if len(c.Pools) == 0 {
		c.Pools = DefaultPoolCounts
	}
	if c.Jobs == 0 {
		c.Jobs = DefaultPoolsJobs
	}
	if c.RateScale == 0 {
		c.RateScale = DefaultPoolsRateScale
	}
	for _, n := range c.Pools {
		if n < 1 || n > sim.MaxAccounts {
			return c, fmt.Errorf("%w: pools: each count must be in 1..%d, got %d", ErrPoolsConfig, sim.MaxAccounts, n)
		}
	}
	switch {
	case c.Jobs < 1 || c.Jobs > 100000:
		return c, fmt.Errorf("%w: jobs: must be in 1..100000, got %d", ErrPoolsConfig, c.Jobs)
	case !(c.RateScale > 0) || c.RateScale > 1000:
		return c, fmt.Errorf("%w: rate-scale: must be in (0, 1000], got %v", ErrPoolsConfig, c.RateScale)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// PoolsBound is the N-pool lower bound: N accounts whose buckets hold burst
// tokens at the start and refill at rate each cannot place jobs calls
// sooner than (jobs − N·burst) ÷ (N·rate), however the calls are spread.
func PoolsBound(pools, jobs int, rate, burst float64) time.Duration {
	left := float64(jobs) - float64(pools)*burst
	if left <= 0 || rate <= 0 {
		return 0
	}
	return time.Duration(left / (float64(pools) * rate) * float64(time.Second))
}

// RunPools runs the pools scenario once per pool count. Each run starts a
// fresh simulator with that many accounts (their concurrent-calls quotas
// raised, so the request rate alone bounds the run) and a serve process
// built by internal/app from a pools configuration (call pacing off, the
// embedded queue in a temporary directory), enqueues the jobs by logical
// names, and runs the dispatcher until every job has ended. A run that
// fails stops the scenario; the results so far are returned with the error.
func RunPools(ctx context.Context, c PoolsConfig) (PoolsReport, error) {
	c, err := c.withDefaults()
	if err != nil {
		return PoolsReport{}, err
	}
	rep := PoolsReport{RateScale: c.RateScale}
	for _, n := range c.Pools {
		r, err := runPools(ctx, c, n)
		if err != nil {
			return rep, fmt.Errorf("%s, %d pools: %w", ScenarioPools, n, err)
		}
		rep.Results = append(rep.Results, r)
	}
	return rep, nil
}

// runPools is one run over n pools.
func runPools(ctx context.Context, c PoolsConfig, n int) (PoolsResult, error) {
	res := PoolsResult{Pools: n, Jobs: c.Jobs}
	m, err := sim.NewMulti(sim.Options{Accounts: n, RateScale: c.RateScale, Seed: c.Seed})
	if err != nil {
		return res, err
	}
	defer m.Close()
	for k := 1; k <= n; k++ {
		if err := m.Account(k).SetResourceQuota(quotas.ConcurrentActiveCalls, 1_000_000); err != nil {
			return res, err
		}
	}
	ts := httptest.NewServer(m)
	defer ts.Close()
	dir, err := os.MkdirTemp("", "tollgate-bench-pools-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)

	table := quotas.Default().Scale(c.RateScale)
	api, ok := table.API(opOutboundVoice)
	if !ok {
		return res, fmt.Errorf("quota table: no %s", opOutboundVoice)
	}
	res.Rate, res.Burst = api.Rate, float64(api.Burst)
	res.Bound = PoolsBound(n, c.Jobs, res.Rate, res.Burst)

	cfgPath := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(cfgPath, []byte(poolsYAML(dir, ts.URL, c.RateScale, m.Accounts())), 0o600); err != nil {
		return res, err
	}
	env := map[string]string{}
	for _, a := range m.Accounts() {
		env[poolSecretEnv(a.Index)] = a.SecretAccessKey
	}
	lookup := func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
	cfg, err := config.Load(config.Sources{File: cfgPath})
	if err != nil {
		return res, fmt.Errorf("the pools configuration: %w", err)
	}
	var (
		mu    sync.Mutex
		last  time.Time
		ended atomic.Int64
	)
	a, err := app.New(ctx, cfg, app.Options{Logger: c.Logger, LookupEnv: lookup, Hooks: app.Hooks{Outcome: func(o dispatch.Outcome) {
		if o.Result != dispatch.ResultSucceeded && o.Result != dispatch.ResultDead {
			return
		}
		now := time.Now()
		mu.Lock()
		last = now
		mu.Unlock()
		done := ended.Add(1)
		if c.Progress != nil {
			c.Progress(n, int(done), c.Jobs)
		}
	}}})
	if err != nil {
		return res, err
	}
	defer a.Close()

	jobs := make([]queue.Job, c.Jobs)
	for i := range jobs {
		in, _ := json.Marshal(map[string]string{
			"ContactFlowId":          "outbound-sales",
			"QueueId":                "sales",
			"DestinationPhoneNumber": fmt.Sprintf("+1206%07d", i),
		})
		jobs[i] = queue.Job{ID: fmt.Sprintf("pools-%d-%05d", n, i), Op: opOutboundVoice, Input: in}
	}
	for i := 0; i < len(jobs); i += 500 {
		if _, err := a.Queue.Enqueue(ctx, jobs[i:min(i+500, len(jobs))]...); err != nil {
			return res, fmt.Errorf("enqueue: %w", err)
		}
	}

	rctx, stop := context.WithCancel(ctx)
	defer stop()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- a.Run(rctx) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for ended.Load() < int64(c.Jobs) {
		select {
		case <-ctx.Done():
			stop()
			<-done
			return res, ctx.Err()
		case err := <-done:
			return res, fmt.Errorf("serve stopped: %v", err)
		case <-tick.C:
		}
	}
	mu.Lock()
	res.Elapsed = last.Sub(start)
	mu.Unlock()
	ps := a.Dispatcher.PoolStats()
	stop()
	if err := <-done; err != nil {
		return res, err
	}
	st := a.Dispatcher.Stats()
	res.Succeeded, res.Dead = st.Succeeded, st.Dead
	res.PerPool = map[string]int64{}
	for _, p := range ps {
		res.PerPool[p.Name] = p.Delivered
	}
	ss := m.Stats()
	res.ContactsStarted = ss.ContactsStarted
	if o, ok := ss.Operations[opOutboundVoice]; ok {
		res.Requests, res.Throttled = o.Requests, o.Throttled
	}
	if res.Succeeded > 0 {
		res.Throttles = float64(res.Throttled) / float64(res.Succeeded)
	}
	if res.Bound > 0 {
		res.Ratio = float64(res.Elapsed) / float64(res.Bound)
	}
	return res, nil
}

// poolSecretEnv is the environment variable the run's configuration names
// for account k's secret (read through app.Options.LookupEnv, never set in
// the process).
func poolSecretEnv(k int) string { return fmt.Sprintf("TOLLGATE_BENCH_POOL%d_SECRET", k) }

// poolsYAML is serve's configuration for a run: one pool per account, the
// jobs' logical names mapped to each account's ids.
func poolsYAML(dir, endpoint string, scale float64, accounts []sim.AccountInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %q\nlog_level: warn\naws:\n  region: us-east-1\nlimits:\n  rate_scale: %v\ndispatch:\n  call_pacing: false\npools:\n", dir, scale)
	for _, a := range accounts {
		fmt.Fprintf(&b, "  - name: p%d\n    account: %q\n    region: us-east-1\n    instance_id: %q\n    endpoint: %q\n", a.Index, a.AccountID, a.InstanceID, endpoint)
		fmt.Fprintf(&b, "    credentials:\n      access_key_id: %q\n      secret_env: %s\n", a.AccessKeyID, poolSecretEnv(a.Index))
		fmt.Fprintf(&b, "    ids:\n      contact_flows: {outbound-sales: %q}\n      queues: {sales: %q}\n", a.ContactFlowID, a.QueueID)
	}
	return b.String()
}
