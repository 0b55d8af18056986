package adaptive

import "time"

// Defaults used when the corresponding Options field is zero.
const (
	DefaultMargin            = 0.05
	DefaultYield             = 0.1
	DefaultBeta              = 0.5
	DefaultPeers             = 16
	DefaultLag               = 1
	DefaultProbeAfter        = 16
	DefaultProbeAfterMax     = 32
	DefaultProbeStep         = 0.0625
	DefaultProbeDoubling     = 16
	DefaultCeilingProbeAfter = 100
	DefaultCeilingProbeMax   = 200
	DefaultCeilingStep       = 0.5
	DefaultStartFraction     = 0.25
	DefaultSlowStartDoubling = 2
	DefaultMinFraction       = 0.001
	DefaultMaxReferenceAge   = 64 * time.Second
)

// Options tunes a Learner. The zero value means every default; the defaults
// are the ones the package documentation reasons about and the bench measures.
// Counts and times are expressed in calls at the seeded rate, so a learner
// behaves the same at any rate (a bench run at ten times the quota is the
// same run, ten times faster).
type Options struct {
	// Margin is how far under the measured available rate the learner holds
	// after a throttle: rate = available × (1 − Margin − …). Default 0.05.
	Margin float64

	// Yield is how much more than Margin a client gives back at a throttle
	// when it holds a small share of the ceiling: the cut keeps
	// 1 − Margin − Yield × (1 − share/ceiling) of the measured rate. A lone
	// client at the quota yields Margin; a member of a crowd about
	// Margin + Yield, which settles the crowd under the quota. Default 0.1.
	Yield float64

	// Beta is the multiplicative cut used when a throttle arrives without
	// any measurement. Default 0.5.
	Beta float64

	// Peers is the crowd size the learner is tuned for: the number of
	// independent clients (processes) expected to share one bucket without
	// coordination. A client that meets throttles right after it starts
	// takes a 1/Peers share of the seed and probes from there; probing is
	// paced so that a crowd of up to Peers members converges to fair shares
	// at a few throttles per hundred calls. A larger crowd needs a larger
	// Peers (or shared state: the Redis limiter). Default 16.
	Peers int

	// Lag is how many calls go out at the old limit after the learner
	// changes it: calls already admitted or in flight when a throttle
	// arrives. A lone client's next call obeys the new limit (Lag 1); a
	// fleet sharing one learner through a Store has about one call admitted
	// ahead per process (its reservation in the shared bucket), so it reacts
	// about as many calls late. Above the ceiling every one of those calls
	// is over the quota, so the probe above the ceiling ramps Lag² times
	// slower (see the package documentation); a raised quota is then found
	// that much later. Under the ceiling the rate never exceeds the quota,
	// and the ramp is unchanged. Set it to the fleet's size for a shared
	// learner. Default 1.
	Lag int

	// ProbeAfter is the hold between probe steps, in calls: at the client's
	// own rate for a client holding more than a 1/Peers share, at the rate
	// of a 1/Peers share otherwise (so every member of a crowd probes
	// equally often). Each new throttle episode doubles it, up to
	// ProbeAfterMax. Defaults 16 and 32.
	ProbeAfter    int
	ProbeAfterMax int

	// ProbeStep is the size of one probe step, as a fraction of the rate
	// (of a 1/Peers share for a smaller client). Each clean step doubles
	// the next, up to 8×, for a client holding more than two shares.
	// Default 0.0625.
	ProbeStep float64

	// ProbeDoubling sets how fast a probe step is taken: the rate would
	// double in the time the seeded rate takes for ProbeDoubling calls.
	// Default 16.
	ProbeDoubling int

	// CeilingProbeAfter is how many accepted calls the learner must see at
	// the ceiling (the seeded rate, or a higher one a probe proved), while
	// saturated and without a throttle, before it probes above it. It
	// doubles after each failed probe up to CeilingProbeMax. Defaults 100
	// and 200.
	CeilingProbeAfter int
	CeilingProbeMax   int

	// CeilingStep bounds a probe above the ceiling: the rate may exceed the
	// ceiling by at most this fraction. The ceiling itself only moves up to
	// what the probe proves (accepted calls minus the seeded burst, over the
	// probe's time), so a full bucket cannot fool it. Default 0.5.
	CeilingStep float64

	// StartFraction is where a new learner starts, as a fraction of the
	// seeded rate; it then doubles every SlowStartDoubling seed-rate calls
	// while nothing is throttled, up to the seed. Defaults 0.25 and 2.
	StartFraction     float64
	SlowStartDoubling int

	// MinFraction is the floor of the rate, as a fraction of the seed.
	// Default 0.001.
	MinFraction float64

	// MaxReferenceAge bounds how old a throttle may be to start a
	// measurement; after an idle period this long the learner also forgets
	// its probe schedule. Default 64 s.
	MaxReferenceAge time.Duration
}

func (o Options) withDefaults() Options {
	def := func(v *float64, d float64) {
		if !(*v > 0) {
			*v = d
		}
	}
	defi := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Margin, DefaultMargin)
	def(&o.Yield, DefaultYield)
	if o.Margin+o.Yield > 0.9 {
		o.Margin, o.Yield = DefaultMargin, DefaultYield
	}
	def(&o.Beta, DefaultBeta)
	if o.Beta >= 1 {
		o.Beta = DefaultBeta
	}
	defi(&o.Peers, DefaultPeers)
	defi(&o.Lag, DefaultLag)
	defi(&o.ProbeAfter, DefaultProbeAfter)
	defi(&o.ProbeAfterMax, DefaultProbeAfterMax)
	o.ProbeAfterMax = max(o.ProbeAfterMax, o.ProbeAfter)
	def(&o.ProbeStep, DefaultProbeStep)
	defi(&o.ProbeDoubling, DefaultProbeDoubling)
	defi(&o.CeilingProbeAfter, DefaultCeilingProbeAfter)
	defi(&o.CeilingProbeMax, DefaultCeilingProbeMax)
	o.CeilingProbeMax = max(o.CeilingProbeMax, o.CeilingProbeAfter)
	def(&o.CeilingStep, DefaultCeilingStep)
	def(&o.StartFraction, DefaultStartFraction)
	if o.StartFraction > 1 {
		o.StartFraction = 1
	}
	defi(&o.SlowStartDoubling, DefaultSlowStartDoubling)
	def(&o.MinFraction, DefaultMinFraction)
	if o.MaxReferenceAge <= 0 {
		o.MaxReferenceAge = DefaultMaxReferenceAge
	}
	return o
}
