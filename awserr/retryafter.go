package awserr

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter bounds any server-suggested delay; larger values are clamped.
const MaxRetryAfter = time.Hour

// RetryAfter returns the delay a response asks for: x-amz-retry-after (an
// integer number of milliseconds, as sent by AWS and honoured by
// aws-sdk-go-v2 v1.48+) wins over the standard Retry-After (seconds or an
// HTTP-date). Invalid or negative values are ignored; 0 means no hint.
// It is shorthand for RetryAfterAt(h, time.Now()).
func RetryAfter(h http.Header) time.Duration { return RetryAfterAt(h, time.Now()) }

// RetryAfterAt is RetryAfter with an explicit clock for HTTP-date values.
func RetryAfterAt(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := strings.TrimSpace(h.Get("X-Amz-Retry-After")); v != "" {
		if d, ok := parseInt(v, time.Millisecond); ok {
			return d
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		return parseRetryAfter(v, now)
	}
	return 0
}

// parseRetryAfter parses an RFC 9110 Retry-After value: delay-seconds or an
// HTTP-date. It returns 0 for anything invalid or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		d, _ := parseInt(v, time.Second)
		return d
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	switch {
	case d <= 0:
		return 0
	case d > MaxRetryAfter:
		return MaxRetryAfter
	}
	return d
}

// parseInt parses a non-negative decimal count of unit, clamped to
// MaxRetryAfter. ok is false if v is not such a number.
func parseInt(v string, unit time.Duration) (time.Duration, bool) {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return MaxRetryAfter, true
		}
		return 0, false
	}
	if n > uint64(MaxRetryAfter/unit) {
		return MaxRetryAfter, true
	}
	return time.Duration(n) * unit, true
}
