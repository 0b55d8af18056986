package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/stagger"
)

// Server is a configured `tollgate serve`: the HTTP API, its token and its
// metrics in front of an app.App. Create it with New, run it with Run.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	app     *app.App
	m       *metrics
	auth    tokenChecker
	started time.Time
	// live, sessions and state serve the dashboard.
	live     *liveCounts
	sessions *sessions
	state    *stateCache
	handler  http.Handler

	stagger *stagger.Service // POST /v1/stagger/reserve (stagger.go)
	gateway *gatewayReader   // the gateway panel, when gateway_url is set (gateway.go)
	tls     *tls.Config      // nil: plain HTTP (loopback, or --insecure-listen)

	patterns []string // every pattern routes registered (Patterns)

	mu   sync.Mutex // guards addr
	addr string
}

// New loads or generates the API token and builds the process through
// app.New, with the server's metrics attached to its governor, dispatcher
// and limiter. Nothing is served until Run. On error everything opened is
// closed again.
func New(ctx context.Context, cfg config.Config, o app.Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o.Logger = log
	s := &Server{cfg: cfg, log: log, started: time.Now()}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("tls_cert/tls_key: %w", err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	} else if !config.LoopbackAddr(cfg.Listen) {
		log.Warn("serving without TLS on a non-loopback address (--insecure-listen): the bearer token crosses the network in cleartext", "listen", cfg.Listen)
	}

	token, source, err := LoadToken(cfg.Token, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s.auth = newTokenChecker(token)
	if cfg.GatewayURL != "" {
		if s.gateway, err = newGatewayReader(cfg.GatewayURL, token); err != nil {
			return nil, err
		}
	}
	switch source {
	case "generated":
		log.Info("generated an API token", "file", filepath.Join(cfg.DataDir, TokenFile))
	case "file":
		log.Info("API token read", "file", filepath.Join(cfg.DataDir, TokenFile))
	default:
		log.Info("API token from the configuration")
	}

	s.m = newMetrics()
	s.live, s.sessions = newLiveCounts(), newSessions()
	s.state = &stateCache{make: func(now time.Time) LiveState { return s.liveState(context.Background(), now) }}
	outcome := o.Hooks.Outcome
	o.Hooks = app.Hooks{
		Attempt: governor.Observers(s.m.governorObserver(), s.live.observer(), o.Hooks.Attempt),
		Outcome: func(oc dispatch.Outcome) {
			s.m.observeOutcome(oc)
			if outcome != nil {
				outcome(oc)
			}
		},
		Registerer:  s.m.reg,
		PoolAttempt: s.m.poolObserver,
	}
	if s.app, err = app.New(ctx, cfg, o); err != nil {
		return nil, err
	}
	if s.stagger, err = newStagger(cfg, s.app.Quotas, log); err != nil {
		_ = s.app.Close()
		return nil, err
	}
	s.m.watchQueue(s.app.Queue)
	if len(s.app.Pools) > 0 {
		s.m.watchPools(s.app.PoolStats)
	}
	s.handler = s.routes()
	return s, nil
}

// App returns the process the server fronts.
func (s *Server) App() *app.App { return s.app }

// Handler returns the API's handler (for tests that serve it themselves).
func (s *Server) Handler() http.Handler { return s.handler }

// Dispatcher returns the dispatcher.
func (s *Server) Dispatcher() *dispatch.Dispatcher { return s.app.Dispatcher }

// Queue returns the queue.
func (s *Server) Queue() queue.Queue { return s.app.Queue }

// Addr returns the address Run listens on, once it does.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Run serves the API on the configured address and runs the app (the
// dispatcher) until ctx ends, then shuts down gracefully (see the package
// documentation) and closes the app. ready, when not nil, is called with
// the base URL once the listener is bound.
func (s *Server) Run(ctx context.Context, ready func(baseURL string)) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		_ = s.app.Close()
		return fmt.Errorf("listen: %w", err)
	}
	return s.Serve(ctx, ln, ready)
}

// Serve is Run on a listener of the caller's. With tls_cert and tls_key
// it speaks HTTPS on it.
func (s *Server) Serve(ctx context.Context, ln net.Listener, ready func(baseURL string)) error {
	defer s.app.Close()
	base := "http://" + ln.Addr().String()
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
		base = "https://" + ln.Addr().String()
	}
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.mu.Unlock()
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	actx, stopApp := context.WithCancel(context.WithoutCancel(ctx))
	defer stopApp()
	aErr := make(chan error, 1)
	go func() { aErr <- s.app.Run(actx) }()
	hErr := make(chan error, 1)
	go func() { hErr <- hs.Serve(ln) }()
	s.log.Info("serving", "url", base, "queue", s.cfg.Queue.Backend, "endpoint", s.cfg.AWS.Endpoint)
	if ready != nil {
		ready(base)
	}

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-hErr:
		runErr = fmt.Errorf("http: %w", err)
		hErr <- nil
	case err := <-aErr:
		runErr = err
		aErr <- nil
	}
	s.log.Info("shutting down: no new leases; calls in flight may finish", "grace", s.cfg.Dispatch.ShutdownGrace)
	stopApp()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	if err := <-hErr; err != nil && !errors.Is(err, http.ErrServerClosed) && runErr == nil {
		runErr = fmt.Errorf("http: %w", err)
	}
	if err := <-aErr; err != nil && runErr == nil {
		runErr = err
	}
	st := s.app.Dispatcher.Stats()
	s.log.Info("stopped", "succeeded", st.Succeeded, "dead", st.Dead, "requeued", st.Requeued, "released", st.Released)
	return runErr
}
