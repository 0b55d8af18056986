package usage_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/sim"
	"github.com/tollgatehq/tollgate/usage"
)

// handlerTransport serves requests in memory with an http.Handler, so the
// real SDK clients and the simulator run without sockets (and inside a
// synctest bubble).
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.RequestURI = r.URL.RequestURI()
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r2)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	res := rec.Result()
	res.Request = r
	return res, nil
}

func testConfig(h http.Handler) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		HTTPClient:       &http.Client{Transport: handlerTransport{h}},
		RetryMaxAttempts: 1,
	}
}

// fixture is a simulator and real clients pointed at it.
type fixture struct {
	sim     *sim.Server
	clients usage.Clients
	connect *connect.Client
}

func newFixture(t testing.TB, o sim.Options) fixture {
	t.Helper()
	s, err := sim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(s)
	const ep = "http://sim.local"
	return fixture{sim: s, clients: usage.NewClients(cfg, ep),
		connect: connect.NewFromConfig(cfg, func(o *connect.Options) { o.BaseEndpoint = aws.String(ep) })}
}

// manualClock is a clock moved by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// loadAt calls ListInstances n times, spaced evenly at rate calls/s on the
// simulator's clock.
func loadAt(t testing.TB, f fixture, clk *manualClock, rate float64, n int) {
	t.Helper()
	step := time.Duration(float64(time.Second) / rate)
	for i := 0; i < n; i++ {
		if _, err := f.connect.ListInstances(context.Background(), &connect.ListInstancesInput{}); err != nil {
			t.Fatalf("call %d at %v: %v", i, clk.Now(), err)
		}
		clk.Add(step)
	}
}
