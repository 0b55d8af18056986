package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
	"github.com/tollgatehq/tollgate/stagger"
)

// ScenarioShiftChange is the shift-change scenario: N agent desktops log in
// at once and each makes its start-up calls. Its strategies are start-up
// schedules, not retry policies, so it has its own runner (RunShiftChange)
// beside Run.
const ScenarioShiftChange = "shift-change"

// ShiftChangeConfig configures RunShiftChange. The zero value runs 200
// agents with every strategy (stagger.Strategies) at rate scale 1.
type ShiftChangeConfig struct {
	// Agents is the number of desktops (default 200).
	Agents int
	// Strategies to run, from stagger.Strategies(); empty means all.
	Strategies []string
	// Calls one start-up makes (default stagger.DefaultCalls; operations
	// GetCurrentUserData, ListUsers, DescribeUser and ListQueues).
	Calls []stagger.Call
	// Share of each start-up operation's quota left for start-ups: the
	// simulator enforces rate × Share and ⌊burst × Share⌋ (default 1).
	Share float64
	// Quotas is the published table (nil: quotas.Default()).
	Quotas *quotas.Table
	// RateScale multiplies every rate and divides every time constant,
	// the SDK's retry backoff included (default 1).
	RateScale float64
	// Seed seeds the seed strategy's delays and the planner (default 1).
	Seed int64
	// Trials of the planner's seeded simulations (default 200).
	Trials int
	// InMemory reaches the simulator and the reservation service through
	// an in-memory transport (virtual-time tests in a synctest bubble).
	InMemory bool
}

// ErrShiftChangeConfig marks a bad ShiftChangeConfig (the message names the
// field).
var ErrShiftChangeConfig = errors.New("bench: bad shift-change configuration")

func (c ShiftChangeConfig) withDefaults() (ShiftChangeConfig, error) {
	c, err := c.defaults()
	if err != nil {
		return c, fmt.Errorf("%w: %w", ErrShiftChangeConfig, err)
	}
	return c, nil
}

