package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// Env is what a strategy gets to build the clients of one run.
type Env struct {
	// Endpoint is the simulator's base URL.
	Endpoint string
	// HTTPClient reaches the simulator: a loopback HTTP client, or an
	// in-memory transport in virtual-time tests.
	HTTPClient *http.Client
	// Quotas is the (scaled) quota table the simulator enforces: what a
	// client would be seeded with from the published table.
	Quotas *quotas.Table
	// RateScale is the run's rate multiplier. Time constants of the
	// hand-written strategies (seed, tollgate) are divided by it, so that a
	// run at scale s is the same run s times faster; the SDK's own constants
	// cannot be scaled (see the package documentation).
	RateScale float64
	// Seed makes the strategy's random choices repeatable.
	Seed int64
	// Region of the simulated account.
	Region string
	// Ops are the operations the scenario calls (strategies may prime them).
	Ops []string
	// Callers is the number of independent callers the scenario runs (the
	// fleet size; 1 otherwise, the neighbour not counted).
	Callers int
	// RedisURL and RedisWorker are Config.RedisURL and Config.RedisWorker.
	RedisURL    string
	RedisWorker []string

	// sim is the run's simulator, for the oracle strategy of the tests,
	// which reads its buckets.
	sim *sim.Server
}

// AccessKey returns the access key of the client-th caller of a run; the
// simulator counts requests per access key.
func AccessKey(client int) string {
	if client < 0 {
		return "AKIDBENCHNEIGHBOUR"
	}
	return fmt.Sprintf("AKIDBENCH%04d", client)
}

// Scaled divides a duration of the unscaled world by the rate scale.
func (e Env) Scaled(d time.Duration) time.Duration {
	if e.RateScale <= 0 {
		return d
	}
	return time.Duration(float64(d) / e.RateScale)
}

// ConnectOptions returns the base options of the client-th caller's connect
// client: the simulator's endpoint, static credentials with the caller's
// access key, the run's HTTP client. The retryer is left to the strategy.
func (e Env) ConnectOptions(client int) connect.Options {
	key := AccessKey(client)
	return connect.Options{
		Region:       e.Region,
		BaseEndpoint: aws.String(e.Endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: "bench-secret", Source: "bench"}, nil
		}),
		HTTPClient: e.HTTPClient,
	}
}

// HandlerTransport serves requests in memory with an http.Handler, so that a
// real SDK client can talk to the simulator inside a testing/synctest bubble
// (no sockets, virtual time).
type HandlerTransport struct {
	Handler http.Handler
	// Latency is slept (in the caller's clock) before the request reaches
	// the handler and again before the response returns.
	Latency time.Duration
	// Jitter adds a uniform random extra in [0, Jitter) to each of the two
	// legs, drawn from Rand (which must be safe for concurrent use). A
	// network's jitter is what keeps paced clients from marching in
	// lockstep; virtual time has none unless it is put in.
	Jitter time.Duration
	Rand   func() float64
}

func (t HandlerTransport) leg() {
	d := t.Latency
	if t.Jitter > 0 && t.Rand != nil {
		d += time.Duration(t.Rand() * float64(t.Jitter))
	}
	if d > 0 {
		time.Sleep(d)
	}
}

// RoundTrip serves req with the handler.
func (t HandlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.leg()
	rec := httptest.NewRecorder()
	t.Handler.ServeHTTP(rec, req)
	if req.Body != nil {
		req.Body.Close()
	}
	resp := rec.Result()
	resp.Request = req
	t.leg()
	return resp, nil
}

// loopbackClient returns an HTTP client for many concurrent loopback calls.
func loopbackClient() *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2048,
		MaxIdleConnsPerHost: 2048,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// event is one response the simulator sent.
type event struct {
	t      time.Time
	status int
	caller string
}

// recorder wraps the simulator and records every Connect response (time,
// status, caller) for the per-second charts and the rate measurements.
type recorder struct {
	h      http.Handler
	mu     sync.Mutex
	events []event
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (the
// simulator resets connections through it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim") || r.URL.Path == "/metrics" {
		rc.h.ServeHTTP(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	rc.h.ServeHTTP(sw, r)
	ev := event{t: time.Now(), status: sw.status, caller: callerOf(r.Header.Get("Authorization"))}
	rc.mu.Lock()
	rc.events = append(rc.events, ev)
	rc.mu.Unlock()
}

func (rc *recorder) snapshot() []event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]event(nil), rc.events...)
}

// callerOf returns the access key of a SigV4 Authorization header.
func callerOf(auth string) string {
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return ""
	}
	rest := auth[i+len("Credential="):]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		return rest[:j]
	}
	return ""
}

// server is the simulator of one run, reachable over loopback HTTP or in
// memory.
type server struct {
	sim    *sim.Server
	rec    *recorder
	http   *httptest.Server // nil in memory
	client *http.Client
	url    string
}

// startServer starts a fresh simulator enforcing table. With inMemory the
// clients reach it through a HandlerTransport (virtual time); otherwise over
// HTTP on 127.0.0.1 on a free port.
func startServer(table *quotas.Table, seed int64, inMemory bool, latency time.Duration) (*server, error) {
	return startServerJitter(table, seed, inMemory, latency, 0)
}

func startServerJitter(table *quotas.Table, seed int64, inMemory bool, latency, jitter time.Duration) (*server, error) {
	s, err := sim.New(sim.Options{Quotas: table, Seed: seed})
	if err != nil {
		return nil, fmt.Errorf("bench: start simulator: %w", err)
	}
	srv := &server{sim: s, rec: &recorder{h: s}}
	if inMemory {
		var mu sync.Mutex
		rnd := rand.New(rand.NewPCG(uint64(seed), 0x1a7e))
		srv.client = &http.Client{Transport: HandlerTransport{Handler: srv.rec, Latency: latency, Jitter: jitter, Rand: func() float64 {
			mu.Lock()
			defer mu.Unlock()
			return rnd.Float64()
		}}}
		srv.url = "http://connect.sim.test"
		return srv, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: listen on loopback: %w", err)
	}
	hs := httptest.NewUnstartedServer(srv.rec)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	srv.http = hs
	srv.client = loopbackClient()
	srv.url = hs.URL
	return srv, nil
}

func (s *server) close() {
	if s.http != nil {
		s.http.CloseClientConnections()
		s.http.Close()
	}
	if tr, ok := s.client.Transport.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
}
