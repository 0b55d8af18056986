package stagger

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Result is what one start schedule produced: the figures the shift-change
// bench measures, from the model of the account's buckets and the SDK's
// standard retryer.
type Result struct {
	// Throttled is the number of throttled attempts (HTTP 429 responses).
	Throttled int
	// Failed is the number of agents whose start-up gave up (a call was
	// still throttled after its last attempt).
	Failed int
	// Peak is, per operation, the most calls accepted in one second
	// (seconds counted from the shift start).
	Peak map[string]int
	// Ready is each agent's time from the shift start until its start-up
	// ended, sorted.
	Ready []time.Duration
}

// ReadyAt returns the nearest-rank q-quantile (0 < q <= 1) of Ready.
func (r Result) ReadyAt(q float64) time.Duration { return Quantile(r.Ready, q) }

// Quantile returns the nearest-rank q-quantile of sorted durations: the
// smallest value with at least q of them at or below it. Empty: 0.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// event is one attempt of one call.
type event struct {
	t       time.Duration
	seq     int
	agent   int
	op      int
	attempt int
}

// events is a min-heap of attempts by time, then by sequence.
type events []event

func (e events) less(i, j int) bool {
	if e[i].t != e[j].t {
		return e[i].t < e[j].t
	}
	return e[i].seq < e[j].seq
}

func (e *events) push(x event) {
	*e = append(*e, x)
	h := *e
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (e *events) pop() event {
	h := *e
	x := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && h.less(l, m) {
			m = l
		}
		if r := l + 1; r < n && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*e = h
	return x
}

// simBucket mirrors the simulator's server-side bucket: full at the shift
// start, refilled continuously, one token per accepted call.
type simBucket struct {
	rate, burst, tokens float64
	last                time.Duration
}

func (b *simBucket) take(t time.Duration) bool {
	if t > b.last {
		b.tokens = math.Min(b.burst, b.tokens+b.rate*(t-b.last).Seconds())
		b.last = t
	}
	if b.tokens >= 1-1e-9 {
		b.tokens--
		return true
	}
	return false
}

// Simulate runs one realization: agent i starts at starts[i] (from the
// shift start) and issues all its calls at once; each operation's bucket
// holds the share of the quota (Options.Share); a throttled attempt is
// retried like the Go SDK's standard mode (up to MaxAttempts attempts,
// waiting rand[0,1) × min(1 s × 2^(attempt−1), 20 s)), with rnd drawing the
// jitter. Calls take no time (the model has no network latency).
func Simulate(o Options, starts []time.Duration, rnd *rand.Rand) (Result, error) {
	o.Agents = max(o.Agents, len(starts))
	o, err := o.withDefaults()
	if err != nil {
		return Result{}, err
	}
	return simulate(o, o.available(), starts, rnd), nil
}

func simulate(o Options, av []Available, starts []time.Duration, rnd *rand.Rand) Result {
	buckets := make([]simBucket, len(av))
	for i, a := range av {
		buckets[i] = simBucket{rate: a.Rate, burst: float64(a.Burst), tokens: float64(a.Burst)}
	}
	// First attempts in time order, then retries in a heap; the next event
	// is the earlier of the two heads.
	order := make([]int32, len(starts))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(starts[a], starts[b]) })
	first := make([]event, 0, len(starts)*len(av))
	seq := 0
	for _, agent := range order {
		for op, a := range av {
			for range a.Count {
				first = append(first, event{t: starts[agent], seq: seq, agent: int(agent), op: op, attempt: 1})
				seq++
			}
		}
	}
	var q events
	ready := slices.Clone(starts)
	failed := make([]bool, len(starts))
	bins := make([][]int, len(av)) // accepted per second, per operation
	res := Result{Peak: make(map[string]int, len(av))}
	for len(first) > 0 || len(q) > 0 {
		var e event
		if len(q) > 0 && (len(first) == 0 || q[0].t < first[0].t) {
			e = q.pop()
		} else {
			e, first = first[0], first[1:]
		}
		if buckets[e.op].take(e.t) {
			sec := int(e.t / time.Second)
			if sec >= len(bins[e.op]) {
				bins[e.op] = append(bins[e.op], make([]int, sec+1-len(bins[e.op]))...)
			}
			bins[e.op][sec]++
			if n := bins[e.op][sec]; n > res.Peak[av[e.op].Op] {
				res.Peak[av[e.op].Op] = n
			}
			ready[e.agent] = max(ready[e.agent], e.t)
			continue
		}
		res.Throttled++
		if e.attempt >= o.MaxAttempts {
			failed[e.agent] = true
			ready[e.agent] = max(ready[e.agent], e.t)
			continue
		}
		e.t += backoffDelay(e.attempt, rnd)
		e.attempt++
		e.seq = seq
		seq++
		q.push(e)
	}
	for _, f := range failed {
		if f {
			res.Failed++
		}
	}
	for _, a := range av {
		if _, ok := res.Peak[a.Op]; !ok {
			res.Peak[a.Op] = 0
		}
	}
	slices.Sort(ready)
	res.Ready = ready
	return res
}

// backoffDelay is the Go SDK's (v1.48) throttle backoff after the attempt-th
// attempt failed: rand[0,1) × min(1 s × 2^(attempt−1), 20 s).
func backoffDelay(attempt int, rnd *rand.Rand) time.Duration {
	c := DefaultMaxBackoff
	if attempt-1 < 5 {
		c = min(c, ThrottleBackoffBase<<(attempt-1))
	}
	return time.Duration(rnd.Float64() * float64(c))
}
