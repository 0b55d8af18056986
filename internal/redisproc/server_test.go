package redisproc

import (
	"bufio"
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestStartKillRestart(t *testing.T) {
	s := launchT(t, Options{Password: "s3cret"})
	if err := s.ping(s.Addr); err != nil {
		t.Fatalf("ping: %v", err)
	}
	// Without the password the server refuses commands.
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := command(c, bufio.NewReader(c), "PING"); err == nil {
		t.Errorf("PING without AUTH succeeded; want NOAUTH")
	}
	c.Close()
	s.Kill()
	if err := s.ping(s.Addr); err == nil {
		t.Fatalf("ping after Kill succeeded")
	}
	port := s.Port
	if err := s.Relaunch(); err != nil {
		t.Fatal(err)
	}
	if s.Port != port {
		t.Errorf("restart port: got %d want %d", s.Port, port)
	}
	if err := s.ping(s.Addr); err != nil {
		t.Fatalf("ping after Restart: %v", err)
	}
}

func TestTLS(t *testing.T) {
	s := launchT(t, Options{TLS: true})
	if got := s.URL(); got[:9] != "rediss://" {
		t.Errorf("URL: got %q want rediss://", got)
	}
	c, err := tls.Dial("tcp", s.Addr, s.TLSConfig())
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer c.Close()
	if err := command(c, bufio.NewReader(c), "PING"); err != nil {
		t.Fatalf("PING over TLS: %v", err)
	}
	// A plaintext client gets nothing useful from the TLS port.
	p, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_ = p.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if err := command(p, bufio.NewReader(p), "PING"); err == nil {
		t.Errorf("plaintext PING on the TLS port succeeded")
	}
}

// launchT launches a server for a test; it fails with CI=true and skips
// otherwise when redis-server is missing.
func launchT(t *testing.T, o Options) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server not found: %v", err)
		}
		t.Skipf("redis-server not found; skipping: %v", err)
	}
	s, err := Launch(o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}
