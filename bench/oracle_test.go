package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// strategyOracle knows the simulator's buckets exactly (it reads them
// through sim.Server.Quotas) and sends each call the moment its operation's
// bucket holds a token: the ideal strategy the lower bound describes. Its
// callers share one gate per operation, so they never race each other for
// a token; the neighbour can still take one first, and then the oracle
// waits again. Test-only: it cheats by reading the server.
const strategyOracle = "oracle"

// withOracle registers the oracle for the test (and removes it after, so
// that the listings other tests and examples print do not show it).
func withOracle(t *testing.T) {
	t.Helper()
	RegisterStrategy(strategyOracle, newOracle)
	t.Cleanup(func() {
		registryMu.Lock()
		delete(registry, strategyOracle)
		order = slices.DeleteFunc(order, func(s string) bool { return s == strategyOracle })
		registryMu.Unlock()
	})
}

type oracle struct {
	env Env
	mu  sync.Mutex
	// gate holds one token per operation: a channel, not a sync.Mutex,
	// because a goroutine blocked on a mutex is not durably blocked in a
	// synctest bubble (virtual time would stand still).
	gate map[string]chan struct{}
}

func newOracle(env Env) (Strategy, error) {
	if env.sim == nil {
		return nil, errors.New("oracle: no simulator in the run's Env")
	}
	return &oracle{env: env, gate: map[string]chan struct{}{}}, nil
}

func (o *oracle) Client(client int) (Client, error) {
	opts := o.env.ConnectOptions(client)
	opts.RetryMaxAttempts = 1
	return oracleClient{o: o, c: connect.New(opts)}, nil
}

func (*oracle) Close() error { return nil }

func (o *oracle) gateFor(op string) chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	g, ok := o.gate[op]
	if !ok {
		g = make(chan struct{}, 1)
		o.gate[op] = g
	}
	return g
}

// tokens returns op's bucket now: tokens and rate.
func (o *oracle) tokens(op string) (float64, float64) {
	for _, q := range o.env.sim.Quotas() {
		if q.Op == op {
			return q.Tokens, q.Rate
		}
	}
	return 0, 0
}

type oracleClient struct {
	o *oracle
	c *connect.Client
}

// Do waits (holding op's gate) until the bucket holds a token, sends, and
// on a 429 (the neighbour was first) waits again.
func (c oracleClient) Do(ctx context.Context, op string, call func(context.Context, *connect.Client) error) error {
	g := c.o.gateFor(op)
	// A rate change (quota-change) is seen within this much.
	maxWait := c.o.env.Scaled(10 * time.Millisecond)
	for {
		select {
		case g <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		for {
			tok, rate := c.o.tokens(op)
			if tok >= 1 {
				break
			}
			d := min(ratelimit.DurationFor(1-tok, rate), maxWait)
			if !sleepCtx(ctx, max(d, time.Nanosecond)) {
				<-g
				return ctx.Err()
			}
		}
		err := call(ctx, c.c)
		<-g
		if err == nil || awssdk.Classify(op, err).Class != awserr.ClassRateThrottle {
			return err
		}
	}
}

// TestOracleMeetsBound runs every scenario with the oracle in a synctest
// bubble (virtual time, so the figures are exact), at several sizes and rate
// scales: its completion never beats the lower bound (ratio ≥ 1: the bound
// is a true lower bound) and comes within 1% of it (the bound is reachable),
// and its goodput is at most 1 and within 1% of it. At size 0.2 the
// sustained and mixed demands are under the quota (the arrivals set the
// pace), and the neighbour's work ends before the neighbour starts; at size 1
// the neighbour takes tokens during our work.
func TestOracleMeetsBound(t *testing.T) {
	withOracle(t)
	for _, c := range []struct{ size, scale float64 }{{0.2, 1}, {1, 1}, {0.5, 10}} {
		t.Run(fmt.Sprintf("size=%v,scale=%v", c.size, c.scale), func(t *testing.T) {
			var res []Result
			synctest.Test(t, func(t *testing.T) {
				var err error
				res, err = Run(context.Background(), Config{
					Strategies: []string{strategyOracle}, Size: c.size, RateScale: c.scale,
					InMemory: true, Latency: 200 * time.Microsecond,
				})
				if err != nil {
					t.Fatal(err)
				}
			})
			if len(res) != len(ScenarioNames()) {
				t.Fatalf("got %d results, want %d", len(res), len(ScenarioNames()))
			}
			for _, r := range res {
				t.Logf("%s: completion %.4fs, bound %.4fs, ratio %.5f, goodput %.4f, 429/ok %.3f, neighbour ok %d",
					r.Scenario, r.CompletionS, r.LowerBoundS, r.CompletionRatio, r.GoodputRatio, r.ThrottlesPerSuccess, r.NeighbourAccepted)
				checkAll(t, r.Scenario, []check{
					{"failures", float64(r.Failures), 0, 0},
					{"completion ÷ lower bound", r.CompletionRatio, 1, 1.01},
					{"goodput ÷ ideal", r.GoodputRatio, 0.99, 1},
				})
			}
		})
	}
}

// TestBoundHoldsForEveryStrategy: no strategy beats the bound, whether it
// completes its calls or gives some up (the bound is then the one for the
// calls that succeeded), in the scenarios where the old bound was wrong.
func TestBoundHoldsForEveryStrategy(t *testing.T) {
	var strategies []string
	for _, s := range Strategies() {
		if s != StrategySDKAdaptive && isBuiltin(s) {
			strategies = append(strategies, s)
		}
	}
	res := virtual(t, Config{Scenarios: []string{ScenarioSustained, ScenarioNeighbour, ScenarioMixed}, Strategies: strategies, Size: 0.2})
	for _, r := range res {
		t.Logf("%s × %s: ratio %.4f goodput %.4f ok %d/%d", r.Scenario, r.Strategy, r.CompletionRatio, r.GoodputRatio, r.Successes, r.Calls)
		if r.LowerBoundS > 0 && !(r.CompletionRatio >= 1) {
			t.Errorf("%s × %s: completion ÷ bound %.4f < 1", r.Scenario, r.Strategy, r.CompletionRatio)
		}
		if r.GoodputRatio > 1+1e-9 || math.IsNaN(r.GoodputRatio) {
			t.Errorf("%s × %s: goodput ÷ ideal %.4f > 1", r.Scenario, r.Strategy, r.GoodputRatio)
		}
	}
}
