package extension

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultName        = "tollgate"
	DefaultListen      = "127.0.0.1:9787"
	DefaultDrainMargin = 100 * time.Millisecond
	// DefaultShutdownWait bounds the drain when SHUTDOWN carries no deadline.
	DefaultShutdownWait = 1500 * time.Millisecond
)

// Options configure Run. Client and Handler are required.
type Options struct {
	// Client is the registered Extensions API client.
	Client *Client
	// Handler serves the function's calls (the gateway, wrapped by Guard).
	Handler http.Handler
	// Listener, when set, is served instead of listening on Listen.
	Listener net.Listener
	// Listen is the loopback address (default 127.0.0.1:9787).
	Listen string
	// DrainMargin is kept free before SHUTDOWN's deadline (default 100 ms).
	DrainMargin time.Duration
	// Logger receives at most one line per invocation, and the shutdown
	// line; nil discards.
	Logger *slog.Logger
	// Ready, when set, is called with the served address before the first
	// Next (the end of the extension's init).
	Ready func(addr string)
}

func (o Options) withDefaults() (Options, error) {
	if o.Client == nil || o.Handler == nil {
		return o, errors.New("extension: Options.Client and Options.Handler are required")
	}
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.DrainMargin <= 0 {
		o.DrainMargin = DefaultDrainMargin
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Stats are what Run saw.
type Stats struct {
	Invocations int64         // INVOKE events
	Calls       int64         // requests served
	NotOK       int64         // answers not classified ok
	Drained     int64         // calls in flight when SHUTDOWN came
	DrainTime   time.Duration // time the drain took
	Reason      string        // SHUTDOWN's reason
}

// Run serves o.Handler on loopback and follows the Extensions API's events
// until SHUTDOWN, then drains the calls in flight within the deadline. It
// returns when the drain ends, or when ctx ends.
func Run(ctx context.Context, o Options) (Stats, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Stats{}, err
	}
	ln := o.Listener
	if ln == nil {
		host, _, err := net.SplitHostPort(o.Listen)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			return Stats{}, fmt.Errorf("extension: listen %q: want a loopback host:port", o.Listen)
		}
		if ln, err = net.Listen("tcp", o.Listen); err != nil {
			return Stats{}, fmt.Errorf("extension: %w", err)
		}
	}
	acc := &accounting{}
	srv := &http.Server{Handler: acc.wrap(o.Handler), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}
	var st Stats
	current := ""
	for {
		ev, err := o.Client.Next(ctx)
		if err != nil {
			_ = srv.Close()
			return st, err
		}
		if line, ok := acc.invocationLine(); ok && current != "" {
			o.Logger.Warn("tollgate: invocation "+current+": "+line, "request_id", current)
		}
		switch ev.EventType {
		case Invoke:
			st.Invocations++
			current = ev.RequestID
			continue
		case Shutdown:
		}
		st.Reason = ev.ShutdownReason
		start := time.Now()
		st.Drained = acc.inFlight.Load()
		deadline := ev.Deadline()
		if deadline.IsZero() {
			deadline = start.Add(DefaultShutdownWait)
		}
		sctx, cancel := context.WithDeadline(ctx, deadline.Add(-o.DrainMargin))
		err = srv.Shutdown(sctx)
		cancel()
		st.DrainTime = time.Since(start)
		st.Calls, st.NotOK = acc.calls.Load(), acc.notOK.Load()
		left := acc.inFlight.Load()
		if err != nil {
			_ = srv.Close()
		}
		o.Logger.Info(fmt.Sprintf("tollgate: shutdown (%s): %d invocations, %d calls, %d not ok; drained %d in flight in %v, %d cut off",
			orUnknown(st.Reason), st.Invocations, st.Calls, st.NotOK, st.Drained, st.DrainTime.Round(time.Millisecond), left))
		if sErr := <-errc; sErr != nil && !errors.Is(sErr, http.ErrServerClosed) {
			return st, sErr
		}
		if left > 0 {
			return st, fmt.Errorf("extension: %d calls still in flight at the shutdown deadline", left)
		}
		return st, nil
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}

// accounting counts calls in flight and the answers of one invocation.
type accounting struct {
	inFlight, calls, notOK atomic.Int64
	mu                     sync.Mutex
	invCalls               int
	invCodes               map[string]int // answer class → count, not-ok only
}

func (a *accounting) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.inFlight.Add(1)
		defer a.inFlight.Add(-1)
		rw := &classWriter{ResponseWriter: w}
		h.ServeHTTP(rw, r)
		a.calls.Add(1)
		class := rw.Header().Get("X-Tollgate-Class")
		if class == "" {
			class = fmt.Sprintf("status-%d", rw.status)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.invCalls++
		if class != "ok" {
			a.notOK.Add(1)
			if a.invCodes == nil {
				a.invCodes = map[string]int{}
			}
			a.invCodes[class]++
		}
	})
}

// invocationLine returns the summary of the invocation that just ended,
// and whether it deserves a log line (something was not ok), and resets.
func (a *accounting) invocationLine() (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	calls, codes := a.invCalls, a.invCodes
	a.invCalls, a.invCodes = 0, nil
	if len(codes) == 0 {
		return "", false
	}
	parts := make([]string, 0, len(codes))
	for c, n := range codes {
		parts = append(parts, fmt.Sprintf("%s=%d", c, n))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%d calls, not ok: %s", calls, strings.Join(parts, " ")), true
}

// classWriter remembers the status written.
type classWriter struct {
	http.ResponseWriter
	status int
}

func (w *classWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *classWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes streaming through.
func (w *classWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
