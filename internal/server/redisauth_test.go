package server_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/queue"
)

// TestServeRedisWrongPassword: a Redis that refuses the credentials (wrong
// or missing password) fails the start with an error naming
// limits.redis_url, not a WARN and fallback forever; neither the error nor
// the log shows the password.
func TestServeRedisWrongPassword(t *testing.T) {
	rs := redisenv.Start(t, redisenv.Options{Password: "the-right-one-3b9e"})
	u, err := url.Parse(rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	type step struct{ name, url, secret string }
	wrong := *u
	wrong.User = url.UserPassword("", "wrong-pass-5c1d")
	none := *u
	none.User = nil
	for i, st := range []step{
		{"wrong password", wrong.String(), "wrong-pass-5c1d"},
		{"no password", none.String(), ""},
	} {
		cfg := config.Default()
		cfg.DataDir, cfg.Token, cfg.AWS.Endpoint = t.TempDir(), testToken, "http://connect.sim.local"
		cfg.Limits.RedisURL, cfg.Limits.Account = st.url, "123456789012"
		var logs syncBuffer
		s, err := server.New(context.Background(), cfg, app.Options{
			AWS:    staticAWSFor(newSim(t)),
			Queue:  queue.NewMemory(queue.MemoryOptions{}),
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		})
		if err == nil {
			mode := s.App().Admission.Shared.Mode()
			_ = s.App().Close()
			t.Fatalf("step %d (%s): the start succeeded (limiter mode %v)", i, st.name, mode)
		}
		if !errors.Is(err, app.ErrRedisAuth) || !strings.Contains(err.Error(), "limits.redis_url") {
			t.Fatalf("step %d (%s): got %v, want ErrRedisAuth naming limits.redis_url", i, st.name, err)
		}
		if st.secret != "" && (strings.Contains(err.Error(), st.secret) || strings.Contains(logs.String(), st.secret)) {
			t.Fatalf("step %d (%s): the password is shown:\n%v\n%s", i, st.name, err, logs.String())
		}
	}
}
