package redis

import (
	"os"
	"os/exec"
	"testing"

	"github.com/tollgatehq/tollgate/internal/redisproc"
)

// Options configures a server (see redisproc.Options). The zero value is a
// plain server with no password.
type Options = redisproc.Options

// Server is one redis-server process started for a test.
type Server struct {
	*redisproc.Server
	t testing.TB
}

// Start starts a redis-server on a free loopback port and registers its
// cleanup with t. It fails the test if CI=true and redis-server is missing,
// and skips the test otherwise.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server not found on PATH (install Debian's redis-server): %v", err)
		}
		t.Skipf("redis-server not found on PATH; skipping (set CI=true to make this a failure): %v", err)
	}
	p, err := redisproc.Launch(o, t.TempDir())
	if err != nil {
		t.Fatalf("redis test server: %v", err)
	}
	s := &Server{Server: p, t: t}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			if log := p.Log(); log != "" {
				t.Logf("redis-server output:\n%s", log)
			}
		}
	})
	return s
}

// Restart starts the server again on the same port after Kill, failing the
// test if it cannot. The data is gone (the server keeps nothing on disk).
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.Relaunch(); err != nil {
		s.t.Fatalf("redis test server: %v", err)
	}
}
