package poller

import "time"

// MaxStretch caps how far throttles stretch an operation's intervals.
const MaxStretch = 16

// stretch is one operation's interval multiplier: doubled when throttles
// appear (at most once per stretched interval, so one burst of 429s counts
// once), halved after each clean stretched interval, between 1 and
// MaxStretch. Its zero value is "not stretched".
type stretch struct {
	mult float64
	last time.Time // last change
}

// factor is the current multiplier (at least 1).
func (s *stretch) factor() float64 {
	if s.mult < 1 {
		return 1
	}
	return s.mult
}

// throttled records a throttle at now; base is the operation's shortest
// interval. It reports whether the multiplier changed.
func (s *stretch) throttled(now time.Time, base time.Duration) bool {
	f := s.factor()
	if !s.last.IsZero() && f > 1 && now.Sub(s.last) < scaled(base, f) {
		return false // already stretched for this burst
	}
	if f >= MaxStretch {
		s.last = now
		return false
	}
	s.mult = min(f*2, MaxStretch)
	s.last = now
	return true
}

// ok records a clean poll at now; it halves the multiplier once a whole
// stretched interval has passed since the last change. It reports whether
// the multiplier changed.
func (s *stretch) ok(now time.Time, base time.Duration) bool {
	f := s.factor()
	if f <= 1 || now.Sub(s.last) < scaled(base, f) {
		return false
	}
	s.mult = max(1, f/2)
	s.last = now
	return true
}

func scaled(d time.Duration, f float64) time.Duration { return time.Duration(float64(d) * f) }
