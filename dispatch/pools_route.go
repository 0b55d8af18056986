package dispatch

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// idMembers are the input members whose value may be a logical name that
// each pool maps to its own id (Pool.IDs).
var idMembers = []string{"ContactFlowId", "QueueId", "SourcePhoneNumber", "CampaignId"}

// candidates returns the pools job may run on and whether it is pinned:
// its pin (Job.Pool, or one this process set), else the pools whose
// instance its InstanceId names, else every pool. A pin or InstanceId that
// names no pool is a client fault.
func (d *Dispatcher) candidates(job queue.Job) ([]*pool, bool, error) {
	if pin := d.pinOf(job); pin != "" {
		p, ok := d.byName[pin]
		if !ok {
			return nil, false, &InputError{Op: job.Op, Field: "Pool", Problem: fmt.Sprintf("%q is not a configured pool (%s)", clip(pin, 64), strings.Join(sortedNames(d.pools), ", "))}
		}
		return []*pool{p}, true, nil
	}
	inst := instanceOf(queue.InstanceOf(job.Input))
	if inst == "" {
		return d.pools, false, nil
	}
	var out []*pool
	for _, p := range d.pools {
		if p.Instance == inst {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, false, &InputError{Op: job.Op, Field: "Input.InstanceId", Problem: fmt.Sprintf("%q is not the instance of any pool (omit it: each pool substitutes its own)", clip(inst, 80))}
	}
	return out, len(out) == 1, nil
}

// route picks the pool for job at now among cands: the usable pool that
// would admit it soonest (estimate), claimed for the job (pending counted,
// a probe taken). When none is usable it returns nil and how long until
// one may be.
func (d *Dispatcher) route(cands []*pool, op string, voice bool, now time.Time) (p *pool, probe bool, wait time.Duration) {
	for range 4 {
		var best *pool
		var bestKey [2]float64
		wait = time.Duration(math.MaxInt64)
		for _, c := range cands {
			ok, w := c.health.usable(now)
			if !ok {
				wait = min(wait, w)
				continue
			}
			k := c.estimate(op, voice, now)
			if best == nil || less(k, bestKey, c, best) {
				best, bestKey = c, k
			}
		}
		if best == nil {
			return nil, false, wait
		}
		ok, probe := best.health.take(now)
		if ok {
			best.pending.Add(1)
			return best, probe, 0
		}
	}
	return nil, false, 10 * time.Millisecond
}

// less orders pools: the sooner estimate, then the higher weight, then the
// name.
func less(k, bk [2]float64, p, b *pool) bool {
	if k != bk {
		return k[0] < bk[0] || k[0] == bk[0] && k[1] < bk[1]
	}
	if p.Weight != b.Weight {
		return p.Weight > b.Weight
	}
	return p.Name < b.Name
}

// estimate says how soon p would admit one more call of op: a key ordered
// first by "no free call slot" (voice with a CallBudget), then by seconds
// until a token, join-the-shortest-queue: (jobs waiting on the pool + 1 −
// tokens available now) / (rate × weight). Tokens and the limiter's own
// waiters come from ratelimit.Estimator when the limiter has it; otherwise
// tokens count as none.
func (p *pool) estimate(op string, voice bool, now time.Time) [2]float64 {
	l := p.Governor.Limiter()
	rate := math.Inf(1)
	for _, lim := range []ratelimit.Limit{l.Limit(op), l.Limit("")} {
		if lim.Rate > 0 && !lim.Unlimited() {
			rate = min(rate, lim.Rate)
		}
	}
	if math.IsInf(rate, 1) {
		rate = 1e6
	}
	queued := float64(p.pending.Load())
	tokens := 0.0
	if e := estimator(l); e != nil {
		t, w := e.Available(op, now)
		tokens, queued = t, max(queued, float64(w))
	}
	secs := (queued + 1 - tokens) / (rate * p.Weight)
	noSlot := 0.0
	if voice && p.CallBudget != nil {
		_, budget := p.CallBudget.Limit(p.Instance)
		if free := budget - p.CallBudget.Active(p.Instance) - p.CallBudget.Waiting(p.Instance); free <= 0 {
			noSlot = float64(1-free) / float64(max(budget, 1))
		}
	}
	return [2]float64{noSlot, secs}
}

// substitute makes in (an SDK input) p's: an empty InstanceId becomes the
// pool's instance (another instance is refused), and each idMembers value
// that is a logical name of the pool's mapping becomes the pool's id.
func (d *Dispatcher) substitute(op string, in any, p *pool) error {
	v := reflect.ValueOf(in).Elem()
	if f := v.FieldByName("InstanceId"); f.IsValid() && f.Type() == reflect.TypeFor[*string]() {
		cur := ""
		if !f.IsNil() {
			cur = f.Elem().String()
		}
		switch {
		case cur == "":
			f.Set(reflect.ValueOf(aws.String(p.Instance)))
		case instanceOf(cur) != p.Instance:
			return &InputError{Op: op, Field: "Input.InstanceId", Problem: fmt.Sprintf("%q is not pool %s's instance", clip(cur, 80), p.Name)}
		}
	}
	for _, m := range idMembers {
		f := v.FieldByName(m)
		if !f.IsValid() || f.Type() != reflect.TypeFor[*string]() || f.IsNil() {
			continue
		}
		id, err := d.mapID(op, m, f.Elem().String(), p)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(aws.String(id)))
	}
	return nil
}

// mapID returns p's id for member m's value: the mapped id of a logical
// name, the value itself otherwise. A logical name another pool maps and p
// does not is an error naming the member and the pool.
func (d *Dispatcher) mapID(op, m, val string, p *pool) (string, error) {
	if id, ok := p.IDs[m][val]; ok {
		return id, nil
	}
	for _, o := range d.pools {
		if _, ok := o.IDs[m][val]; ok {
			field := "Input." + m
			if m == "CampaignId" && op == OpPutDialRequestBatch {
				field = "Input.campaignId"
			}
			return "", &InputError{Op: op, Field: field, Problem: fmt.Sprintf("logical name %q has no id in pool %s (it has in pool %s)", clip(val, 80), p.Name, o.Name)}
		}
	}
	return val, nil
}
