package poller

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// DefaultShare is the share of each operation's quota the queries may use
// when Options.Share is 0.
const DefaultShare = 0.5

// ErrDoesNotFit matches every *FitError.
var ErrDoesNotFit = errors.New("poller: the queries do not fit in the quota share")

// FitError says which query makes an operation exceed its share of the
// quota, and the smallest interval that would fit.
type FitError struct {
	Op       string        // the operation over its share
	Query    string        // the query to slow down
	Interval time.Duration // its configured interval
	Smallest time.Duration // the smallest interval that fits (others unchanged, or all equal: see Together)
	Together []string      // when not empty: every query of Op needs at least Smallest
	Rate     float64       // the operation's quota (requests/s)
	Share    float64
}

func (e *FitError) Error() string {
	cap := e.Rate * e.Share
	if len(e.Together) > 0 {
		return fmt.Sprintf("poll queries %s on %s need %.3g calls/s together, more than %.0f%% of its quota of %g/s (%.3g/s): give each an interval of at least %v",
			strings.Join(e.Together, ", "), e.Op, float64(len(e.Together))/e.Interval.Seconds(), e.Share*100, e.Rate, cap, e.Smallest)
	}
	return fmt.Sprintf("poll query %q (%s every %v) does not fit in %.0f%% of the %s quota of %g/s (%.3g/s) with the other queries on it: the smallest interval that fits is %v",
		e.Query, e.Op, e.Interval, e.Share*100, e.Op, e.Rate, cap, e.Smallest)
}

// Is reports ErrDoesNotFit.
func (e *FitError) Is(target error) bool { return target == ErrDoesNotFit }

// Fit checks that the queries poll each operation at no more than share
// (0 < share ≤ 1; 0 means DefaultShare) of its rate, counting every query
// of one operation together, one call per poll. rate returns the
// operation's quota; an operation it does not know is not checked. When an
// operation is over, the error names its fastest query and the smallest
// interval (rounded up to 10 ms) that fits with the others unchanged, or,
// when the others alone already use the share, the interval every query of
// the operation needs.
func Fit(qs []Query, share float64, rate func(op string) (float64, bool)) error {
	if share == 0 {
		share = DefaultShare
	}
	byOp := map[string][]Query{}
	var ops []string
	for _, q := range qs {
		if _, ok := byOp[q.Op]; !ok {
			ops = append(ops, q.Op)
		}
		byOp[q.Op] = append(byOp[q.Op], q)
	}
	sort.Strings(ops)
	for _, op := range ops {
		r, ok := rate(op)
		if !ok || r <= 0 {
			continue
		}
		cap := r * share
		list := byOp[op]
		var sum float64
		for _, q := range list {
			sum += 1 / q.Interval.Seconds()
		}
		if sum <= cap*(1+1e-9) {
			continue
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].Interval < list[j].Interval })
		fastest := list[0]
		others := sum - 1/fastest.Interval.Seconds()
		e := &FitError{Op: op, Query: fastest.Name, Interval: fastest.Interval, Rate: r, Share: share}
		if left := cap - others; left > 0 {
			e.Smallest = roundUp(1 / left)
			// Rounding may still land a hair over: step up until it fits.
			for others+1/e.Smallest.Seconds() > cap*(1+1e-9) {
				e.Smallest += 10 * time.Millisecond
			}
		} else {
			e.Smallest = roundUp(float64(len(list)) / cap)
			for _, q := range list {
				e.Together = append(e.Together, q.Name)
			}
		}
		return e
	}
	return nil
}

// roundUp returns s seconds rounded up to 10 ms.
func roundUp(s float64) time.Duration {
	return time.Duration(math.Ceil(s*100-1e-9)) * 10 * time.Millisecond
}
