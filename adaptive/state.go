package adaptive

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// stateVersion is the version of the encoding written by MarshalBinary.
const stateVersion = 1

// ErrBadState is matched (errors.Is) by the error of UnmarshalBinary when
// the data is not a learner's state this version can read.
var ErrBadState = errors.New("adaptive: bad learner state")

// learnerState is the encoded form of a Learner: its options and every
// field of its state. Times are Unix nanoseconds, 0 for the zero time.
type learnerState struct {
	V          int             `json:"v"`
	O          Options         `json:"o"`
	Seed       ratelimit.Limit `json:"seed"`
	Rate       float64         `json:"rate"`
	Ceiling    float64         `json:"ceil"`
	Knee       float64         `json:"knee"`
	Accepted   int64           `json:"acc"`
	WarmRun    int             `json:"warmRun"`
	Throttled  bool            `json:"thr,omitempty"`
	Slow       bool            `json:"slow,omitempty"`
	Warm       bool            `json:"warm,omitempty"`
	Probing    bool            `json:"probing,omitempty"`
	StepTo     float64         `json:"stepTo"`
	HoldStart  int64           `json:"holdStart"`
	ProbeAfter int             `json:"probeAfter"`
	Clean      int             `json:"clean"`
	CeilRun    int             `json:"ceilRun"`
	CeilAfter  int             `json:"ceilAfter"`
	ProbeStart int64           `json:"probeStart"`
	ProbeAcc   int64           `json:"probeAcc"`
	LastCut    int64           `json:"lastCut"`
	LastGrow   int64           `json:"lastGrow"`
	Freeze     int64           `json:"freeze"`
	LastSeen   int64           `json:"lastSeen"`
	FirstSeen  int64           `json:"firstSeen"`
	Marks      [][2]int64      `json:"marks"`  // oldest first: time, accepted count
	Recent     []int64         `json:"recent"` // oldest first: time, negated when throttled
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// MarshalBinary encodes the learner's options and state, for a shared
// Store. A learner decoded from it with UnmarshalBinary behaves exactly
// like this one (times keep nanosecond precision, without monotonic
// readings).
func (l *Learner) MarshalBinary() ([]byte, error) {
	s := learnerState{
		V: stateVersion, O: l.o, Seed: l.seed,
		Rate: l.rate, Ceiling: l.ceiling, Knee: l.knee,
		Accepted: l.accepted, WarmRun: l.warmRun,
		Throttled: l.throttled, Slow: l.slow, Warm: l.warm, Probing: l.probing,
		StepTo: l.stepTo, HoldStart: unixNano(l.holdStart), ProbeAfter: l.probeAfter, Clean: l.clean,
		CeilRun: l.ceilRun, CeilAfter: l.ceilAfter, ProbeStart: unixNano(l.probeStart), ProbeAcc: l.probeAcc,
		LastCut: unixNano(l.lastCut), LastGrow: unixNano(l.lastGrow), Freeze: unixNano(l.freeze),
		LastSeen: unixNano(l.lastSeen), FirstSeen: unixNano(l.firstSeen),
		Marks:  make([][2]int64, l.marks.len()),
		Recent: make([]int64, l.recent.len()),
	}
	for i := range s.Marks {
		m := l.marks.at(i)
		s.Marks[i] = [2]int64{unixNano(m.t), m.acc}
	}
	for i := range s.Recent {
		e := l.recent.at(i)
		s.Recent[i] = unixNano(e.t)
		if e.throttled {
			s.Recent[i] = -s.Recent[i]
		}
	}
	return json.Marshal(s)
}

// UnmarshalBinary replaces l with the learner encoded by MarshalBinary. The
// error wraps ErrBadState when data is not such an encoding.
func (l *Learner) UnmarshalBinary(data []byte) error {
	var s learnerState
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("%w: %v", ErrBadState, err)
	}
	if s.V != stateVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadState, s.V, stateVersion)
	}
	if len(s.Marks) > nMarks || len(s.Recent) > nRecent {
		return fmt.Errorf("%w: %d marks, %d recent attempts (at most %d and %d)", ErrBadState, len(s.Marks), len(s.Recent), nMarks, nRecent)
	}
	if !(s.Seed.Rate > 0) || !(s.Seed.Burst >= 1) || !(s.Rate > 0) || !(s.Ceiling > 0) {
		return fmt.Errorf("%w: seed %+v, rate %v, ceiling %v", ErrBadState, s.Seed, s.Rate, s.Ceiling)
	}
	n := NewLearner(s.Seed, s.O)
	n.rate, n.ceiling, n.knee = s.Rate, s.Ceiling, s.Knee
	n.accepted, n.warmRun = s.Accepted, s.WarmRun
	n.throttled, n.slow, n.warm, n.probing = s.Throttled, s.Slow, s.Warm, s.Probing
	n.stepTo, n.holdStart, n.probeAfter, n.clean = s.StepTo, fromUnixNano(s.HoldStart), s.ProbeAfter, s.Clean
	n.ceilRun, n.ceilAfter, n.probeStart, n.probeAcc = s.CeilRun, s.CeilAfter, fromUnixNano(s.ProbeStart), s.ProbeAcc
	n.lastCut, n.lastGrow, n.freeze = fromUnixNano(s.LastCut), fromUnixNano(s.LastGrow), fromUnixNano(s.Freeze)
	n.lastSeen, n.firstSeen = fromUnixNano(s.LastSeen), fromUnixNano(s.FirstSeen)
	for _, m := range s.Marks {
		n.marks.push(mark{t: fromUnixNano(m[0]), acc: m[1]})
	}
	for _, r := range s.Recent {
		e := event{t: fromUnixNano(r)}
		if r < 0 {
			e = event{t: fromUnixNano(-r), throttled: true}
		}
		n.recent.push(e)
	}
	n.trace = l.trace
	*l = *n
	return nil
}
