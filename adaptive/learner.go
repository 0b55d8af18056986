package adaptive

import (
	"math"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// Kind says what an attempt tells the learner about the server's bucket.
type Kind int

// Kinds of outcome. The zero value is Accepted.
const (
	// Accepted: the server answered with anything but a rate throttle, so
	// the request took a token (success, client error, concurrency quota…).
	Accepted Kind = iota
	// Throttled: a rate throttle (429 ThrottlingException,
	// TooManyRequestsException): the server's bucket was empty.
	Throttled
	// Ignored: the attempt tells nothing about the bucket (canceled before
	// an answer, connection refused, client-side validation).
	Ignored
)

// String returns "accepted", "throttled" or "ignored".
func (k Kind) String() string {
	switch k {
	case Accepted:
		return "accepted"
	case Throttled:
		return "throttled"
	case Ignored:
		return "ignored"
	}
	return "unknown"
}

// Signal is what one observed attempt tells a learner about the server's
// bucket (governor.Outcome, by contrast, is the result of a whole governed
// call).
type Signal struct {
	Kind Kind
	// Sent is when the attempt left (after admission). The zero time means
	// "at the observation time". A throttle on a request sent before the
	// learner's last cut does not cut again blindly: the old rate caused it.
	Sent time.Time
	// RetryAfter is the server's x-amz-retry-after, if any; the learner
	// does not raise its rate before it has passed.
	RetryAfter time.Duration
}

// Learner learns the rate available to one client for one bucket (an
// operation, or the account). It starts from the seeded limit, holds just
// under the rate it measures when throttles start, probes upward in bounded
// steps, and moves above the seed only when a probe proves the quota was
// raised. The package documentation explains the rules and their reasons.
//
// A Learner is not safe for concurrent use; Set adds the locking.
type Learner struct {
	o         Options
	seed      ratelimit.Limit
	share     float64 // seed.Rate / Peers: the share of one member of a crowd
	burstTime float64 // seed.Burst / seed.Rate: seconds of rate a bucket holds
	floor     float64

	rate    float64 // the current target
	ceiling float64 // the highest rate believed to be the quota (≥ seed)
	knee    float64 // the last measured available rate; 0 unknown

	accepted  int64 // accepted calls observed
	warmRun   int   // saturated acceptances, until warm
	throttled bool  // a throttle has been seen
	slow      bool  // slow start: no throttle yet, below the ceiling
	warm      bool  // enough acceptances to allow a burst

	probing    bool    // a probe step is under way
	stepTo     float64 // the rate the current probe step aims at
	holdStart  time.Time
	probeAfter int // the hold, in calls at the reference rate
	clean      int // probe steps in a row that met no throttle at all

	ceilRun    int       // saturated acceptances at the ceiling since the last throttle
	ceilAfter  int       // how many of them before probing above the ceiling
	probeStart time.Time // start of a probe above the ceiling
	probeAcc   int64     // accepted count then

	lastCut   time.Time
	lastGrow  time.Time // last saturated acceptance
	freeze    time.Time // no increase before
	lastSeen  time.Time
	firstSeen time.Time

	marks  ring[mark]  // throttle instants: the server's bucket was empty
	recent ring[event] // the last attempts

	trace func(format string, args ...any) // tests only
}

// mark is a throttle instant and the accepted count at that instant.
type mark struct {
	t   time.Time
	acc int64
}

// event is one attempt.
type event struct {
	t         time.Time
	throttled bool
}

// Sizes of the learner's memories and measurement thresholds.
const (
	nMarks        = 8   // throttle instants kept
	nRecent       = 16  // attempts kept
	minRefAcc     = 8   // accepted calls for an exact measurement since a throttle
	minShort      = 3   // accepted calls for a rough one
	minWindow     = 8   // attempts for the windowed measurement
	satWindow     = 8   // attempts used to decide saturation
	satRatio      = 0.7 // attempts at this fraction of the rate count as saturated
	repeatSpan    = 8   // a throttle among this many previous attempts is a repeat
	coldCalls     = 4   // a client is cold until it has seen this many bursts accepted
	coldSeedCalls = 100 // and its first throttle is cold until this many seed-rate calls' time
	maxBoost      = 3   // clean steps double the next step and halve the next hold, up to 2^maxBoost
	boostShare    = 2   // no boost at or under this many crowd shares
)

// NewLearner returns a Learner seeded with the published limit (the quota
// table's rate and burst). A non-positive seed rate is replaced by 1/s, a
// burst under 1 by 1.
func NewLearner(seed ratelimit.Limit, o Options) *Learner {
	o = o.withDefaults()
	if !(seed.Rate > 0) || math.IsInf(seed.Rate, 0) {
		seed.Rate = 1
	}
	if !(seed.Burst >= 1) || math.IsInf(seed.Burst, 0) {
		seed.Burst = 1
	}
	return &Learner{
		o:          o,
		seed:       seed,
		share:      seed.Rate / float64(o.Peers),
		burstTime:  seed.Burst / seed.Rate,
		floor:      seed.Rate * o.MinFraction,
		rate:       seed.Rate * o.StartFraction,
		slow:       o.StartFraction < 1,
		ceiling:    seed.Rate,
		probeAfter: o.ProbeAfter,
		ceilAfter:  o.CeilingProbeAfter,
		marks:      newRing[mark](nMarks),
		recent:     newRing[event](nRecent),
	}
}

// Seed returns the limit the learner was seeded with.
func (l *Learner) Seed() ratelimit.Limit { return l.seed }

// Rate returns the learned rate at now, in requests per second.
func (l *Learner) Rate(now time.Time) float64 { return l.rate }

// Ceiling returns the highest rate the learner currently believes the quota
// allows: the seed, or more once a probe has proved the quota was raised.
func (l *Learner) Ceiling() float64 { return l.ceiling }

// Knee returns the available rate measured at the last throttle, 0 if none.
func (l *Learner) Knee() float64 { return l.knee }

// Contended reports whether the learner has met throttles and holds under
// its ceiling: other callers share the bucket.
func (l *Learner) Contended() bool { return l.throttled && l.rate < l.ceiling*(1-l.o.Margin/2) }

// Young reports whether the learner started less than 100 seed-rate calls'
// time before now (a crowd that starts together is still sorting itself out).
func (l *Learner) Young(now time.Time) bool {
	return l.firstSeen.IsZero() || now.Sub(l.firstSeen).Seconds()*l.seed.Rate < coldSeedCalls
}

// Limit returns the limit to apply at now: the learned rate and a burst of the
// same duration as the seed's (burst ÷ rate seconds), between 1 and the seeded
// burst. Until the learner has seen a seed's burst of calls accepted, the
// burst is 1: a client that has just started does not know how many others
// share the bucket, so it does not fire a whole burst into it.
func (l *Learner) Limit(now time.Time) ratelimit.Limit {
	b := 1.0
	if l.warm {
		b = math.Min(l.seed.Burst, math.Max(1, math.Floor(l.rate*l.burstTime)))
	}
	return ratelimit.Limit{Rate: l.rate, Burst: b}
}

// Observe feeds one attempt's outcome, observed at now, and reports whether
// the limit changed.
func (l *Learner) Observe(now time.Time, out Signal) (changed bool) {
	if now.Before(l.lastSeen) {
		// Observations of a shared learner come from several goroutines or
		// processes and may arrive a hair out of order: time never runs
		// backwards for the learner.
		now = l.lastSeen
	}
	before := l.Limit(now)
	if !l.lastSeen.IsZero() && now.Sub(l.lastSeen) > l.o.MaxReferenceAge {
		// Idle for long: what was learned about the others is stale.
		l.probeAfter = l.o.ProbeAfter
		l.ceilAfter = l.o.CeilingProbeAfter
		l.marks.clear()
	}
	if l.firstSeen.IsZero() {
		l.firstSeen = now
	}
	switch out.Kind {
	case Accepted:
		l.accepted++
		l.recent.push(event{t: now})
		l.onAccepted(now)
	case Throttled:
		l.recent.push(event{t: now, throttled: true})
		l.onThrottle(now, out)
	default:
		return false
	}
	l.lastSeen = now
	return l.Limit(now) != before
}

// Saturated reports whether the recent attempts came at least at 70% of the
// learned rate: the client uses what it has, so a throttle-free stretch says
// something about the rate above it.
func (l *Learner) Saturated(now time.Time) bool {
	n := l.recent.len()
	if n < satWindow {
		// Too little history: count the start as saturated so that a new
		// client under load can warm up.
		return n >= 2
	}
	span := now.Sub(l.recent.at(n - satWindow).t).Seconds()
	if span <= 0 {
		return true
	}
	return float64(satWindow-1)/span >= satRatio*l.rate
}

func (l *Learner) onAccepted(now time.Time) {
	if !l.Saturated(now) || now.Before(l.freeze) {
		return
	}
	dt := l.step(now)
	l.lastGrow = now
	if !l.warm {
		l.warmRun++
		l.warm = float64(l.warmRun) >= l.seed.Burst
	}
	c := l.seed.Rate
	if l.slow {
		// Slow start: double every SlowStartDoubling seed-rate calls until
		// the ceiling or the first throttle.
		l.rate = math.Min(l.rate*math.Exp2(dt*c/float64(l.o.SlowStartDoubling)), l.ceiling)
		l.slow = l.rate < l.ceiling
		return
	}
	g := math.Ln2 * c / float64(l.o.ProbeDoubling) // relative growth per second within a step
	if l.rate < l.ceiling {
		l.ceilRun = 0
		l.probeBelow(now, dt, g)
		return
	}
	l.ceilRun++
	if l.ceilRun <= l.ceilAfter {
		return
	}
	// Probe above the ceiling, by at most CeilingStep. The probe proves a
	// raised quota by arithmetic, not by luck: the server's bucket holds at
	// most the seeded burst B, so n calls accepted over t seconds without a
	// throttle mean the quota is at least (n − B) ÷ t. The ceiling follows
	// that lower bound up, and the probe stays CeilingStep above it. It
	// ramps Lag² times slower than a probe under the ceiling: a fleet keeps
	// sending at the old rate for Lag calls after a throttle, all of them
	// over the quota when the probe fails (see the package documentation).
	if !l.probing {
		l.probing = true
		l.probeStart, l.probeAcc = now, l.accepted
	}
	if t := now.Sub(l.probeStart).Seconds(); t > 0 {
		if lb := (float64(l.accepted-l.probeAcc) - l.seed.Burst) / t; lb > l.ceiling {
			l.ceiling = lb
			l.ceilAfter = l.o.CeilingProbeAfter
			l.marks.clear()
		}
	}
	l.rate = math.Min(math.Max(l.rate, l.ceiling)*math.Exp(g/float64(l.o.Lag*l.o.Lag)*dt), l.ceiling*(1+l.o.CeilingStep))
}

// probeBelow runs the hold-and-step probing under the ceiling.
func (l *Learner) probeBelow(now time.Time, dt, g float64) {
	if !l.probing {
		if l.holdStart.IsZero() {
			l.holdStart = now
		}
		if now.Sub(l.holdStart).Seconds() < l.holdTime() {
			return
		}
		// One bounded step: ProbeStep of the rate (of a crowd share for a
		// smaller client), boosted after clean steps; a client under a
		// crowd share doubles towards it.
		l.probing = true
		step := l.o.ProbeStep * l.boost() * math.Max(l.rate, l.share)
		l.stepTo = math.Min(l.rate+step, l.ceiling)
		if l.rate < l.share {
			l.stepTo = math.Max(l.stepTo, math.Min(2*l.rate, l.share))
		}
	}
	l.rate = math.Min(l.rate*math.Exp(g*dt), l.stepTo)
	if l.rate >= l.stepTo {
		// The step is done without a throttle: hold here. The old
		// throttle marks describe a lower regime; forget them so that no
		// measurement spans the rise.
		l.probing = false
		l.knee = math.Max(l.knee, l.rate)
		l.holdStart = now
		l.clean++
		l.marks.clear()
	}
}

// holdTime is how long the learner holds before its next probe step, in
// seconds. For a client at or under a crowd share it is the time a crowd
// share takes for probeAfter calls (shorter in proportion the less it holds):
// the same for every member of a crowd, whatever its rate, which is what
// makes a crowd's shares converge. A client holding more than a crowd share
// counts its own calls instead, so that one client alone, or beside a single
// large neighbour, probes often enough to notice freed capacity quickly.
func (l *Learner) holdTime() float64 {
	if l.rate > l.share {
		return float64(l.probeAfter) / l.rate / l.boost()
	}
	return float64(l.probeAfter) / l.share * (l.rate / l.share) / l.boost()
}

// boost is the acceleration after clean probe steps: each step in a row that
// met no throttle at all doubles the next step and halves the next hold (up
// to 2^maxBoost). It applies only to a client holding more than boostShare
// crowd shares: a client whose neighbour has left climbs back in a few steps,
// while a crowd's members, each a share, never accelerate into each other.
func (l *Learner) boost() float64 {
	if l.rate <= boostShare*l.share {
		return 1
	}
	return math.Exp2(float64(min(l.clean, maxBoost)))
}

// step returns the seconds since the last saturated acceptance, capped at one
// probe doubling period so that a silence is not taken for growth.
func (l *Learner) step(now time.Time) float64 {
	if l.lastGrow.IsZero() {
		return 0
	}
	dt := now.Sub(l.lastGrow).Seconds()
	if period := float64(l.o.ProbeDoubling) / l.seed.Rate; dt > period {
		dt = period
	}
	return math.Max(dt, 0)
}

func (l *Learner) onThrottle(now time.Time, out Signal) {
	sent := out.Sent
	if sent.IsZero() || sent.After(now) {
		sent = now
	}
	est, ok := l.estimate(now)
	repeat := l.repeat()
	old := l.rate
	// Give back the margin, and more the smaller our share of the ceiling:
	// in a crowd every member must yield a little for the crowd to settle
	// under the quota; a lone client at the quota yields only the margin.
	keep := 1 - l.o.Margin - l.o.Yield*math.Max(0, 1-math.Min(old, est)/l.ceiling)
	target := old
	// A client is cold until it has seen a few bursts accepted, and its
	// first throttle is cold if it comes soon after the start (a lucky
	// member of a crowd that started together must not keep what it grabbed
	// while the others were being throttled).
	cold := float64(l.accepted) < coldCalls*l.seed.Burst ||
		(!l.throttled && now.Sub(l.firstSeen).Seconds()*l.seed.Rate < coldSeedCalls)
	switch {
	case cold:
		// A client that has only just started is one of a crowd of
		// unknown size starting together. It assumes the crowd the
		// learner is tuned for and takes a 1/Peers share (less, if it
		// measured less); probing finds the rest. Every member of a
		// crowd does the same, so a crowd starts fair.
		target = math.Min(old, l.share)
		if ok {
			target = math.Min(target, est*keep)
		}
	case ok && est < old:
		// The measurement is the rate we got while the bucket was dry:
		// hold under it.
		target = est * keep
	case ok && repeat:
		// At or under the measurement and throttled again: the
		// measurement lags a change, or others are pushing. Yield.
		target = old * keep
	case ok:
		// A lone throttle at or under the measured share: others' bursts
		// or jitter. It says nothing new; keep the rate.
	default:
		// No measurement: cut multiplicatively, once per reaction (a
		// request sent before the last cut was paced by the old rate).
		if l.lastCut.IsZero() || !sent.Before(l.lastCut) {
			target = old * l.o.Beta
		}
	}
	target = math.Max(target, l.floor)
	if l.trace != nil {
		l.trace("throttle rate=%.2f est=%.2f ok=%v repeat=%v target=%.2f ceil=%.2f hold=%d", old, est, ok, repeat, target, l.ceiling, l.probeAfter)
	}
	cut := target < old
	if cut {
		l.rate = target
		l.lastCut = now
		if !repeat {
			// Every new throttle episode lengthens the hold: in a crowd a
			// probe's consequences land mostly on the others, so a client
			// cannot tell its own overshoot from theirs; it can only probe
			// less while throttles keep coming.
			l.probeAfter = min(2*l.probeAfter, l.o.ProbeAfterMax)
		}
	}
	if l.holdStart.IsZero() {
		l.holdStart = now
	}
	l.throttled, l.slow, l.probing = true, false, false
	l.clean = 0
	if ok {
		l.knee = est
	} else if l.knee == 0 || l.knee > l.rate {
		l.knee = l.rate
	}
	if old > l.ceiling || l.ceilRun > l.ceilAfter {
		// A probe above the ceiling failed: the quota was not raised (or
		// not that much). Probe above it less often.
		l.ceilAfter = min(2*l.ceilAfter, l.o.CeilingProbeMax)
	}
	// The ceiling follows the evidence: never under the seed, never over
	// what we measured when the bucket ran dry. (A raise above the seed is
	// kept only while nothing contradicts it; under the seed the ceiling
	// does not move: contention lowers the rate, not the quota.)
	if ok {
		l.ceiling = math.Max(l.seed.Rate, math.Min(l.ceiling, est))
	} else {
		l.ceiling = math.Max(l.seed.Rate, math.Min(l.ceiling, old))
	}
	l.rate = math.Min(l.rate, l.ceiling)
	l.ceilRun = 0
	l.marks.push(mark{t: now, acc: l.accepted})
	if out.RetryAfter > 0 {
		if f := now.Add(out.RetryAfter); f.After(l.freeze) {
			l.freeze = f
		}
	}
}

// estimate measures the rate available to this client at a throttle (now),
// when the server's bucket is empty. In order of preference:
//
//   - since the previous throttle: the bucket was empty then too, so every
//     token it earned in between went to someone, and what we got is exactly
//     our share: accepted-since ÷ time-since. With at least minRefAcc calls in
//     between this is the answer. (It can only be low, if the bucket
//     overflowed in between; the marks are forgotten whenever a probe step
//     succeeds, so a measurement never spans a rise.)
//   - over the last attempts: accepted in the window ÷ window. It can be high
//     by what the bucket held when the window began, so when a recent
//     throttle with a few calls since is known, the lower of the two wins.
func (l *Learner) estimate(now time.Time) (float64, bool) {
	best, ok := math.Inf(1), false
	if n := l.marks.len(); n > 0 {
		m := l.marks.at(n - 1)
		if age := now.Sub(m.t); age > 0 && age <= l.o.MaxReferenceAge {
			acc := l.accepted - m.acc
			if acc >= minRefAcc {
				return float64(acc) / age.Seconds(), true
			}
			if acc >= minShort {
				best, ok = (float64(acc)+0.5)/age.Seconds(), true
			}
		}
	}
	if n := l.recent.len(); n >= minWindow {
		if span := now.Sub(l.recent.at(0).t).Seconds(); span > 0 {
			acc := 0.5 // half a call: a window of throttles is not a zero rate
			for i := 1; i < n; i++ {
				if !l.recent.at(i).throttled {
					acc++
				}
			}
			if w := acc / span; w < best {
				best, ok = w, true
			}
		}
	}
	return best, ok
}

// repeat reports whether another throttle is among the attempts just before
// the current one (the newest entry of recent).
func (l *Learner) repeat() bool {
	n := l.recent.len()
	for i := n - 2; i >= 0 && i >= n-1-repeatSpan; i-- {
		if l.recent.at(i).throttled {
			return true
		}
	}
	return false
}
