package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// A tollgate-redis caller can run as its own process (the tollgate binary
// re-executed with a hidden subcommand, see Config.RedisWorker): a small
// governing proxy in front of the simulator. The bench's SDK client of that
// caller sends every request to its proxy with SDK retries off and the
// operation name in a header; the proxy admits it through its own
// redisx.Limiter (shared with the other callers' processes only through
// Redis), forwards it, classifies the answer, and retries under its
// governor, exactly as the in-process governor would. The proxy forwards
// signed requests unchanged, which the simulator accepts; it is a bench
// device, not a production sidecar.

// OpHeader carries the operation name from a caller to its worker process.
const OpHeader = "X-Tollgate-Op"

// workerMaxBody caps a proxied request body.
const workerMaxBody = 1 << 20

// RedisWorkerOptions configures one tollgate-redis caller process.
type RedisWorkerOptions struct {
	RedisURL string // the shared Redis
	Account  string // the run's account (key prefix)
	Region   string
	Upstream string // the simulator's base URL
	Client   int    // the caller's index
	Seed     int64
	// RateScale is the run's scale: time constants are divided by it and
	// operations not in Ops get the published table's rates times it.
	RateScale float64
	// Ops are the limits of the scenario's operations (already scaled).
	Ops map[string]ratelimit.Limit
	// Logger receives the limiter's mode changes; nil discards them.
	Logger *slog.Logger
}

// RunRedisWorker runs one caller's governing proxy: it listens on a free
// loopback port, writes "LISTEN <url>" and a newline to stdout, and serves
// until ctx ends or stdin reaches end of file (the parent closed it or
// died).
func RunRedisWorker(ctx context.Context, o RedisWorkerOptions, stdin io.Reader, stdout io.Writer) error {
	if o.RateScale <= 0 {
		o.RateScale = 1
	}
	up, err := urlBase(o.Upstream)
	if err != nil {
		return err
	}
	table, err := ScaleRates(quotas.Default(), o.RateScale)
	if err != nil {
		return err
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l, err := newRedisLimiter(o.RedisURL, o.Account, o.Region, table, o.Ops, o.Client, o.RateScale, logger)
	if err != nil {
		return err
	}
	defer l.Close()
	env := Env{RateScale: o.RateScale}
	classify := func(op string, err error) awserr.Info {
		var ue *upstreamError
		if errors.As(err, &ue) {
			return ue.info
		}
		return awssdk.Classify(op, err)
	}
	g := newRedisGovernor(l, env, o.Seed, o.Client, classify)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	p := &workerProxy{g: g, upstream: up, client: loopbackClient()}
	hs := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	if _, err := fmt.Fprintf(stdout, "LISTEN http://%s\n", ln.Addr()); err != nil {
		return err
	}
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(eof)
	}()
	select {
	case <-ctx.Done():
	case <-eof:
	}
	return nil
}

// urlBase checks and trims a base URL.
func urlBase(u string) (string, error) {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return "", fmt.Errorf("bench: worker: upstream: want an http(s) URL, got %q", u)
	}
	return strings.TrimRight(u, "/"), nil
}

// upstreamError is a non-2xx answer from the simulator, kept whole so the
// proxy can return the last one to its caller.
type upstreamError struct {
	info   awserr.Info
	status int
	header http.Header
	body   []byte
}

func (e *upstreamError) Error() string {
	return fmt.Sprintf("upstream %d %s: %s", e.status, e.info.Code, e.info.Message)
}

type workerProxy struct {
	g        *governor.Governor
	upstream string
	client   *http.Client
}

func (p *workerProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := r.Header.Get(OpHeader)
	if op == "" {
		http.Error(w, "missing "+OpHeader, http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, workerMaxBody+1))
	if err != nil || len(body) > workerMaxBody {
		http.Error(w, "request body unreadable or too large", http.StatusRequestEntityTooLarge)
		return
	}
	var okResp *http.Response
	var okBody []byte
	err = p.g.Do(r.Context(), op, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			return err
		}
		for k, vs := range r.Header {
			if k == OpHeader || isHopByHop(k) {
				continue
			}
			req.Header[k] = vs
		}
		resp, err := p.client.Do(req)
		if err != nil {
			return err
		}
		rb, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode >= 300 {
			return &upstreamError{info: awserr.ParseResponse(op, resp, rb), status: resp.StatusCode, header: resp.Header, body: rb}
		}
		okResp, okBody = resp, rb
		return nil
	})
	if err == nil {
		writeResponse(w, okResp.StatusCode, okResp.Header, okBody)
		return
	}
	var ue *upstreamError
	if errors.As(err, &ue) {
		writeResponse(w, ue.status, ue.header, ue.body)
		return
	}
	// No answer from the simulator to pass on (admission failed, the caller
	// went away): a Connect-shaped service error.
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", "ServiceUnavailableException")
	writeResponse(w, http.StatusServiceUnavailable, h, []byte(`{"message":`+strconv.Quote(err.Error())+`}`))
}

func writeResponse(w http.ResponseWriter, status int, h http.Header, body []byte) {
	for k, vs := range h {
		if isHopByHop(k) || k == "Content-Length" {
			continue
		}
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func isHopByHop(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host":
		return true
	}
	return false
}

// readListen reads the worker's "LISTEN <url>" line.
func readListen(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("bench: worker did not start: %w", err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "LISTEN ")
	if !ok {
		return "", fmt.Errorf("bench: worker: unexpected first line %q", line)
	}
	return url, nil
}
