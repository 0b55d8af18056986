package awssdk_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
)

// handlerTransport serves requests in memory with an http.Handler, so a real
// SDK client can run inside a testing/synctest bubble (no sockets). A
// handler that calls resetConn makes the round trip fail like a connection
// reset by the peer.
type handlerTransport struct {
	h       http.Handler
	latency time.Duration // fake time spent returning the response
}

type resetKey struct{}

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	reset := false
	req = req.WithContext(context.WithValue(req.Context(), resetKey{}, &reset))
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	if req.Body != nil {
		req.Body.Close()
	}
	if reset {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	}
	resp := rec.Result()
	resp.Request = req
	if t.latency > 0 {
		time.Sleep(t.latency)
	}
	return resp, nil
}

// resetConn makes the in-memory round trip of r fail with ECONNRESET.
func resetConn(r *http.Request) { *r.Context().Value(resetKey{}).(*bool) = true }

// testConfig is an aws.Config that reaches h in memory with static
// credentials, touching neither the network nor the environment.
func testConfig(h http.Handler) aws.Config { return testConfigLatency(h, 0) }

// testConfigLatency is testConfig with a response latency in fake time.
func testConfigLatency(h http.Handler, latency time.Duration) aws.Config {
	return aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", Source: "test"}, nil
		}),
		HTTPClient: &http.Client{Transport: handlerTransport{h: h, latency: latency}},
	}
}

// endpoint points a connect client at the fake host.
func endpoint(o *connect.Options) { o.BaseEndpoint = aws.String("http://connect.test") }

// server counts requests and records their fake arrival time and their
// Amz-Sdk-Request header, then lets respond answer.
type server struct {
	respond func(w http.ResponseWriter, r *http.Request, n int) // n: 1-based request number

	mu      sync.Mutex
	start   time.Time
	at      []time.Duration
	headers []string
}

func newServer(respond func(w http.ResponseWriter, r *http.Request, n int)) *server {
	return &server{respond: respond, start: time.Now()}
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.at = append(s.at, time.Since(s.start))
	s.headers = append(s.headers, r.Header.Get("Amz-Sdk-Request"))
	n := len(s.at)
	s.mu.Unlock()
	s.respond(w, r, n)
}

func (s *server) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.at)
}

// reply writes a restJson1 response.
func reply(w http.ResponseWriter, status int, header map[string]string, body string) {
	for k, v := range header {
		w.Header().Set(k, v)
	}
	if body != "" && !strings.HasPrefix(body, "<") {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("X-Amzn-RequestId", "req-1")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// half is a rand.Source whose Float64 is always 0.5.
type half struct{}

func (half) Uint64() uint64 { return 1 << 52 }

// gcra is the test server's token bucket: rate per second, burst, in exact
// integer nanoseconds (the generic cell rate algorithm), independent of the
// client's ratelimit code.
type gcra struct {
	mu       sync.Mutex
	interval time.Duration // 1/rate
	tau      time.Duration // (burst-1) × interval
	tat      time.Time     // theoretical arrival time
}

func newGCRA(rate, burst int) *gcra {
	iv := time.Second / time.Duration(rate)
	return &gcra{interval: iv, tau: time.Duration(burst-1) * iv, tat: time.Now()}
}

// allow takes one token at now if there is one.
func (g *gcra) allow(now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	tat := g.tat
	if tat.Before(now) {
		tat = now
	}
	if tat.Sub(now) > g.tau {
		return false
	}
	g.tat = tat.Add(g.interval)
	return true
}