func (c ShiftChangeConfig) defaults() (ShiftChangeConfig, error) {
	if c.Agents == 0 {
		c.Agents = 200
	}
	if c.Agents < 0 {
		return c, fmt.Errorf("agents: must be > 0, got %d", c.Agents)
	}
	if len(c.Strategies) == 0 {
		c.Strategies = stagger.Strategies()
	}
	for _, s := range c.Strategies {
		if !slices.Contains(stagger.Strategies(), s) {
			return c, fmt.Errorf("strategy: %s has no %q (have %v)", ScenarioShiftChange, s, stagger.Strategies())
		}
	}
	if c.Calls == nil {
		c.Calls = stagger.DefaultCalls
	}
	for _, cl := range c.Calls {
		if _, err := startupCall(cl.Op); err != nil {
			return c, err
		}
	}
	if c.Quotas == nil {
		c.Quotas = quotas.Default()
	}
	if c.RateScale == 0 {
		c.RateScale = 1
	}
	if !(c.RateScale > 0) || math.IsInf(c.RateScale, 0) {
		return c, fmt.Errorf("rate-scale: must be > 0, got %v", c.RateScale)
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	return c, nil
}

// ShiftChangeResult is what one strategy measured, in unscaled time.
type ShiftChangeResult struct {
	Strategy string `json:"strategy"`
	Agents   int    `json:"agents"`
	// Window is the spread of start times (tollgate: the last reservation).
	Window time.Duration `json:"window_ns"`
	// Throttled is the simulator's count of 429 responses.
	Throttled int `json:"throttled"`
	// Failed is the number of agents whose start-up gave up.
	Failed int `json:"failed"`
	// Peak is the most calls accepted in one (unscaled) second, per op.
	Peak map[string]int `json:"peak_per_second"`
	// ReadyP50, ReadyP99, ReadyMax: time from the shift start until an
	// agent's start-up ended.
	ReadyP50 time.Duration `json:"ready_p50_ns"`
	ReadyP99 time.Duration `json:"ready_p99_ns"`
	ReadyMax time.Duration `json:"ready_max_ns"`
	// Reserved counts the tollgate agents that got a reservation (the
	// others fell back to their hashed slot).
	Reserved int `json:"reserved,omitempty"`
	// Starts are each agent's start offsets (unscaled), by agent.
	Starts []time.Duration `json:"-"`
	// Model is the planner's model of this very schedule (the same start
	// times; its own draws of the retry jitter).
	Model stagger.Result `json:"-"`
}

// ShiftChangeReport is a whole run: the plan and the measured strategies.
type ShiftChangeReport struct {
	Plan      stagger.Plan        `json:"plan"`
	RateScale float64             `json:"rate_scale"`
	Results   []ShiftChangeResult `json:"results"`
}

// RunShiftChange plans the shift change (stagger.Compute) and runs each
// strategy against a fresh simulator: every agent is a desktop backend
// with its own connect client in the SDK's standard retry mode, whose
// start-up calls go out at once when its start time comes.
func RunShiftChange(ctx context.Context, c ShiftChangeConfig) (ShiftChangeReport, error) {
	c, err := c.withDefaults()
	if err != nil {
		return ShiftChangeReport{}, err
	}
	plan, err := stagger.Compute(c.plannerOptions())
	if err != nil {
		return ShiftChangeReport{}, err
	}
	rep := ShiftChangeReport{Plan: plan, RateScale: c.RateScale}
	for _, s := range c.Strategies {
		res, err := runShift(ctx, c, plan, s)
		if err != nil {
			return rep, fmt.Errorf("%s × %s: %w", ScenarioShiftChange, s, err)
		}
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

func (c ShiftChangeConfig) plannerOptions() stagger.Options {
	return stagger.Options{Agents: c.Agents, Calls: c.Calls, Quotas: c.Quotas, Share: c.Share, Trials: c.Trials, Seed: uint64(c.Seed)}
}

// shiftDesktopToken authenticates the bench's agents to the reservation
// service (a fresh service per run, in process).
const shiftDesktopToken = "bench-desktop-token-0000"

// shiftEvent is one response to an agent's start-up call.
type shiftEvent struct {
	op string
	t  time.Duration // since the shift start (scaled, real)
	ok bool
}

type opKey struct{}

// shiftRecorder records, on the client side, each Connect response with its
// operation (from the call's context).
type shiftRecorder struct {
	next  http.RoundTripper
	start time.Time
	mu    sync.Mutex
	evs   []shiftEvent
}

func (r *shiftRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if op, ok := req.Context().Value(opKey{}).(string); ok {
		ev := shiftEvent{op: op, t: time.Since(r.start), ok: err == nil && resp.StatusCode == http.StatusOK}
		r.mu.Lock()
		r.evs = append(r.evs, ev)
		r.mu.Unlock()
	}
	return resp, err
}

// scaledRetryer is the SDK's standard retryer with its delays divided by
// the rate scale, so that a run at scale s is the same run s times faster.
type scaledRetryer struct {
	aws.RetryerV2
	scale float64
}

func (r scaledRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, e := r.RetryerV2.RetryDelay(attempt, err)
	return time.Duration(float64(d) / r.scale), e
}

// hostRouter sends requests for the reservation host to the service and
// the rest to the simulator (in memory).
type hostRouter struct {
	serveHost string
	serve     http.Handler
	sim       http.Handler
}

func (h hostRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Host == h.serveHost {
		h.serve.ServeHTTP(w, r)
		return
	}
	h.sim.ServeHTTP(w, r)
}

func runShift(ctx context.Context, c ShiftChangeConfig, plan stagger.Plan, strategy string) (ShiftChangeResult, error) {
	scale := c.RateScale
	table, err := ScaleRates(c.Quotas, scale)
	if err != nil {
		return ShiftChangeResult{}, err
	}
	s, err := sim.New(sim.Options{Quotas: table, Seed: c.Seed})
	if err != nil {
		return ShiftChangeResult{}, err
	}
	for _, a := range plan.Ops { // the share left for start-ups
		if err := s.SetQuota(a.Op, a.Rate*scale, a.Burst); err != nil {
			return ShiftChangeResult{}, err
		}
	}
	lim := plan.StartUp
	lim.Rate *= scale
	svc, err := stagger.NewService(stagger.ServiceOptions{Token: shiftDesktopToken, Limit: lim})
	if err != nil {
		return ShiftChangeResult{}, err
	}

	var (
		base               http.RoundTripper
		simURL, reserveURL string
		closeAll           = func() {}
	)
	const simHost, serveHost = "connect.sim.test", "tollgate.serve.test"
	if c.InMemory {
		base = HandlerTransport{Handler: hostRouter{serveHost: serveHost, serve: svc, sim: s}}
		simURL, reserveURL = "http://"+simHost, "http://"+serveHost+"/v1/stagger/reserve"
	} else {
		simSrv, err := loopbackServer(s)
		if err != nil {
			return ShiftChangeResult{}, err
		}
		serveSrv, err := loopbackServer(svc)
		if err != nil {
			simSrv.Close()
			return ShiftChangeResult{}, err
		}
		tr := loopbackClient().Transport.(*http.Transport)
		base = tr
		simURL, reserveURL = simSrv.URL, serveSrv.URL+"/v1/stagger/reserve"
		closeAll = func() {
			tr.CloseIdleConnections()
			simSrv.CloseClientConnections()
			simSrv.Close()
			serveSrv.CloseClientConnections()
			serveSrv.Close()
		}
	}
	defer closeAll()
	rec := &shiftRecorder{next: base}
	hc := &http.Client{Transport: rec}

	unscaled := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	scaled := func(d time.Duration) time.Duration { return time.Duration(float64(d) / scale) }
	rnd := rand.New(rand.NewPCG(uint64(c.Seed), 0x5eed))
	res := ShiftChangeResult{Strategy: strategy, Agents: c.Agents, Starts: make([]time.Duration, c.Agents)}
	switch strategy {
	case stagger.StrategySeed:
		res.Window = stagger.DefaultSeedWindow
	case stagger.StrategyHashed:
		res.Window = plan.HashedWindow
	}
	ready := make([]time.Duration, c.Agents)
	failed := make([]bool, c.Agents)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	rec.start = start
	for i := range c.Agents {
		login := fmt.Sprintf("agent-%04d", i+1)
		var delay time.Duration
		switch strategy {
		case stagger.StrategySeed:
			delay = time.Duration(rnd.Float64() * float64(stagger.DefaultSeedWindow))
		case stagger.StrategyHashed:
			delay = stagger.SlotDelay(login, "", plan.HashedWindow, stagger.DefaultSlotWidth)
		}
		client := connect.New(connect.Options{
			Region:       s.Region(),
			BaseEndpoint: aws.String(simURL),
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: AccessKey(i), SecretAccessKey: "bench-secret", Source: "bench"}, nil
			}),
			HTTPClient: hc,
			Retryer:    scaledRetryer{RetryerV2: retry.NewStandard(), scale: scale},
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if strategy == stagger.StrategyTollgate {
				st, err := stagger.Start(ctx, login, stagger.StartOptions{
					ReserveURL: reserveURL, Token: shiftDesktopToken, HTTPClient: hc,
					Window: scaled(plan.HashedWindow), SlotWidth: scaled(stagger.DefaultSlotWidth),
				})
				if err != nil {
					mu.Lock()
					failed[i], ready[i] = true, time.Since(start)
					mu.Unlock()
					return
				}
				mu.Lock()
				if st.Source == stagger.SourceReserve {
					res.Reserved++
				}
				mu.Unlock()
			} else if !sleepCtx(ctx, scaled(delay)) {
				mu.Lock()
				failed[i], ready[i] = true, time.Since(start)
				mu.Unlock()
				return
			}
			began := time.Since(start)
			var cwg sync.WaitGroup
			var bad bool
			var bmu sync.Mutex
			for _, cl := range c.Calls {
				call, _ := startupCall(cl.Op)
				for range cl.Count {
					cwg.Add(1)
					go func() {
						defer cwg.Done()
						if err := call(context.WithValue(ctx, opKey{}, cl.Op), client); err != nil {
							bmu.Lock()
							bad = true
							bmu.Unlock()
						}
					}()
				}
			}
			cwg.Wait()
			mu.Lock()
			res.Starts[i] = unscaled(began)
			failed[i], ready[i] = bad, unscaled(time.Since(start))
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}

	st := s.Stats()
	for _, a := range plan.Ops {
		res.Throttled += int(st.Operations[a.Op].Throttled)
	}
	for _, f := range failed {
		if f {
			res.Failed++
		}
	}
	slices.Sort(ready)
	res.ReadyP50, res.ReadyP99, res.ReadyMax = stagger.Quantile(ready, 0.5), stagger.Quantile(ready, 0.99), stagger.Quantile(ready, 1)
	res.Peak = map[string]int{}
	bins := map[string]map[int64]int{}
	for _, a := range plan.Ops {
		bins[a.Op] = map[int64]int{}
		res.Peak[a.Op] = 0
	}
	for _, ev := range rec.evs {
		if !ev.ok || bins[ev.op] == nil {
			continue
		}
		sec := int64(unscaled(ev.t) / time.Second)
		bins[ev.op][sec]++
		res.Peak[ev.op] = max(res.Peak[ev.op], bins[ev.op][sec])
	}
	if strategy == stagger.StrategyTollgate {
		res.Window = slices.Max(res.Starts)
	}
	res.Model, err = stagger.Simulate(c.plannerOptions(), res.Starts, rand.New(rand.NewPCG(uint64(c.Seed), 0x30de1)))
	return res, err
}

// loopbackServer serves h over HTTP on 127.0.0.1.
func loopbackServer(h http.Handler) (*httptest.Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: listen on loopback: %w", err)
	}
	hs := httptest.NewUnstartedServer(h)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	return hs, nil
}

// sleepCtx sleeps for d; false if ctx ended first (at once when it has).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// startupCall returns the SDK call a desktop backend makes for op at
// start-up, with valid input for the simulator's default state.
func startupCall(op string) (func(ctx context.Context, c *connect.Client) error, error) {
	inst := aws.String(sim.DefaultInstanceID)
	switch op {
	case "GetCurrentUserData":
		return func(ctx context.Context, c *connect.Client) error {
			_, err := c.GetCurrentUserData(ctx, &connect.GetCurrentUserDataInput{InstanceId: inst, Filters: &types.UserDataFilters{Queues: []string{sim.DefaultQueueID}}})
			return err
		}, nil
	case "ListUsers":
		return func(ctx context.Context, c *connect.Client) error {
			_, err := c.ListUsers(ctx, &connect.ListUsersInput{InstanceId: inst})
			return err
		}, nil
	case "DescribeUser":
		return func(ctx context.Context, c *connect.Client) error {
			_, err := c.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String(sim.DefaultUserID)})
			return err
		}, nil
	case "ListQueues":
		return func(ctx context.Context, c *connect.Client) error {
			_, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst})
			return err
		}, nil
	}
	return nil, fmt.Errorf("calls: the %s bench cannot call %q (it calls GetCurrentUserData, ListUsers, DescribeUser, ListQueues)", ScenarioShiftChange, op)
}
