package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// Fault is the misbehaviour injected into one operation. Probabilities are
// in [0,1] and are drawn in this order: reset, unavailable, error, slow; at
// most one of them fires per request. Latency is added to every request that
// is not reset.
type Fault struct {
	// Latency delays every response by a sample of this distribution.
	Latency Distribution `json:"latency,omitzero" yaml:"latency"`
	// ErrorRate is the probability of a 500 InternalServiceException.
	ErrorRate float64 `json:"error_rate,omitempty" yaml:"error_rate"`
	// UnavailableRate is the probability of a 503 with an HTML (non-JSON)
	// body, as a load balancer in front of the service would send.
	UnavailableRate float64 `json:"unavailable_rate,omitempty" yaml:"unavailable_rate"`
	// ResetRate is the probability that the connection is reset (TCP RST)
	// without a response.
	ResetRate float64 `json:"reset_rate,omitempty" yaml:"reset_rate"`
	// SlowRate is the probability that the response is held for SlowDelay
	// (default 30s), longer than a client's timeout.
	SlowRate  float64  `json:"slow_rate,omitempty" yaml:"slow_rate"`
	SlowDelay Duration `json:"slow_delay,omitempty" yaml:"slow_delay"`

	wildcard bool // set through "*", replaced by a later "*"
}

// Validate checks the probabilities and durations.
func (f Fault) Validate() error {
	for name, p := range map[string]float64{"error_rate": f.ErrorRate, "unavailable_rate": f.UnavailableRate, "reset_rate": f.ResetRate, "slow_rate": f.SlowRate} {
		if p < 0 || p > 1 || p != p {
			return fmt.Errorf("%s: must be in [0,1], got %v", name, p)
		}
	}
	if f.ErrorRate+f.UnavailableRate+f.ResetRate+f.SlowRate > 1 {
		return fmt.Errorf("error_rate+unavailable_rate+reset_rate+slow_rate: must be <= 1")
	}
	if f.SlowDelay < 0 {
		return fmt.Errorf("slow_delay: must be >= 0")
	}
	if err := f.Latency.Validate(); err != nil {
		return fmt.Errorf("latency: %w", err)
	}
	return nil
}

func (f Fault) isZero() bool {
	return f.Latency.IsZero() && f.ErrorRate == 0 && f.UnavailableRate == 0 && f.ResetRate == 0 && f.SlowRate == 0
}

type faultAction int

const (
	faultNone faultAction = iota
	faultReset
	faultUnavailable
	faultError
	faultSlow
)

// faultRNG is the seeded random source for faults, shared by all operations.
type faultRNG struct {
	mu sync.Mutex
	r  *rand.Rand // requires mu held
}

// draw picks the action and latency for one request.
func (g *faultRNG) draw(f *Fault) (faultAction, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	lat := f.Latency.Sample(g.r)
	u := g.r.Float64()
	switch {
	case u < f.ResetRate:
		return faultReset, 0
	case u < f.ResetRate+f.UnavailableRate:
		return faultUnavailable, lat
	case u < f.ResetRate+f.UnavailableRate+f.ErrorRate:
		return faultError, lat
	case u < f.ResetRate+f.UnavailableRate+f.ErrorRate+f.SlowRate:
		d := time.Duration(f.SlowDelay)
		if d == 0 {
			d = 30 * time.Second
		}
		return faultSlow, lat + d
	}
	return faultNone, lat
}

// sleepCtx waits d or until ctx is done; it reports whether the wait completed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// resetConn closes the client connection with a TCP RST and no response. When
// the ResponseWriter cannot be hijacked (an in-memory transport), it aborts the
// handler with http.ErrAbortHandler, which the caller sees as a broken
// connection.
func resetConn(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

const unavailableHTML = `<html>
<head><title>503 Service Temporarily Unavailable</title></head>
<body>
<center><h1>503 Service Temporarily Unavailable</h1></center>
</body>
</html>
`

func writeUnavailable(w http.ResponseWriter, reqID string, date string) {
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("X-Amzn-RequestId", reqID)
	h.Set("Date", date)
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(unavailableHTML))
}
