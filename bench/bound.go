package bench

import (
	"math"
	"sort"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// load is one operation's demand in a scenario: n logical calls, either
// open loop (call k is issued at unscaled second from + k/rate; rate +Inf:
// all at once) or closed loop (workers > 0: that many workers, each issuing
// its next call when its previous one ended).
type load struct {
	op      string
	n       int
	rate    float64 // open loop
	from    float64 // open loop
	workers int     // closed loop
}

// arrival returns the earliest unscaled second at which call k (0-based)
// can be issued, given the times the earlier calls ended (closed loop).
func (l load) arrival(k int, ended []float64) float64 {
	if l.workers > 0 {
		if k < l.workers {
			return 0
		}
		return ended[k-l.workers]
	}
	if math.IsInf(l.rate, 1) {
		return l.from
	}
	return l.from + float64(k)/l.rate
}

// boundInput is what the ideal schedule of one operation depends on: its
// bucket's quota schedule (unscaled), the times other callers took tokens
// from the same bucket (unscaled seconds, any order: the neighbour's
// accepted requests) and the least one-way latency (unscaled seconds) a
// request and its response each take.
type boundInput struct {
	sched  []quotaStep
	others []float64
	leg    float64
}

// ideal returns the times (unscaled seconds) at which the first k calls of
// l end under the best possible strategy: each call is sent so that it
// reaches the bucket the moment it has been issued and a token is there,
// never earlier (a call that gets a 429 does not help), first come first
// served. The bucket is the simulator's (ratelimit.Bucket, full at the
// start, refilling at the schedule's rate up to its burst); the other
// callers' takes happen when they happened in the run. If in this ideal
// schedule a token the neighbour really took is already gone, the bucket
// goes into debt (TakeN): the neighbour did take it, so it was not ours to
// take. Whenever two takes tie, ours is counted first.
//
// No strategy can end its k-th call earlier: taking each token as soon as it
// exists and a call wants it maximises the calls served by every instant (a
// token not taken while the bucket is full is lost; one taken early is never
// worth less than one taken later), and the latency and the arrival
// schedule only delay calls. An oracle that reads the simulator's bucket
// reaches it (TestOracleMeetsBound).
func (in boundInput) ideal(l load, k int) []float64 {
	k = min(k, l.n)
	if k <= 0 || len(in.sched) == 0 {
		return nil
	}
	others := append([]float64(nil), in.others...)
	sort.Float64s(others)
	b := &idealBucket{sched: in.sched}
	b.start()
	ended := make([]float64, 0, k)
	j := 0
	for c := 0; c < k; c++ {
		// The call reaches the bucket one leg after it is issued, and not
		// before the previous call took its token (first come, first served).
		e := math.Max(l.arrival(c, ended)+in.leg, b.at)
		for {
			for j < len(others) && others[j] < e {
				b.take(others[j])
				j++
			}
			w := b.ready(e)
			if j < len(others) && others[j] < w {
				// Another take comes first: apply it and look again.
				b.take(others[j])
				j++
				continue
			}
			if math.IsInf(w, 1) {
				// The bucket never refills: the remaining calls never end.
				for len(ended) < k {
					ended = append(ended, w)
				}
				return ended
			}
			b.take(w)
			ended = append(ended, w+in.leg)
			break
		}
	}
	return ended
}

// bound returns the least time (unscaled seconds) in which the first k calls
// of l can have ended: the last of ideal's times; 0 for no calls.
func (in boundInput) bound(l load, k int) float64 {
	e := in.ideal(l, k)
	if len(e) == 0 {
		return 0
	}
	return e[len(e)-1]
}

// served returns how many of l's calls an ideal strategy had ended by
// unscaled second t (give or take a microsecond: the clocks' rounding).
func (in boundInput) served(l load, t float64) int {
	n := 0
	for _, e := range in.ideal(l, l.n) {
		if e <= t+1e-6 {
			n++
		}
	}
	return n
}

// idealBucket runs a ratelimit.Bucket on unscaled seconds through a quota
// schedule: the limit changes at each step's time, keeping the tokens
// earned (capped at the new burst), as sim.Server.SetQuota does.
type idealBucket struct {
	sched []quotaStep
	next  int // index of the next step to apply
	b     ratelimit.Bucket
	at    float64 // latest time seen
}

// epoch is the origin of the ideal bucket's clock.
var epoch = time.Unix(0, 0)

func clockAt(s float64) time.Time { return epoch.Add(time.Duration(math.Round(s * 1e9))) }

func (b *idealBucket) start() {
	s := b.sched[0]
	b.b = ratelimit.NewBucket(ratelimit.Limit{Rate: s.rate, Burst: float64(s.burst)}, clockAt(0))
	b.next = 1
}

// advance applies the steps due by s.
func (b *idealBucket) advance(s float64) {
	for b.next < len(b.sched) && b.sched[b.next].at <= s {
		q := b.sched[b.next]
		b.b.SetLimit(clockAt(q.at), ratelimit.Limit{Rate: q.rate, Burst: float64(q.burst)})
		b.next++
	}
	b.at = math.Max(b.at, s)
}

// take takes one token at s, into debt if need be.
func (b *idealBucket) take(s float64) {
	s = math.Max(s, b.at)
	b.advance(s)
	b.b.TakeN(clockAt(s), 1)
}

// ready returns the earliest time from s at which the bucket holds a token,
// following the schedule (+Inf if it never will).
func (b *idealBucket) ready(s float64) float64 {
	s = math.Max(s, b.at)
	b.advance(s)
	// Look ahead on a copy: the steps to come may change the rate.
	c := *b
	for {
		d := c.b.DelayN(clockAt(s), 1)
		w := s + d.Seconds()
		if d == ratelimit.InfDuration {
			w = math.Inf(1)
		}
		if c.next < len(c.sched) && c.sched[c.next].at < w {
			s = c.sched[c.next].at
			c.advance(s)
			continue
		}
		return w
	}
}
