package bench

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/tollgatehq/tollgate/sim"
)

// Operations the scenarios call.
const (
	opDescribeUser  = "DescribeUser"
	opCurrentMetric = "GetCurrentMetricData"
	opOutboundVoice = "StartOutboundVoiceContact"
)

// Scenario is one workload. Times and rates are in the unscaled world (the
// published quotas); the runner scales them.
type Scenario struct {
	Name  string
	About string
	// Ops are the operations it calls.
	Ops []string
	// loads returns the scenario's demand, one load per operation: how many
	// calls and when they may be issued. The run drives exactly these loads,
	// and the lower bound is computed from them.
	loads func(c Config) []load
	// run drives the workload; it returns when every call has ended.
	run func(ctx context.Context, r *run) error
	// multi reports a multi-caller scenario (fairness is measured).
	multi bool
	// under lists operations whose demand stays under their quota.
	under []string
}

// calls returns how many logical calls a run makes (for progress).
func (s Scenario) calls(c Config) int {
	n := 0
	for _, l := range s.loads(c) {
		n += l.n
	}
	return n
}

// Scenario names.
const (
	ScenarioBurst       = "burst"
	ScenarioSustained   = "sustained"
	ScenarioFleet       = "fleet"
	ScenarioNeighbour   = "neighbour"
	ScenarioQuotaChange = "quota-change"
	ScenarioMixed       = "mixed"
)

// Workload sizes (unscaled; Config.Size multiplies the call counts).
const (
	burstCalls      = 500
	sustainedFactor = 3.0 // demand ÷ quota
	sustainedSecs   = 20.0
	fleetPerClient  = 75
	fleetWorkers    = 4
	neighbourCalls  = 500
	neighbourFrom   = 15.0
	neighbourTo     = 35.0
	quotaSecs       = 40.0
	quotaUp         = 10.0
	quotaDown       = 25.0
	mixedSecs       = 30.0
	singleWorkers   = 4
)

// mixedDemand is the demand of each operation in the mixed scenario (calls
// per unscaled second): dashboards polling current metrics over their quota,
// a dialer placing calls over its quota, agent desktops reading users under
// theirs.
var mixedDemand = []struct {
	op   string
	rate float64
}{{opCurrentMetric, 8}, {opOutboundVoice, 3}, {opDescribeUser, 6}}

// openLoad is n calls of op issued steadily over secs unscaled seconds.
func openLoad(op string, n int, secs float64) load {
	return load{op: op, n: n, rate: float64(n) / secs}
}

// driveOpen runs open loads side by side, as caller 0.
func driveOpen(ctx context.Context, r *run, loads []load) error {
	var wg sync.WaitGroup
	errs := make([]error, len(loads))
	for i, l := range loads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.openLoop(ctx, 0, l.op, l.n, l.rate, l.from)
		}()
	}
	wg.Wait()
	return firstErr(errs)
}

