package bench

import (
	"math"
	"net/http"
	"slices"
	"sort"
	"time"
)

// Result is the measurement of one scenario × strategy run. Durations are in
// the run's clock (wall time, or virtual time in tests) unless the name says
// unscaled; a run at rate scale s is s times faster than the published quotas.
type Result struct {
	Scenario  string  `json:"scenario"`
	Strategy  string  `json:"strategy"`
	RateScale float64 `json:"rate_scale"`

	Calls     int `json:"calls"`     // logical calls made
	Successes int `json:"successes"` // calls that succeeded
	Failures  int `json:"failures"`  // calls that gave up (or were cut off by the run's timeout)
	HTTPCalls int `json:"http_calls"`
	Throttles int `json:"throttles"` // 429 responses to the strategy's callers (simulator stats)

	CompletionS     float64 `json:"completion_s"`  // first issue to last end
	LowerBoundS     float64 `json:"lower_bound_s"` // (N − burst) ÷ rate, under the run's quota schedule
	CompletionRatio float64 `json:"completion_ratio"`
	// GoodputRatio is the successes over what the quota could serve until
	// the last success (burst + rate × time, less what the neighbour took),
	// over the operations whose demand exceeds their quota.
	GoodputRatio        float64 `json:"goodput_ratio"`
	ThrottlesPerSuccess float64 `json:"throttles_per_success"`
	CallsPerSuccess     float64 `json:"calls_per_success"`
	P50Ms               float64 `json:"p50_ms"` // time per call, waits included
	P99Ms               float64 `json:"p99_ms"`
	// Fairness is max ÷ min successes across callers while all of them
	// still had work (1 for single-caller scenarios).
	Fairness float64 `json:"fairness"`

	// Quota-change scenario: unscaled seconds from the increase until the
	// accepted rate (over one unscaled second) first reached 95% of the new
	// quota (−1: never); and the number of separate bursts of 429s within
	// ten unscaled seconds after the decrease, and their 429s.
	TimeTo95S      float64 `json:"time_to_95_s,omitempty"`
	DecreaseBursts int     `json:"decrease_bursts,omitempty"`
	Decrease429s   int     `json:"decrease_429s,omitempty"`

	// Neighbour scenario: the ungoverned neighbour's accepted and throttled
	// requests.
	NeighbourAccepted  int `json:"neighbour_accepted,omitempty"`
	NeighbourThrottled int `json:"neighbour_throttled,omitempty"`

	// Timeline is accepted and throttled responses per unscaled second, for
	// the strategy's callers (and the neighbour's, separately).
	Timeline []Bin `json:"timeline,omitempty"`
}

// Bin is one unscaled second of a run.
type Bin struct {
	T                  float64 `json:"t"` // unscaled seconds from the start
	Accepted           int     `json:"accepted"`
	Throttled          int     `json:"throttled"`
	NeighbourAccepted  int     `json:"neighbour_accepted,omitempty"`
	NeighbourThrottled int     `json:"neighbour_throttled,omitempty"`
}

func (r *run) result(sc Scenario, strategy string, end time.Time) Result {
	calls := r.sortedCalls()
	res := Result{Scenario: sc.Name, Strategy: strategy, RateScale: r.cfg.scale(), Calls: len(calls)}
	scale := r.cfg.scale()

	st := r.srv.sim.Stats()
	nbKey := AccessKey(-1)
	for key, c := range st.Callers {
		if key == nbKey {
			res.NeighbourAccepted, res.NeighbourThrottled = int(c.Accepted), int(c.Throttled)
			continue
		}
		res.HTTPCalls += int(c.Requests)
		res.Throttles += int(c.Throttled)
	}

	lat := make([]float64, 0, len(calls))
	perClient := map[int]int{}
	doneAt := map[int]time.Time{} // when each caller's last call ended
	perOp := map[string]int{}
	var last time.Time
	for _, c := range calls {
		if c.ok {
			res.Successes++
			perOp[c.op]++
		} else {
			res.Failures++
		}
		lat = append(lat, float64(c.end.Sub(c.issued))/float64(time.Millisecond))
		if c.end.After(last) {
			last = c.end
		}
		if c.end.After(doneAt[c.client]) {
			doneAt[c.client] = c.end
		}
	}
	if res.Successes > 0 {
		res.ThrottlesPerSuccess = float64(res.Throttles) / float64(res.Successes)
		res.CallsPerSuccess = float64(res.HTTPCalls) / float64(res.Successes)
	}
	res.P50Ms, res.P99Ms = percentile(lat, 0.50), percentile(lat, 0.99)
	if !last.IsZero() {
		res.CompletionS = last.Sub(r.start).Seconds()
	}
	res.LowerBoundS = sc.bound(r) / scale
	if res.LowerBoundS > 0 {
		res.CompletionRatio = res.CompletionS / res.LowerBoundS
	}

	// Goodput: successes over what each operation's bucket could serve until
	// the operation's last success (operations the scenario runs under
	// their quota are left out: their ideal is their demand, not the quota).
	lastOK := map[string]time.Time{}
	for _, c := range calls {
		if c.ok && c.end.After(lastOK[c.op]) {
			lastOK[c.op] = c.end
		}
	}
	ev := r.srv.rec.snapshot()
	capacity, served := 0.0, 0
	for _, op := range sc.Ops {
		if slices.Contains(sc.under, op) {
			continue
		}
		t, ok := lastOK[op]
		if !ok {
			continue
		}
		c := r.capacity(op, r.unscaled(t.Sub(r.start)))
		if op == opDescribeUser {
			// What the neighbour took before then was not ours to take.
			for _, e := range ev {
				if e.caller == AccessKey(-1) && e.status < 300 && !e.t.After(t) {
					c--
				}
			}
		}
		capacity += math.Max(c, 1)
		served += perOp[op]
	}
	if capacity > 0 {
		res.GoodputRatio = float64(served) / capacity
	}

	// Fairness while every caller still had work.
	res.Fairness = 1
	if sc.multi && len(doneAt) > 1 {
		first := last
		for _, t := range doneAt {
			if t.Before(first) {
				first = t
			}
		}
		for _, c := range calls {
			if c.ok && !c.end.After(first) {
				perClient[c.client]++
			}
		}
		lo, hi := math.Inf(1), 0.0
		for i := range doneAt {
			n := float64(perClient[i])
			lo, hi = math.Min(lo, n), math.Max(hi, n)
		}
		if lo > 0 {
			res.Fairness = hi / lo
		} else {
			res.Fairness = math.Inf(1)
		}
	}

	res.Timeline = r.timeline(ev, end)
	if sc.Name == ScenarioQuotaChange {
		a, _ := r.cfg.table().API(opDescribeUser)
		res.TimeTo95S = r.timeTo(ev, quotaUp, quotaDown, 0.95*2*a.Rate)
		res.DecreaseBursts, res.Decrease429s = r.bursts(ev, quotaDown, quotaDown+10, 2)
	}
	return res
}

