package adaptive

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
)

var t0 = time.Unix(1_700_000_000, 0)

func sec(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// feed observes accepted calls every 1/rate seconds in [from, to) and returns
// the time after the last one.
func feed(l *Learner, from, to, rate float64) float64 {
	t := from
	for ; t < to; t += 1 / rate {
		l.Observe(sec(t), Signal{})
	}
	return t
}

func TestKindString(t *testing.T) {
	for i, s := range []struct {
		k    Kind
		want string
	}{{Accepted, "accepted"}, {Throttled, "throttled"}, {Ignored, "ignored"}, {Kind(9), "unknown"}} {
		if got := s.k.String(); got != s.want {
			t.Errorf("step %d: got %q want %q", i, got, s.want)
		}
	}
}

// TestSlowStart: a new learner starts at a quarter of the seed with a burst
// of 1, and doubles every two seed-rate calls (0.2 s at 10/s) while
// saturated, up to the seed.
func TestSlowStart(t *testing.T) {
	l := NewLearner(ratelimit.Limit{Rate: 10, Burst: 10}, Options{})
	steps := []struct {
		at        float64
		rate      float64
		burst     float64
		saturated bool
	}{
		{0.0, 2.5, 1, false},             // one attempt: not enough history
		{0.1, 2.5, 1, true},              // saturated, first growth step has no elapsed time
		{0.2, 2.5 * math.Sqrt2, 1, true}, // 0.1 s = half a doubling
		{0.3, 5, 1, true},                //
		{0.4, 5 * math.Sqrt2, 1, true},   //
		{0.5, 10, 1, true},               // the seed: slow start ends
		{0.6, 10, 1, true},               // held at the ceiling
		{0.7, 10, 1, true},               //
		{0.8, 10, 1, true},               //
		{0.9, 10, 1, true},               //
		{1.0, 10, 10, true},              // ten saturated acceptances: warm, full burst
		{1.1, 10, 10, true},              //
		{1.2, 10, 10, true},              //
		{1.3, 10, 10, true},              //
		{1.4, 10, 10, true},              //
		{1.5, 10, 10, true},              //
		{1.6, 10, 10, true},              //
		{1.7, 10, 10, true},              //
		{1.8, 10, 10, true},              //
		{1.9, 10, 10, true},              //
		{2.0, 10, 10, true},              //
		{2.1, 10, 10, true},              //
		{2.2, 10, 10, true},              //
		{2.3, 10, 10, true},              //
		{2.4, 10, 10, true},              //
		{2.5, 10, 10, true},              //
		{2.6, 10, 10, true},              //
		{2.7, 10, 10, true},              //
		{2.8, 10, 10, true},              //
		{2.9, 10, 10, true},              //
		{3.0, 10, 10, true},              //
		{9.0, 10, 10, false},             // a long pause: not saturated, nothing changes
		{9.0 + 1e-3, 10, 10, false},      //
		{9.0 + 2e-3, 10, 10, false},      //
		{9.0 + 3e-3, 10, 10, false},      //
		{9.0 + 4e-3, 10, 10, false},      //
		{9.0 + 5e-3, 10, 10, false},      //
		{9.0 + 6e-3, 10, 10, false},      //
		{9.0 + 7e-3, 10, 10, true},       // eight attempts in 7 ms: saturated again
		{9.0 + 8e-3, 10, 10, true},       //
		{9.0 + 9e-3, 10, 10, true},       //
		{9.0 + 10e-3, 10, 10, true},      //
		{9.0 + 11e-3, 10, 10, true},      //
		{9.0 + 12e-3, 10, 10, true},      //
		{9.0 + 13e-3, 10, 10, true},      //
		{9.0 + 14e-3, 10, 10, true},      //
		{9.0 + 15e-3, 10, 10, true},      //
		{9.0 + 16e-3, 10, 10, true},      //
		{9.0 + 17e-3, 10, 10, true},      //
		{9.0 + 18e-3, 10, 10, true},      //
		{9.0 + 19e-3, 10, 10, true},      //
		{9.0 + 20e-3, 10, 10, true},      //
		{9.0 + 21e-3, 10, 10, true},      //
		{9.0 + 22e-3, 10, 10, true},      //
		{9.0 + 23e-3, 10, 10, true},      //
		{9.0 + 24e-3, 10, 10, true},      //
		{9.0 + 25e-3, 10, 10, true},      //
		{9.0 + 26e-3, 10, 10, true},      //
		{9.0 + 27e-3, 10, 10, true},      //
		{9.0 + 28e-3, 10, 10, true},      //
		{9.0 + 29e-3, 10, 10, true},      //
		{9.0 + 30e-3, 10, 10, true},      //
	}
	for i, s := range steps {
		l.Observe(sec(s.at), Signal{})
		lim := l.Limit(sec(s.at))
		if !near(lim.Rate, s.rate) || lim.Burst != s.burst {
			t.Fatalf("step %d (t=%.3f): got %+v want rate %v burst %v", i, s.at, lim, s.rate, s.burst)
		}
		if got := l.Saturated(sec(s.at)); got != s.saturated {
			t.Fatalf("step %d (t=%.3f): saturated got %v want %v", i, s.at, got, s.saturated)
		}
	}
	if l.Ceiling() != 10 || l.Knee() != 0 {
		t.Fatalf("ceiling %v knee %v, want 10 and 0: nothing was throttled", l.Ceiling(), l.Knee())
	}
}

// warm returns a learner seeded 10/s burst 10 that ran alone at the seed for
// 11 s (110 calls: no longer cold, nor young) without a throttle.
func warm(t *testing.T, o ...Options) (*Learner, float64) {
	t.Helper()
	var opts Options
	if len(o) > 0 {
		opts = o[0]
	} else {
		opts.CeilingProbeAfter = 1000 // no probe above the seed in these tests
	}
	l := NewLearner(ratelimit.Limit{Rate: 10, Burst: 10}, opts)
	end := feed(l, 0, 11, 10)
	if l.Rate(sec(end)) != 10 {
		t.Fatalf("warm-up: rate %v, want 10", l.Rate(sec(end)))
	}
	return l, end
}

// TestCutToMeasuredShare: the rate after a throttle is the share measured
// between two throttles (exact: the bucket was empty at both), less the
// margin and the yield.
func TestCutToMeasuredShare(t *testing.T) {
	l, now := warm(t)
	keep := func(m float64) float64 { return 1 - DefaultMargin - DefaultYield*(1-m/10) }

	// First throttle: no earlier throttle, so the window of the last 16
	// attempts measures: 14 accepted after the first, plus half a call,
	// over 15 intervals of 0.1 s.
	l.Observe(sec(now), Signal{Kind: Throttled})
	w := 14.5 / 1.5
	want := w * keep(w)
	if got := l.Rate(sec(now)); !near(got, want) {
		t.Fatalf("first throttle: rate %v want %v", got, want)
	}
	if !near(l.Knee(), w) || l.Ceiling() != 10 {
		t.Fatalf("first throttle: knee %v ceiling %v, want %v and 10", l.Knee(), l.Ceiling(), w)
	}

	// Then 8 accepted per second for 2 s and another throttle: 16 calls
	// between two empty-bucket instants 2 s apart is a share of 8/s.
	start := now
	for i := 1; i <= 16; i++ {
		l.Observe(sec(start+float64(i)*0.125), Signal{})
	}
	l.Observe(sec(start+2), Signal{Kind: Throttled})
	if got, want := l.Rate(sec(start+2)), 8*keep(8); !near(got, want) {
		t.Fatalf("second throttle: rate %v want %v", got, want)
	}
	if l.Knee() != 8 {
		t.Fatalf("second throttle: knee %v want 8", l.Knee())
	}
	if !l.Contended() {
		t.Fatal("throttled and under the ceiling: want contended")
	}
}

// TestLoneThrottleAtShare: a throttle while the client holds at or under
// its measured share does not cut; a repeat trims.
func TestLoneThrottleAtShare(t *testing.T) {
	l, now := warm(t)
	l.Observe(sec(now), Signal{Kind: Throttled})
	r1 := l.Rate(sec(now))
	// 10 calls accepted a little faster than the new rate, then a
	// throttle: the share since the last throttle is above the rate.
	t1 := now
	for i := 1; i <= 10; i++ {
		t1 = now + float64(i)/(1.1*r1)
		l.Observe(sec(t1), Signal{})
	}
	l.Observe(sec(t1+1e-3), Signal{Kind: Throttled})
	if got := l.Rate(sec(t1)); got != r1 {
		t.Fatalf("lone throttle at the share: rate %v, want unchanged %v", got, r1)
	}
	l.Observe(sec(t1+2e-3), Signal{Kind: Throttled})
	if got := l.Rate(sec(t1)); got >= r1 {
		t.Fatalf("repeated throttle: rate %v, want under %v", got, r1)
	}
}

// TestColdCrowdShare: a learner throttled while cold takes a 1/Peers share.
func TestColdCrowdShare(t *testing.T) {
	for i, s := range []struct {
		peers int
		want  float64
	}{{0, 10.0 / 16}, {4, 2.5}, {32, 10.0 / 32}} {
		l := NewLearner(ratelimit.Limit{Rate: 10, Burst: 10}, Options{Peers: s.peers})
		feed(l, 0, 0.5, 10)
		l.Observe(sec(0.5), Signal{Kind: Throttled})
		if got := l.Rate(sec(0.5)); !near(got, s.want) {
			t.Errorf("step %d: peers %d: got %v want %v", i, s.peers, got, s.want)
		}
	}
}

// TestNoMeasurementHalvesOncePerReaction: without any measurement a throttle
// halves the rate, and a throttle on a request sent before that cut does not
// cut again.
func TestNoMeasurementHalvesOncePerReaction(t *testing.T) {
	l, now := warm(t)
	l.marks.clear()
	l.recent.clear()
	l.Observe(sec(now), Signal{Kind: Throttled, Sent: sec(now - 0.01)})
	if got := l.Rate(sec(now)); got != 5 {
		t.Fatalf("first: got %v want 5", got)
	}
	l.Observe(sec(now+0.001), Signal{Kind: Throttled, Sent: sec(now - 0.005)})
	if got := l.Rate(sec(now)); got != 5 {
		t.Fatalf("stale throttle: got %v want 5 (sent before the cut)", got)
	}
	l.Observe(sec(now+0.3), Signal{Kind: Throttled, Sent: sec(now + 0.2)})
	if got := l.Rate(sec(now)); got != 2.5 {
		t.Fatalf("fresh throttle: got %v want 2.5", got)
	}
}

// TestCeilingNeedsProof: at the ceiling, a probe above it cannot raise the
// ceiling on the strength of a full bucket alone; a raised quota is proved
// and followed.
func TestCeilingNeedsProof(t *testing.T) {
	// A bucket of 10/s burst 10, full when the probe starts: the probe
	// drains the 10 tokens, then gets throttled.
	l, now := warm(t, Options{CeilingProbeAfter: 200})
	var bucket = 10.0
	last := now
	for i := 0; i < 400; i++ {
		r := l.Rate(sec(now))
		now += 1 / r
		bucket = math.Min(10, bucket+(now-last)*10)
		last = now
		if bucket < 1 {
			l.Observe(sec(now), Signal{Kind: Throttled})
			break
		}
		bucket--
		l.Observe(sec(now), Signal{})
		if l.Ceiling() > 10 {
			t.Fatalf("call %d: ceiling %v raised above the unchanged quota", i, l.Ceiling())
		}
	}
	if l.Ceiling() != 10 {
		t.Fatalf("ceiling %v, want 10", l.Ceiling())
	}

	// Quota raised to 20: accepted at whatever the learner sends.
	l2, now2 := warm(t, Options{CeilingProbeAfter: 200})
	for i := 0; i < 400; i++ {
		now2 += 1 / l2.Rate(sec(now2))
		l2.Observe(sec(now2), Signal{})
	}
	if c := l2.Ceiling(); c <= 10 || c > l2.Rate(sec(now2)) {
		t.Fatalf("raised quota: ceiling %v, want above the seed and at most the rate %v", c, l2.Rate(sec(now2)))
	}
}

func TestOutcomeOf(t *testing.T) {
	err := errors.New("boom")
	for i, s := range []struct {
		at   governor.Attempt
		want Kind
	}{
		{governor.Attempt{}, Accepted},
		{governor.Attempt{Err: err, Info: awserr.Info{Class: awserr.ClassRateThrottle, Status: 429, RetryAfter: time.Second}}, Throttled},
		{governor.Attempt{Err: err, Info: awserr.Info{Class: awserr.ClassClientFault, Status: 400}}, Accepted},
		{governor.Attempt{Err: err, Info: awserr.Info{Class: awserr.ClassConcurrencyQuota, Status: 429}}, Accepted},
		{governor.Attempt{Err: err, Info: awserr.Info{Class: awserr.ClassTransient, Status: 500}}, Accepted},
		{governor.Attempt{Err: err, Info: awserr.Info{Class: awserr.ClassTransient}}, Ignored},
		{governor.Attempt{Err: err, Info: awserr.Info{Class: awserr.ClassCanceled}}, Ignored},
	} {
		got := SignalOf(s.at)
		if got.Kind != s.want {
			t.Errorf("step %d: got %v want %v", i, got.Kind, s.want)
		}
		if s.want == Throttled && got.RetryAfter != time.Second {
			t.Errorf("step %d: retry-after %v want 1s", i, got.RetryAfter)
		}
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{Margin: 0.8, Yield: 0.5, Beta: 2, ProbeAfter: 64, ProbeAfterMax: 8, StartFraction: 3}.withDefaults()
	for i, s := range []struct {
		got, want float64
	}{
		{o.Margin, DefaultMargin}, {o.Yield, DefaultYield}, // together over 0.9: both reset
		{o.Beta, DefaultBeta},
		{float64(o.ProbeAfterMax), 64},
		{o.StartFraction, 1},
		{float64(o.Peers), DefaultPeers},
		{float64(o.Lag), DefaultLag},
		{o.MaxReferenceAge.Seconds(), DefaultMaxReferenceAge.Seconds()},
	} {
		if s.got != s.want {
			t.Errorf("step %d: got %v want %v", i, s.got, s.want)
		}
	}
}

// TestCeilingProbeLag: a learner whose limit takes hold Lag calls late (a
// fleet sharing it) ramps above the ceiling Lag² times slower; under the
// ceiling the ramp does not change.
func TestCeilingProbeLag(t *testing.T) {
	// ramp returns the rate n calls after a probe above the ceiling began,
	// for a learner sending at its own rate and never throttled.
	ramp := func(lag, n int) float64 {
		l, now := warm(t, Options{CeilingProbeAfter: 150, Lag: lag})
		for l.Rate(sec(now)) <= 10 {
			now += 1 / l.Rate(sec(now))
			l.Observe(sec(now), Signal{})
		}
		for range n {
			now += 1 / l.Rate(sec(now))
			l.Observe(sec(now), Signal{})
		}
		return l.Rate(sec(now))
	}
	lone1, fleet16 := ramp(1, 8), ramp(16, 8*16*16)
	for i, s := range []struct{ got, lo, hi float64 }{
		{lone1, 10.5, 15},          // a lone client climbs within a few calls
		{ramp(16, 8*16), 10, 10.5}, // a fleet of 16 barely moves in 16 times as many
		{fleet16, 10.5, 15},        // and moves as far in 256 times as many
	} {
		if s.got < s.lo || s.got > s.hi {
			t.Errorf("step %d: rate %v, want in [%v, %v]", i, s.got, s.lo, s.hi)
		}
	}
	// Under the ceiling (after a cut) the ramp is the same whatever the lag.
	under := func(lag int) float64 {
		l, now := warm(t, Options{CeilingProbeAfter: 1000, Lag: lag})
		l.Observe(sec(now), Signal{Kind: Throttled})
		for range 40 {
			now += 1 / l.Rate(sec(now))
			l.Observe(sec(now), Signal{})
		}
		return l.Rate(sec(now))
	}
	if a, b := under(1), under(16); a != b {
		t.Errorf("under the ceiling: rate %v with Lag 1, %v with Lag 16, want equal", a, b)
	}
}