// Scenarios returns every scenario, in canonical order.
func Scenarios() []Scenario {
	sustained := func(c Config) []load {
		return []load{openLoad(opDescribeUser, c.n(int(sustainedFactor*c.quota(opDescribeUser)*sustainedSecs)), sustainedSecs)}
	}
	quotaChange := func(c Config) []load {
		return []load{openLoad(opDescribeUser, c.n(int(sustainedFactor*c.quota(opDescribeUser)*quotaSecs)), quotaSecs)}
	}
	mixed := func(c Config) []load {
		var out []load
		for _, d := range mixedDemand {
			out = append(out, openLoad(d.op, c.n(int(d.rate*mixedSecs)), mixedSecs))
		}
		return out
	}
	return []Scenario{
		{
			Name: ScenarioBurst, About: "500 calls at once (a Lambda fan-out)", Ops: []string{opDescribeUser},
			loads: func(c Config) []load {
				return []load{{op: opDescribeUser, n: c.n(burstCalls), rate: math.Inf(1)}}
			},
			run: func(ctx context.Context, r *run) error { return driveOpen(ctx, r, r.loads) },
		},
		{
			Name: ScenarioSustained, About: "demand 3× the quota for 20 s", Ops: []string{opDescribeUser},
			loads: sustained,
			run:   func(ctx context.Context, r *run) error { return driveOpen(ctx, r, r.loads) },
		},
		{
			Name: ScenarioFleet, About: "N independent callers (default 16), one account bucket", Ops: []string{opDescribeUser}, multi: true,
			// The callers' calls and workers pooled: a caller that is done
			// lends its workers to nobody, so the pooled bound is lower.
			loads: func(c Config) []load {
				return []load{{op: opDescribeUser, n: c.clients() * c.n(fleetPerClient), workers: c.clients() * fleetWorkers}}
			},
			run: func(ctx context.Context, r *run) error {
				var wg sync.WaitGroup
				errs := make([]error, r.cfg.clients())
				for i := range r.cfg.clients() {
					wg.Add(1)
					go func() {
						defer wg.Done()
						errs[i] = r.closedLoop(ctx, i, opDescribeUser, r.cfg.n(fleetPerClient), fleetWorkers)
					}()
				}
				wg.Wait()
				return firstErr(errs)
			},
		},
		{
			Name: ScenarioNeighbour, About: "an ungoverned caller takes half the bucket from 15 s to 35 s", Ops: []string{opDescribeUser},
			loads: func(c Config) []load {
				return []load{{op: opDescribeUser, n: c.n(neighbourCalls), workers: singleWorkers}}
			},
			run: func(ctx context.Context, r *run) error {
				nb := make(chan struct{})
				go func() {
					defer close(nb)
					r.neighbour(ctx, opDescribeUser, r.cfg.quota(opDescribeUser)/2, neighbourFrom, neighbourTo)
				}()
				l := r.loads[0]
				err := r.closedLoop(ctx, 0, l.op, l.n, l.workers)
				<-nb
				return err
			},
		},
		{
			Name: ScenarioQuotaChange, About: "demand 3× the quota; the quota doubles at 10 s and halves back at 25 s", Ops: []string{opDescribeUser},
			loads: quotaChange,
			run: func(ctx context.Context, r *run) error {
				q := r.cfg.table().API
				a, _ := q(opDescribeUser)
				go func() {
					if r.sleepUntil(ctx, quotaUp) {
						r.setQuota(opDescribeUser, 2*a.Rate, 2*a.Burst)
					}
					if r.sleepUntil(ctx, quotaDown) {
						r.setQuota(opDescribeUser, a.Rate, a.Burst)
					}
				}()
				return driveOpen(ctx, r, r.loads)
			},
		},
		{
			Name: ScenarioMixed, About: "metric polling, outbound calls and user reads at once, one caller", Ops: []string{opCurrentMetric, opOutboundVoice, opDescribeUser}, under: []string{opDescribeUser},
			loads: mixed,
			run:   func(ctx context.Context, r *run) error { return driveOpen(ctx, r, r.loads) },
		},
	}
}

// LookupScenario returns the named scenario.
func LookupScenario(name string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// ScenarioNames returns the scenario names in canonical order.
func ScenarioNames() []string {
	var out []string
	for _, s := range Scenarios() {
		out = append(out, s.Name)
	}
	return out
}

func firstErr(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// callFor returns the SDK call of op, with valid input for the simulator's
// default state.
func callFor(op string) (func(ctx context.Context, c *connect.Client) error, error) {
	switch op {
	case opDescribeUser:
		return func(ctx context.Context, c *connect.Client) error {
			_, err := c.DescribeUser(ctx, &connect.DescribeUserInput{
				InstanceId: aws.String(sim.DefaultInstanceID), UserId: aws.String(sim.DefaultUserID),
			})
			return err
		}, nil
	case opCurrentMetric:
		return func(ctx context.Context, c *connect.Client) error {
			_, err := c.GetCurrentMetricData(ctx, &connect.GetCurrentMetricDataInput{
				InstanceId: aws.String(sim.DefaultInstanceID),
				Filters: &types.Filters{
					Queues:   []string{sim.DefaultQueueID},
					Channels: []types.Channel{types.ChannelVoice},
				},
				CurrentMetrics: []types.CurrentMetric{
					{Name: types.CurrentMetricNameAgentsOnline, Unit: types.UnitCount},
					{Name: types.CurrentMetricNameContactsInQueue, Unit: types.UnitCount},
				},
			})
			return err
		}, nil
	case opOutboundVoice:
		return func(ctx context.Context, c *connect.Client) error {
			_, err := c.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{
				InstanceId:             aws.String(sim.DefaultInstanceID),
				ContactFlowId:          aws.String(sim.DefaultContactFlowID),
				DestinationPhoneNumber: aws.String("+12025550199"),
				QueueId:                aws.String(sim.DefaultQueueID),
			})
			return err
		}, nil
	}
	return nil, fmt.Errorf("bench: no call for operation %q", op)
}

// unscaled converts a run duration to unscaled seconds.
func (r *run) unscaled(d time.Duration) float64 { return d.Seconds() * r.cfg.scale() }
