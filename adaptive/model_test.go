package adaptive

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// The model: one server token bucket shared by governed clients (each with its
// own Learner and client-side bucket) and an optional ungoverned neighbour.
// Time advances in fixed steps; requests take a latency to arrive and to
// return. Deterministic for a seed.

type phase struct {
	at    time.Duration
	rate  float64 // server quota from at on
	burst float64
}

type modelConfig struct {
	seed      ratelimit.Limit // what the clients are seeded with
	phases    []phase         // server quota over time; phases[0].at == 0
	clients   int
	workers   int // concurrent requests per client
	demand    int // calls per client; 0 = unlimited (closed loop)
	duration  time.Duration
	latency   time.Duration
	jitter    time.Duration // uniform extra latency on each leg
	neighbour struct {
		rate     float64
		from, to time.Duration
	}
	step   time.Duration
	dither bool
	fixed  []float64 // fixed client rates: no learning
	trace  bool      // delay each send by a uniform fraction of the client's period
	rng    uint64
	opts   Options
}

type modelResult struct {
	accepted, throttled  []int // per client
	nbAccepted, nbThrot  int
	thrProbing, thrStale int
	finish               time.Duration // when the last client finished (demand mode)
	perBin               [][2]int      // accepted, throttled per bin (all governed clients)
	bin                  time.Duration
	rates                [][]float64 // per client: learned rate per bin
}

func (r modelResult) totals() (acc, thr int) {
	for i := range r.accepted {
		acc += r.accepted[i]
		thr += r.throttled[i]
	}
	return
}

func (r modelResult) fairness() float64 {
	lo, hi := math.Inf(1), 0.0
	for _, a := range r.accepted {
		lo = math.Min(lo, float64(a))
		hi = math.Max(hi, float64(a))
	}
	if lo == 0 {
		return math.Inf(1)
	}
	return hi / lo
}

func (r modelResult) String() string {
	acc, thr := r.totals()
	return fmt.Sprintf("probing=%d stale=%d acc=%d thr=%d thr/acc=%.4f fair=%.2f finish=%v nb=%d/%d", r.thrProbing, r.thrStale, acc, thr, float64(thr)/math.Max(1, float64(acc)), r.fairness(), r.finish, r.nbAccepted, r.nbThrot)
}

type flight struct {
	client    int // -1 neighbour
	sent      time.Duration
	arrive    time.Duration
	back      time.Duration
	throttled bool
}

func runModel(c modelConfig) modelResult {
	if c.step == 0 {
		c.step = time.Millisecond
	}
	if c.workers == 0 {
		c.workers = 4
	}
	if c.latency == 0 {
		c.latency = 2 * time.Millisecond
	}
	rng := rand.New(rand.NewPCG(c.rng, 7))
	t0 := time.Unix(1_700_000_000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	pi := 0
	srv := ratelimit.NewBucket(ratelimit.Limit{Rate: c.phases[0].rate, Burst: c.phases[0].burst}, t0)
	type client struct {
		l        *Learner
		b        ratelimit.Bucket
		pending  int // calls not yet accepted (demand mode) or -1
		inflight int
		retries  int // throttled calls waiting to be resent
		done     bool
	}
	cl := make([]*client, c.clients)
	for i := range cl {
		l := NewLearner(c.seed, c.opts)
		if c.trace && i == traceClient {
			l.trace = func(f string, a ...any) { fmt.Printf("%v ", l.lastSeen.Sub(t0)); fmt.Printf(f+"\n", a...) }
		}
		cl[i] = &client{l: l, b: ratelimit.NewBucket(l.Limit(t0), t0), pending: c.demand}
		if c.fixed != nil {
			l.rate = c.fixed[i]
			cl[i].b = ratelimit.NewBucket(ratelimit.Limit{Rate: c.fixed[i], Burst: 1}, t0)
		}
		if c.demand == 0 {
			cl[i].pending = -1
		}
	}
	res := modelResult{accepted: make([]int, c.clients), throttled: make([]int, c.clients), bin: 500 * time.Millisecond}
	res.rates = make([][]float64, c.clients)
	var fl []flight
	nbNext := c.neighbour.from
	leg := func() time.Duration {
		d := c.latency / 2
		if c.jitter > 0 {
			d += time.Duration(rng.Int64N(int64(c.jitter)))
		}
		return d
	}
	for now := time.Duration(0); now < c.duration; now += c.step {
		if pi+1 < len(c.phases) && now >= c.phases[pi+1].at {
			pi++
			srv.SetLimit(at(now), ratelimit.Limit{Rate: c.phases[pi].rate, Burst: c.phases[pi].burst})
		}
		bin := int(now / res.bin)
		for len(res.perBin) <= bin {
			res.perBin = append(res.perBin, [2]int{})
			for i := range cl {
				res.rates[i] = append(res.rates[i], cl[i].l.Rate(at(now)))
			}
		}
		// Sends.
		for i, k := range cl {
			for k.inflight < c.workers && (k.pending != 0 || k.retries > 0) && k.b.AllowN(at(now), 1) {
				k.inflight++
				if k.retries > 0 {
					k.retries--
				} else if k.pending > 0 {
					k.pending--
				}
				d := time.Duration(0)
				if c.dither {
					d = time.Duration(rng.Float64() * float64(time.Second) / k.l.Rate(at(now)))
				}
				fl = append(fl, flight{client: i, sent: now + d, arrive: now + d + leg()})
			}
		}
		if c.neighbour.rate > 0 && now >= c.neighbour.from && now < c.neighbour.to {
			for nbNext <= now {
				fl = append(fl, flight{client: -1, sent: nbNext, arrive: nbNext + leg()})
				nbNext += time.Duration(rng.ExpFloat64() * float64(time.Second) / c.neighbour.rate)
			}
		}
		// Arrivals in arrival order, then responses.
		sort.SliceStable(fl, func(i, j int) bool { return fl[i].arrive < fl[j].arrive })
		keep := fl[:0]
		for _, f := range fl {
			if f.back == 0 && f.arrive <= now {
				f.throttled = !srv.AllowN(at(f.arrive), 1)
				f.back = f.arrive + leg()
			}
			if f.back != 0 && f.back <= now {
				if f.client < 0 {
					if f.throttled {
						res.nbThrot++
					} else {
						res.nbAccepted++
					}
					continue
				}
				k := cl[f.client]
				k.inflight--
				kind := Accepted
				if f.throttled {
					if k.l.probing {
						res.thrProbing++
					}
					if k.l.lastCut.After(at(f.sent)) {
						res.thrStale++
					}
					kind = Throttled
					res.throttled[f.client]++
					res.perBin[bin][1]++
					k.retries++
				} else {
					res.accepted[f.client]++
					res.perBin[bin][0]++
				}
				if c.fixed != nil {
					continue
				}
				if k.l.Observe(at(now), Signal{Kind: kind, Sent: at(f.sent)}) {
					k.b.SetLimit(at(now), k.l.Limit(at(now)))
				}
				continue
			}
			keep = append(keep, f)
		}
		fl = keep
		if c.demand > 0 {
			all := true
			for _, k := range cl {
				if k.pending != 0 || k.retries > 0 || k.inflight > 0 {
					all = false
				}
			}
			if all {
				res.finish = now
				break
			}
		}
	}
	return res
}

var traceClient = 0
