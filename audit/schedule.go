package audit

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Interval returns the shortest time between two runs of an EventBridge or
// Scheduler schedule expression: rate(N unit) or a six-field cron(…). For
// cron it reads the minutes field (a step, a list or *); when that names a
// single minute, the hours field; when that names a single hour, a day.
// Day-of-month, month, day-of-week and year fields only make runs rarer,
// so the result is a lower bound. one-time at(…) expressions return
// ok=false.
func Interval(expr string) (d time.Duration, ok bool, err error) {
	e := strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(e, "at(") && strings.HasSuffix(e, ")"):
		return 0, false, nil
	case strings.HasPrefix(e, "rate(") && strings.HasSuffix(e, ")"):
		f := strings.Fields(e[5 : len(e)-1])
		if len(f) != 2 {
			return 0, false, fmt.Errorf("schedule %q: want rate(value unit)", expr)
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n <= 0 {
			return 0, false, fmt.Errorf("schedule %q: rate value must be a positive integer", expr)
		}
		var unit time.Duration
		switch strings.TrimSuffix(f[1], "s") {
		case "second":
			unit = time.Second
		case "minute":
			unit = time.Minute
		case "hour":
			unit = time.Hour
		case "day":
			unit = 24 * time.Hour
		default:
			return 0, false, fmt.Errorf("schedule %q: unknown rate unit %q", expr, f[1])
		}
		return time.Duration(n) * unit, true, nil
	case strings.HasPrefix(e, "cron(") && strings.HasSuffix(e, ")"):
		f := strings.Fields(e[5 : len(e)-1])
		if len(f) != 6 {
			return 0, false, fmt.Errorf("schedule %q: cron needs 6 fields, got %d", expr, len(f))
		}
		mins, err := cronField(f[0], 0, 59)
		if err != nil {
			return 0, false, fmt.Errorf("schedule %q: minutes: %w", expr, err)
		}
		if len(mins) > 1 {
			return time.Duration(minGap(mins, 60)) * time.Minute, true, nil
		}
		hours, err := cronField(f[1], 0, 23)
		if err != nil {
			return 0, false, fmt.Errorf("schedule %q: hours: %w", expr, err)
		}
		if len(hours) > 1 {
			return time.Duration(minGap(hours, 24)) * time.Hour, true, nil
		}
		return 24 * time.Hour, true, nil
	}
	return 0, false, fmt.Errorf("schedule %q: want rate(…), cron(…) or at(…)", expr)
}

// cronField expands one cron field (*, ?, a value, a-b, x/step, lists) to
// its sorted values in [lo, hi].
func cronField(s string, lo, hi int) ([]int, error) {
	set := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		step := 1
		if base, st, ok := strings.Cut(part, "/"); ok {
			n, err := strconv.Atoi(st)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("bad step %q", part)
			}
			step, part = n, base
		}
		from, to := lo, hi
		switch {
		case part == "*" || part == "?":
		case strings.Contains(part, "-"):
			a, b, _ := strings.Cut(part, "-")
			x, err1 := strconv.Atoi(a)
			y, err2 := strconv.Atoi(b)
			if err1 != nil || err2 != nil || x < lo || y > hi || x > y {
				return nil, fmt.Errorf("bad range %q", part)
			}
			from, to = x, y
		default:
			x, err := strconv.Atoi(part)
			if err != nil || x < lo || x > hi {
				return nil, fmt.Errorf("bad value %q", part)
			}
			from = x
			if step == 1 {
				to = x
			}
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	out := make([]int, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Ints(out)
	return out, nil
}

// minGap is the least distance between consecutive values of the cycle of
// length period (sorted, len ≥ 2), counting the wrap-around.
func minGap(v []int, period int) int {
	g := v[0] + period - v[len(v)-1]
	for i := 1; i < len(v); i++ {
		g = min(g, v[i]-v[i-1])
	}
	return g
}

// rateExpr is the rate(…) expression for d rounded up to whole minutes.
func rateExpr(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "rate(1 minute)"
	}
	return fmt.Sprintf("rate(%d minutes)", m)
}
