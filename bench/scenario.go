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
	// calls returns how many logical calls a run makes (for progress).
	calls func(c Config) int
	// run drives the workload; it returns when every call has ended.
	run func(ctx context.Context, r *run) error
	// bound returns the lower bound of the completion time, in unscaled
	// seconds, given the run (its quota table and what the neighbour took).
	bound func(r *run) float64
	// multi reports a multi-caller scenario (fairness is measured).
	multi bool
	// under lists operations whose demand stays under their quota.
	under []string
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

// Scenarios returns every scenario, in canonical order.
func Scenarios() []Scenario {
	return []Scenario{
		{
			Name: ScenarioBurst, About: "500 calls at once (a Lambda fan-out)", Ops: []string{opDescribeUser},
			calls: func(c Config) int { return c.n(burstCalls) },
			run: func(ctx context.Context, r *run) error {
				return r.openLoop(ctx, 0, opDescribeUser, r.cfg.n(burstCalls), math.Inf(1), 0)
			},
			bound: func(r *run) float64 { return r.drainBound(opDescribeUser, r.cfg.n(burstCalls), 0) },
		},
		{
			Name: ScenarioSustained, About: "demand 3× the quota for 20 s", Ops: []string{opDescribeUser},
			calls: func(c Config) int { return c.n(int(sustainedFactor * c.quota(opDescribeUser) * sustainedSecs)) },
			run: func(ctx context.Context, r *run) error {
				n := r.cfg.n(int(sustainedFactor * r.cfg.quota(opDescribeUser) * sustainedSecs))
				return r.openLoop(ctx, 0, opDescribeUser, n, float64(n)/sustainedSecs, 0)
			},
			bound: func(r *run) float64 {
				n := r.cfg.n(int(sustainedFactor * r.cfg.quota(opDescribeUser) * sustainedSecs))
				return r.drainBound(opDescribeUser, n, 0)
			},
		},
		{
			Name: ScenarioFleet, About: "N independent callers (default 16), one account bucket", Ops: []string{opDescribeUser}, multi: true,
			calls: func(c Config) int { return c.clients() * c.n(fleetPerClient) },
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
			bound: func(r *run) float64 {
				return r.drainBound(opDescribeUser, r.cfg.clients()*r.cfg.n(fleetPerClient), 0)
			},
		},
		{
			Name: ScenarioNeighbour, About: "an ungoverned caller takes half the bucket from 15 s to 35 s", Ops: []string{opDescribeUser},
			calls: func(c Config) int { return c.n(neighbourCalls) },
			run: func(ctx context.Context, r *run) error {
				nb := make(chan struct{})
				go func() {
					defer close(nb)
					r.neighbour(ctx, opDescribeUser, r.cfg.quota(opDescribeUser)/2, neighbourFrom, neighbourTo)
				}()
				err := r.closedLoop(ctx, 0, opDescribeUser, r.cfg.n(neighbourCalls), singleWorkers)
				<-nb
				return err
			},
			bound: func(r *run) float64 {
				return r.drainBound(opDescribeUser, r.cfg.n(neighbourCalls), r.neighbourAccepted())
			},
		},
		{
			Name: ScenarioQuotaChange, About: "demand 3× the quota; the quota doubles at 10 s and halves back at 25 s", Ops: []string{opDescribeUser},
			calls: func(c Config) int { return c.n(int(sustainedFactor * c.quota(opDescribeUser) * quotaSecs)) },
			run: func(ctx context.Context, r *run) error {
				n := r.cfg.n(int(sustainedFactor * r.cfg.quota(opDescribeUser) * quotaSecs))
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
				return r.openLoop(ctx, 0, opDescribeUser, n, float64(n)/quotaSecs, 0)
			},
			bound: func(r *run) float64 {
				n := r.cfg.n(int(sustainedFactor * r.cfg.quota(opDescribeUser) * quotaSecs))
				return r.drainBound(opDescribeUser, n, 0)
			},
		},
		{
			Name: ScenarioMixed, About: "metric polling, outbound calls and user reads at once, one caller", Ops: []string{opCurrentMetric, opOutboundVoice, opDescribeUser}, under: []string{opDescribeUser},
			calls: func(c Config) int {
				n := 0
				for _, d := range mixedDemand {
					n += c.n(int(d.rate * mixedSecs))
				}
				return n
			},
			run: func(ctx context.Context, r *run) error {
				var wg sync.WaitGroup
				errs := make([]error, len(mixedDemand))
				for i, d := range mixedDemand {
					wg.Add(1)
					go func() {
						defer wg.Done()
						n := r.cfg.n(int(d.rate * mixedSecs))
						errs[i] = r.openLoop(ctx, 0, d.op, n, float64(n)/mixedSecs, 0)
					}()
				}
				wg.Wait()
				return firstErr(errs)
			},
			bound: func(r *run) float64 {
				b := 0.0
				for _, d := range mixedDemand {
					b = math.Max(b, r.drainBound(d.op, r.cfg.n(int(d.rate*mixedSecs)), 0))
				}
				return b
			},
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
