package triage

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// count formats n with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// num formats a rate or ratio compactly: 2, 0.25, 8.5, 12.3.
func num(v float64) string {
	switch {
	case math.IsInf(v, 0) || math.IsNaN(v):
		return "?"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatInt(int64(v), 10)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// pct formats part/whole as a percentage.
func pct(part, whole int64) string {
	if whole <= 0 {
		return "0%"
	}
	p := float64(part) * 100 / float64(whole)
	if p >= 10 || p == math.Trunc(p) {
		return fmt.Sprintf("%.0f%%", p)
	}
	return fmt.Sprintf("%.1f%%", p)
}

// dur formats seconds as "45 s", "12 min", "2.5 h".
func dur(sec int64) string {
	switch {
	case sec < 120:
		return fmt.Sprintf("%d s", sec)
	case sec < 2*3600:
		return fmt.Sprintf("%s min", num(math.Round(float64(sec)/6)/10))
	}
	return fmt.Sprintf("%s h", num(math.Round(float64(sec)/360)/10))
}

// clock formats a time of day in UTC.
func clock(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.UTC().Format("15:04:05")
}

// stamp formats a full UTC timestamp.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