// capacity is what op's bucket could serve in the first t unscaled seconds
// under the run's schedule: burst + ∫ rate.
func (r *run) capacity(op string, t float64) float64 {
	r.mu.Lock()
	sched := append([]quotaStep(nil), r.schedule[op]...)
	r.mu.Unlock()
	if len(sched) == 0 {
		return 0
	}
	c := float64(sched[0].burst)
	for i, s := range sched {
		end := t
		if i+1 < len(sched) {
			end = math.Min(t, sched[i+1].at)
		}
		if end > s.at {
			c += s.rate * (end - s.at)
		}
	}
	return c
}

// own reports whether an event is a response to the strategy's callers.
func own(e event) bool { return e.caller != "" && e.caller != AccessKey(-1) }

// timeline bins the responses per unscaled second.
func (r *run) timeline(ev []event, end time.Time) []Bin {
	n := int(math.Ceil(r.unscaled(end.Sub(r.start))))
	bins := make([]Bin, max(n, 1))
	for i := range bins {
		bins[i].T = float64(i)
	}
	for _, e := range ev {
		i := int(r.unscaled(e.t.Sub(r.start)))
		if i < 0 || i >= len(bins) {
			continue
		}
		b := &bins[i]
		switch {
		case own(e) && e.status == http.StatusTooManyRequests:
			b.Throttled++
		case own(e) && e.status < 300:
			b.Accepted++
		case e.caller == AccessKey(-1) && e.status == http.StatusTooManyRequests:
			b.NeighbourThrottled++
		case e.caller == AccessKey(-1) && e.status < 300:
			b.NeighbourAccepted++
		}
	}
	return bins
}

// timeTo returns the unscaled seconds from from until the strategy's accepted
// rate over the last unscaled second first reached target (unscaled calls per
// second), looking no later than until; −1 if it never did.
func (r *run) timeTo(ev []event, from, until, target float64) float64 {
	var ts []float64
	for _, e := range ev {
		if own(e) && e.status < 300 {
			ts = append(ts, r.unscaled(e.t.Sub(r.start)))
		}
	}
	sort.Float64s(ts)
	lo := 0
	for hi, t := range ts {
		if t < from {
			continue
		}
		if t > until {
			break
		}
		for ts[lo] < t-1 {
			lo++
		}
		if t-1 >= from && float64(hi-lo+1) >= target {
			return t - from
		}
	}
	return -1
}

// bursts counts the separate bursts of 429s to the strategy's callers in
// [from, to] unscaled seconds (a gap longer than gap seconds starts a new
// burst) and their 429s.
func (r *run) bursts(ev []event, from, to, gap float64) (n, total int) {
	var ts []float64
	for _, e := range ev {
		if own(e) && e.status == http.StatusTooManyRequests {
			if t := r.unscaled(e.t.Sub(r.start)); t >= from && t <= to {
				ts = append(ts, t)
			}
		}
	}
	sort.Float64s(ts)
	for i, t := range ts {
		if i == 0 || t-ts[i-1] > gap {
			n++
		}
	}
	return n, len(ts)
}

// percentile returns the p-quantile of v (nearest rank); 0 for no values.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}
