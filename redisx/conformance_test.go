package redisx

import (
	"testing"

	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/ratelimit/ratelimittest"
)

// TestConformance runs the suite every Limiter passes, with leasing on (the
// default) and off.
func TestConformance(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	for _, lease := range []bool{true, false} {
		name := "lease"
		if !lease {
			name = "nolease"
		}
		t.Run(name, func(t *testing.T) {
			ratelimittest.Run(t, func(t *testing.T, account ratelimit.Limit, ops map[string]ratelimit.Limit) ratelimit.Limiter {
				o := testOptions(t, srv, account, ops)
				o.Lease.Disabled = !lease
				l := newTestLimiter(t, o)
				t.Cleanup(func() { assertShared(t, l) })
				return l
			})
		})
	}
}

// assertShared fails the test if l ever left shared mode or never asked
// Redis: a suite passed on local fallback buckets proves nothing.
func assertShared(t *testing.T, l *Limiter) {
	t.Helper()
	s := l.Stats()
	if s.RedisErrors != 0 || s.Fallbacks != 0 || s.LocalAdmits != 0 {
		t.Errorf("limiter left shared mode: %+v", s)
	}
	if s.RoundTrips == 0 {
		t.Errorf("limiter never ran the admission script: %+v", s)
	}
}
