package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/redisx"
)

// ErrRedisAuth: Redis refused limits.redis_url's credentials. It is a
// configuration error and fails the start; an unreachable Redis does not
// (the limiter falls back to local buckets until Redis answers).
var ErrRedisAuth = errors.New("Redis refused the credentials")

// redisAuthTimeout bounds the start-up check: long enough for a Redis in
// another zone or a TLS handshake on a busy machine, short enough for the
// start of a process whose Redis is down.
const redisAuthTimeout = 3 * time.Second

// checkRedisAuth pings Redis once at start. A refusal of the credentials
// (WRONGPASS, NOAUTH, NOPERM, an invalid password) is returned as
// ErrRedisAuth naming the field; any other failure (Redis down, slow,
// unresolvable) returns nil and is left to the limiter's fallback.
func checkRedisAuth(ctx context.Context, l config.Limits) error {
	c, err := redisx.NewClient(redisx.Options{URL: l.RedisURL, Timeout: max(l.RedisTimeout, redisAuthTimeout)})
	if err != nil {
		return fmt.Errorf("limits.redis_url: %w", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, redisAuthTimeout)
	defer cancel()
	err = c.Ping(ctx).Err()
	if err == nil || !isAuthError(err) {
		return nil
	}
	return fmt.Errorf("limits.redis_url (%s): %w: %s; check the user name and password (a Redis that is down would only make the limiter fall back, but wrong credentials never heal)",
		redisx.RedactURL(l.RedisURL), ErrRedisAuth, firstLine(err.Error()))
}

// isAuthError recognises Redis's answers to bad or missing credentials.
func isAuthError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"WRONGPASS", "NOAUTH", "NOPERM"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	low := strings.ToLower(msg)
	return strings.Contains(low, "invalid password") || strings.Contains(low, "invalid username-password") ||
		strings.Contains(low, "auth <password> called without any password configured")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
