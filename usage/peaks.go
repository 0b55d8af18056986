package usage

import (
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/governor"
)

// SecondPeaks is a governor observer keeping, per operation, the busiest
// second of calls and the throttles: the bursts a one-minute CallCount sum
// hides. It is safe for concurrent use.
type SecondPeaks struct {
	mu  sync.Mutex
	ops map[string]*peak // requires mu held
}

type peak struct {
	sec       int64
	n, max    float64
	throttles float64
	min       int64   // the minute being counted (Unix s)
	cur, prev float64 // calls in that minute and in the one before
}

// NewSecondPeaks returns an empty SecondPeaks.
func NewSecondPeaks() *SecondPeaks { return &SecondPeaks{ops: map[string]*peak{}} }

var _ governor.Observer = (*SecondPeaks)(nil)

// ObserveAttempt counts the attempt in the second it started.
func (p *SecondPeaks) ObserveAttempt(a governor.Attempt) {
	sec := a.Start.Unix()
	p.mu.Lock()
	defer p.mu.Unlock()
	x := p.ops[a.Op]
	if x == nil {
		x = &peak{sec: sec}
		p.ops[a.Op] = x
	}
	if sec != x.sec {
		x.sec, x.n = sec, 0
	}
	x.n++
	x.max = max(x.max, x.n)
	if m := sec / 60 * 60; m != x.min {
		if m == x.min+60 {
			x.prev = x.cur
		} else {
			x.prev = 0
		}
		x.min, x.cur = m, 0
	}
	x.cur++
	if a.Err != nil && a.Info.Class == awserr.ClassRateThrottle {
		x.throttles++
	}
}

// ObserveOutcome does nothing.
func (p *SecondPeaks) ObserveOutcome(governor.Outcome) {}

// Merge sets PeakSecond and Throttles of the operations in u that p has
// seen, adding the ones with no CloudWatch data.
func (p *SecondPeaks) Merge(u map[string]Usage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for op, x := range p.ops {
		v := u[op]
		v.Op = op
		v.PeakSecond = max(v.PeakSecond, x.max)
		v.Throttles = max(v.Throttles, x.throttles)
		u[op] = v
	}
}

// Rate is one operation's recent use.
type Rate struct {
	LastMinute float64 // average calls/s over the last complete minute
	PeakSecond float64 // busiest second since the start
}

// Rates returns each operation's recent use at now.
func (p *SecondPeaks) Rates(now time.Time) map[string]Rate {
	m := now.Unix() / 60 * 60
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]Rate, len(p.ops))
	for op, x := range p.ops {
		r := Rate{PeakSecond: x.max}
		switch x.min {
		case m:
			r.LastMinute = x.prev / 60
		case m - 60:
			r.LastMinute = x.cur / 60
		}
		out[op] = r
	}
	return out
}
