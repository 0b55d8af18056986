package redisproc

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotFound is returned (wrapped) by Launch when redis-server is not on
// PATH.
var ErrNotFound = errors.New("redis-server not found on PATH (install Debian's redis-server)")

// Options configures a server. The zero value is a plain server with no
// password.
type Options struct {
	// Password, if set, is required from clients (requirepass).
	Password string
	// TLS makes the server listen with TLS only (no plaintext port), with a
	// certificate for 127.0.0.1 signed by a CA generated for it.
	TLS bool
	// Args are extra redis-server arguments, e.g. "--maxmemory", "10mb".
	Args []string
}

// Server is one redis-server process.
type Server struct {
	// Addr is host:port of the server (the TLS port when Options.TLS).
	Addr string
	// Port is the port of Addr.
	Port int

	opts     Options
	bin      string
	dir      string
	ownDir   bool
	tlsFiles tlsFiles
	clientCA *tls.Config

	out *lockedBuffer // the process's output, kept across restarts

	mu     sync.Mutex  // guards proc, exited
	proc   *os.Process // nil when not running
	exited <-chan error
}

// Launch starts a redis-server on a free loopback port. Its files go in
// dir; an empty dir means a temporary directory of its own, removed by
// Close. The caller must Close the server.
func Launch(o Options, dir string) (*Server, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "tollgate-redis-")
		if err != nil {
			return nil, err
		}
		s, err := Launch(o, d)
		if err != nil {
			os.RemoveAll(d)
			return nil, err
		}
		s.ownDir = true
		return s, nil
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	s := &Server{opts: o, bin: bin, dir: dir, out: &lockedBuffer{}}
	if o.TLS {
		files, cfg, err := writeTestCerts(s.dir)
		if err != nil {
			return nil, fmt.Errorf("generating TLS certificates: %w", err)
		}
		s.tlsFiles, s.clientCA = files, cfg
	}
	var lastErr error
	for try := 0; try < 5; try++ {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		if lastErr = s.start(port); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

// Close kills the server and removes its directory if Launch made it.
func (s *Server) Close() {
	s.Kill()
	if s.ownDir {
		os.RemoveAll(s.dir)
	}
}

// URL returns the server's URL: redis:// (or rediss:// with TLS), with the
// password if one is set.
func (s *Server) URL() string {
	u := url.URL{Scheme: "redis", Host: s.Addr}
	if s.opts.TLS {
		u.Scheme = "rediss"
	}
	if s.opts.Password != "" {
		u.User = url.UserPassword("", s.opts.Password)
	}
	return u.String()
}

// TLSConfig returns a client TLS configuration that trusts the server's
// generated CA, or nil if the server does not use TLS.
func (s *Server) TLSConfig() *tls.Config {
	if s.clientCA == nil {
		return nil
	}
	return s.clientCA.Clone()
}

// Kill stops the server at once with SIGKILL and waits for it to exit.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killLocked()
}

// Relaunch starts the server again on the same port after Kill.
func (s *Server) Relaunch() error {
	s.mu.Lock()
	running := s.proc != nil
	s.mu.Unlock()
	if running {
		return errors.New("restart while running")
	}
	var err error
	for try := 0; try < 20; try++ { // the port may linger briefly after a kill
		if err = s.start(s.Port); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("restart on port %d: %w", s.Port, err)
}

// Pause freezes the server (SIGSTOP): connections stay open but nothing is
// answered, as with a stalled or overloaded server. Resume undoes it.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		_ = s.proc.Signal(sig)
	}
}

// Log returns what the server has printed so far (for test diagnostics).
func (s *Server) Log() string { return s.out.String() }

// killLocked requires mu held.
func (s *Server) killLocked() {
	if s.proc == nil {
		return
	}
	_ = s.proc.Kill()
	<-s.exited
	s.proc, s.exited = nil, nil
}

func (s *Server) args(port int) []string {
	a := []string{
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
		"--loglevel", "warning",
		"--logfile", "",
	}
	if s.opts.TLS {
		a = append(a,
			"--port", "0",
			"--tls-port", strconv.Itoa(port),
			"--tls-cert-file", s.tlsFiles.cert,
			"--tls-key-file", s.tlsFiles.key,
			"--tls-ca-cert-file", s.tlsFiles.ca,
			"--tls-auth-clients", "no",
		)
	} else {
		a = append(a, "--port", strconv.Itoa(port))
	}
	if s.opts.Password != "" {
		a = append(a, "--requirepass", s.opts.Password)
	}
	return append(a, s.opts.Args...)
}

// start launches the process on port and waits until it answers PING.
func (s *Server) start(port int) error {
	cmd := exec.Command(s.bin, s.args(port)...)
	cmd.Stdout = s.out
	cmd.Stderr = s.out
	cmd.Dir = s.dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("redis-server on port %d exited early (%v): %s", port, err, lastLines(s.out.String(), 5))
		default:
		}
		err := s.ping(addr)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server on port %d did not answer PING: %w", port, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	s.proc, s.exited = cmd.Process, exited
	s.Addr, s.Port = addr, port
	s.mu.Unlock()
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ping dials addr, authenticates if needed and expects +PONG.
func (s *Server) ping(addr string) error {
	var c net.Conn
	var err error
	d := &net.Dialer{Timeout: 500 * time.Millisecond}
	if s.opts.TLS {
		c, err = tls.DialWithDialer(d, "tcp", addr, s.clientCA)
	} else {
		c, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	r := bufio.NewReader(c)
	if s.opts.Password != "" {
		if err := command(c, r, "AUTH", s.opts.Password); err != nil {
			return err
		}
	}
	return command(c, r, "PING")
}

// command writes one RESP command and expects a simple-string reply.
func command(c net.Conn, r *bufio.Reader, args ...string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+") {
		return fmt.Errorf("%s: %s", args[0], strings.TrimSpace(line))
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer is an io.Writer safe for concurrent use, bounded to 1 MiB.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() < 1<<20 {
		l.buf.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
