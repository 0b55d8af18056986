package redisx

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/ratelimit"
)

var accountSeq atomic.Int64

// uniqueAccount returns an account ID no other test in this process uses,
// so tests sharing a server do not share buckets.
func uniqueAccount() string {
	return fmt.Sprintf("%012d", 100000000000+accountSeq.Add(1))
}

// quietLogger discards log output unless -v.
func quietLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// testTimeout replaces the 50ms production timeout in tests that check
// shared-mode semantics: under -race on a loaded two-core machine a command
// (and the wait for a pooled connection behind two dozen goroutines) can
// take longer than half a second, and a timeout would (correctly) switch to
// fallback mode, which is tested on its own with its own timeouts. A
// killed server refuses at once, so this bound only matters to a live one.
const testTimeout = 5 * time.Second

// testOptions returns Options for srv with a fresh account.
func testOptions(t testing.TB, srv *redisenv.Server, acct ratelimit.Limit, ops map[string]ratelimit.Limit) Options {
	return Options{
		Timeout:      testTimeout,
		URL:          srv.URL(),
		TLSConfig:    srv.TLSConfig(),
		Account:      uniqueAccount(),
		Region:       "eu-west-2",
		AccountLimit: acct,
		Ops:          ops,
		Logger:       quietLogger(t),
	}
}

// newTestLimiter builds a Limiter closed at the end of the test.
func newTestLimiter(t testing.TB, o Options) *Limiter {
	t.Helper()
	l, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// eventually polls cond every 10ms until it holds or d passes.
// eventuallyWait bounds eventually's polls. It only stops a condition that
// never comes: a passing test waits no longer than the condition takes,
// and a busy machine can take seconds to run a heartbeat or a restart.
const eventuallyWait = 30 * time.Second

func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newLockedLogger logs text to b under mu.
func newLockedLogger(mu *sync.Mutex, b *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{mu, b}, nil))
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
