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

	CompletionS float64 `json:"completion_s"` // first issue to last end
	// LowerBoundS is the least time in which any strategy could have ended
	// as many calls as succeeded (see the package documentation: arrival
	// schedule, bucket and quota schedule, the neighbour's takes during the
	// work, latency and workers); CompletionRatio = CompletionS ÷ it, ≥ 1.
	LowerBoundS     float64 `json:"lower_bound_s"`
	CompletionRatio float64 `json:"completion_ratio"`
	// GoodputRatio is the successes over what an ideal strategy had ended
	// by the last success (the same ideal schedule as the bound; at most 1),
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
	// Quota is the sum of the scenario's operations' quota rates (unscaled
	// calls per second) in the middle of the second: the line the charts
	// draw.
	Quota float64 `json:"quota,omitempty"`
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
	ev := r.srv.rec.snapshot()
	res.LowerBoundS = r.lowerBound(perOp, ev) / scale
	res.CompletionRatio = math.NaN() // no bound: every success fit in the burst ("-", null in JSON)
	if res.LowerBoundS > 0 {
		res.CompletionRatio = res.CompletionS / res.LowerBoundS
	}

	// Goodput: successes over what an ideal strategy could have ended by
	// each operation's last success (the same ideal schedule as the bound:
	// the arrivals, the buckets, the neighbour's takes). Operations the
	// scenario runs under their quota are left out: their ideal is their
	// demand, not the quota.
	lastOK := map[string]time.Time{}
	for _, c := range calls {
		if c.ok && c.end.After(lastOK[c.op]) {
			lastOK[c.op] = c.end
		}
	}
	ideal, served := 0, 0
	for _, l := range r.loads {
		if slices.Contains(sc.under, l.op) {
			continue
		}
		t, ok := lastOK[l.op]
		if !ok {
			continue
		}
		ideal += max(r.boundInput(l.op, ev).served(l, r.unscaled(t.Sub(r.start))), 1)
		served += perOp[l.op]
	}
	if ideal > 0 {
		res.GoodputRatio = float64(served) / float64(ideal)
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

// own reports whether an event is a response to the strategy's callers.
func own(e event) bool { return e.caller != "" && e.caller != AccessKey(-1) }

// timeline bins the responses per unscaled second.
func (r *run) timeline(ev []event, end time.Time) []Bin {
	n := int(math.Ceil(r.unscaled(end.Sub(r.start))))
	bins := make([]Bin, max(n, 1))
	r.mu.Lock()
	sched := make([][]quotaStep, 0, len(r.schedule))
	for _, s := range r.schedule {
		sched = append(sched, s)
	}
	r.mu.Unlock()
	for i := range bins {
		bins[i].T = float64(i)
		for _, s := range sched {
			bins[i].Quota += rateAt(s, float64(i)+0.5)
		}
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

// rateAt is the rate of a quota schedule at unscaled second t.
func rateAt(s []quotaStep, t float64) float64 {
	rate := 0.0
	for _, q := range s {
		if q.at <= t {
			rate = q.rate
		}
	}
	return rate
}
