package moto

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Static settings of every server started here.
const (
	Region    = "us-east-1"
	AccessKey = "testing" // dummy: moto accepts any credentials
	SecretKey = "testing"
	AccountID = "123456789012" // moto's default account
)

// startWait bounds a moto_server's start. Python starts it in about a
// second on an idle machine; a loaded one can take much longer, and a
// failed start here would fail every test of the package.
const startWait = 2 * time.Minute

// Server is a running moto_server.
type Server struct {
	URL string // e.g. http://127.0.0.1:41234

	cmd      *exec.Cmd
	out      *tailBuffer
	waitExit chan struct{} // closed when the process has exited
	stopOnce sync.Once
}

// Find returns the moto_server executable, or an error saying where it looked.
func Find() (string, error) {
	if p := os.Getenv("TOLLGATE_MOTO_SERVER"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	var roots []string
	if r := os.Getenv("PYENV_ROOT"); r != "" {
		roots = append(roots, r)
	}
	if h, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(h, ".pyenv"))
	}
	for _, r := range roots {
		p := filepath.Join(r, "shims", "moto_server")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("moto_server not found in $TOLLGATE_MOTO_SERVER, $PATH or the pyenv shims (it comes with the pyenv Python's moto package)")
}

// Start starts a moto_server for t and stops it in t.Cleanup. When
// moto_server is missing it calls t.Fatal if CI=true and t.Skip otherwise.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("moto: %v", err)
		}
		t.Skipf("moto: %v (set CI=true to make this a failure)", err)
	}
	var last error
	for range 3 { // a free port can be taken between choosing and binding it
		s, err := start(bin)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		last = err
	}
	t.Fatalf("moto: %v", last)
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

func start(bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	out := &tailBuffer{max: 64 << 10}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so Stop can end the pyenv shim's children too
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+AccessKey, "AWS_SECRET_ACCESS_KEY="+SecretKey, "AWS_DEFAULT_REGION="+Region)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, out: out}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startWait)
	for {
		select {
		case <-exited:
			return nil, fmt.Errorf("moto_server exited before answering on port %d: %s", port, out.String())
		default:
		}
		resp, err := client.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			s.waitExit = exited
			return s, nil
		}
		if time.Now().After(deadline) {
			s.kill()
			<-exited
			return nil, fmt.Errorf("moto_server did not answer on port %d within %v: %s", port, startWait, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *Server) kill() {
	if s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) // the process group this package created
	}
}

// Stop kills the server and waits for it to exit. Start registers it with
// t.Cleanup; calling it again does nothing.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.kill()
		if s.waitExit != nil {
			<-s.waitExit
		}
	})
}

// Output returns the server's last 64 KiB of log output.
func (s *Server) Output() string { return s.out.String() }

// AWSConfig returns a configuration for clients of this server: Region
// us-east-1, static dummy credentials and BaseEndpoint set to the server.
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		BaseEndpoint: aws.String(s.URL),
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
