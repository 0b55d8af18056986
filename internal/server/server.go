package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/sqlitestore"
	"github.com/tollgatehq/tollgate/queue/sqs"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/quotas/quotafile"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/redisx"
	"github.com/tollgatehq/tollgate/stagger"
)

// QueueFile is the embedded queue's file in the data directory.
const QueueFile = "queue.db"

// Options are what New needs besides the configuration. The zero value is
// usable: real AWS through the default credential chain, the queue the
// configuration selects, logs discarded.
type Options struct {
	// Logger receives the server's log; nil discards it.
	Logger *slog.Logger
	// AWS, when set, is used instead of config.LoadDefaultConfig (tests and
	// the demo pass static credentials and an in-process HTTP client).
	AWS *aws.Config
	// Queue, when set, is used instead of the configured backend. The
	// server closes it on shutdown.
	Queue queue.Queue
}

// Server is a configured `tollgate serve`. Create it with New, run it with
// Run.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	q       queue.Queue
	d       *dispatch.Dispatcher
	gov     *governor.Governor
	m       *metrics
	auth    tokenChecker
	started time.Time
	handler http.Handler
	shared  *redisx.Limiter // the Redis limiter when limits.redis_url is set

	stagger *stagger.Service // POST /v1/stagger/reserve (stagger.go)

	mu   sync.Mutex // guards addr
	addr string
}

// New opens the queue, loads or generates the token, builds the governor
// and the dispatcher. Nothing is served until Run. On error everything
// opened is closed again.
func New(ctx context.Context, cfg config.Config, o Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, started: time.Now()}

	token, source, err := LoadToken(cfg.Token, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s.auth = newTokenChecker(token)
	switch source {
	case "generated":
		log.Info("generated an API token", "file", filepath.Join(cfg.DataDir, TokenFile))
	case "file":
		log.Info("API token read", "file", filepath.Join(cfg.DataDir, TokenFile))
	default:
		log.Info("API token from the configuration")
	}

	awsCfg, err := s.awsConfig(ctx, o.AWS)
	if err != nil {
		return nil, err
	}
	table, err := s.quotaTable(awsCfg.Region)
	if err != nil {
		return nil, err
	}

	if s.stagger, err = newStagger(cfg, table, log); err != nil {
		return nil, err
	}

	s.q = o.Queue
	if s.q == nil {
		if s.q, err = s.openQueue(ctx, awsCfg); err != nil {
			return nil, err
		}
	}
	s.m = newMetrics(s.q)

	l := cfg.Limits
	scaled := withHeadroom(table.Scale(l.RateScale), l.BurstHeadroom)
	var acct ratelimit.Limit
	if l.AccountRate > 0 {
		acct = ratelimit.Limit{Rate: l.AccountRate * l.RateScale, Burst: max(1, l.AccountBurst*l.RateScale)}
	}
	limiter, limObs, err := s.newLimiter(scaled, acct, awsCfg.Region)
	if err != nil {
		s.q.Close()
		return nil, err
	}
	s.gov = governor.New(limiter, governor.Options{
		MaxAttempts: cfg.Dispatch.MaxAttempts,
		MaxElapsed:  cfg.Dispatch.CallTimeout,
		Observer:    governor.Observers(s.m.governorObserver(), limObs),
	})
	s.d, err = dispatch.New(dispatch.Options{
		Queue:             s.q,
		Governor:          s.gov,
		AWS:               awsCfg,
		Endpoint:          cfg.AWS.Endpoint,
		CampaignsEndpoint: cfg.AWS.CampaignsEndpoint,
		Concurrency:       cfg.Dispatch.Concurrency,
		CallTimeout:       cfg.Dispatch.CallTimeout,
		Visibility:        cfg.EffectiveVisibility(),
		MaxBatch:          cfg.Dispatch.MaxBatch,
		ShutdownGrace:     cfg.Dispatch.ShutdownGrace,
		Logger:            log,
		Observer:          s.m.observeOutcome,
	})
	if err != nil {
		s.closeLimiter()
		s.q.Close()
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// awsConfig loads the AWS configuration: the given one, or the default
// credential chain. Credentials are checked now so a missing one fails the
// start, not every job. With a custom endpoint (a simulator) and no
// credentials anywhere, static placeholder credentials are used.
func (s *Server) awsConfig(ctx context.Context, given *aws.Config) (aws.Config, error) {
	if given != nil {
		c := given.Copy()
		if c.Region == "" {
			c.Region = s.cfg.AWS.Region
		}
		return c, nil
	}
	var opts []func(*awsconfig.LoadOptions) error
	if s.cfg.AWS.Region != "" {
		opts = append(opts, awsconfig.WithRegion(s.cfg.AWS.Region))
	}
	if s.cfg.AWS.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(s.cfg.AWS.Profile))
	}
	c, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return c, fmt.Errorf("aws: loading the configuration: %w", err)
	}
	if c.Region == "" {
		if s.cfg.AWS.Endpoint == "" {
			return c, errors.New("aws.region: no Region configured: set --region, TOLLGATE_AWS_REGION or AWS_REGION")
		}
		c.Region = "us-east-1"
	}
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := c.Credentials.Retrieve(rctx); err != nil {
		if s.cfg.AWS.Endpoint == "" {
			return c, fmt.Errorf("aws: no usable credentials in the default chain (environment, shared files, SSO, IMDS): %w", err)
		}
		s.log.Warn("no AWS credentials found; signing requests to the custom endpoint with placeholder credentials", "endpoint", s.cfg.AWS.Endpoint)
		c.Credentials = credentials.NewStaticCredentialsProvider("AKIDTOLLGATEPLACEHOLDER", "placeholder", "")
	}
	return c, nil
}

// quotaTable is the published table with the quota file's overrides.
func (s *Server) quotaTable(region string) (*quotas.Table, error) {
	t := quotas.Default()
	if s.cfg.Limits.QuotaFile == "" {
		return t, nil
	}
	ov, err := quotafile.Load(s.cfg.Limits.QuotaFile)
	if err != nil {
		return nil, fmt.Errorf("limits.quota_file: %w", err)
	}
	if err := t.Apply(ov, s.cfg.Limits.Account, region); err != nil {
		return nil, fmt.Errorf("limits.quota_file: %w", err)
	}
	return t, nil
}

func (s *Server) openQueue(ctx context.Context, awsCfg aws.Config) (queue.Queue, error) {
	qc := s.cfg.Queue
	switch qc.Backend {
	case "sqs":
		c := awsCfg.Copy()
		client := awssqs.NewFromConfig(c, func(o *awssqs.Options) {
			if qc.SQS.Endpoint != "" {
				o.BaseEndpoint = aws.String(qc.SQS.Endpoint)
			}
		})
		so := sqs.Options{
			QueueName:       queueName(qc.SQS.QueueURL),
			DeadLetterName:  queueName(qc.SQS.DLQURL),
			MaxReceives:     qc.MaxReceives,
			MaxFreeRequeues: qc.MaxFreeRequeues,
			WaitTime:        qc.SQS.WaitTime,
		}
		if isURL(qc.SQS.QueueURL) && isURL(qc.SQS.DLQURL) {
			// Both queues given by URL: use them as provisioned, create nothing.
			so.QueueURL, so.DeadLetterURL = qc.SQS.QueueURL, qc.SQS.DLQURL
		}
		q, err := sqs.Open(ctx, client, so)
		if err != nil {
			return nil, fmt.Errorf("queue.sqs: %w", err)
		}
		return q, nil
	default:
		if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data_dir: %w", err)
		}
		q, err := sqlitestore.Open(filepath.Join(s.cfg.DataDir, QueueFile), sqlitestore.Options{
			MaxReceives:     qc.MaxReceives,
			MaxFreeRequeues: qc.MaxFreeRequeues,
		})
		if err != nil {
			return nil, fmt.Errorf("queue (embedded): %w", err)
		}
		return q, nil
	}
}

// withHeadroom lowers every listed operation's burst by h (to at least 1).
func withHeadroom(t *quotas.Table, h int) *quotas.Table {
	if h <= 0 {
		return t
	}
	for _, a := range t.APIs() {
		a.Burst = max(1, a.Burst-h)
		_ = t.SetAPI(a)
	}
	return t
}

// isURL reports whether v is an absolute URL rather than a bare queue name.
func isURL(v string) bool {
	u, err := url.Parse(v)
	return v != "" && err == nil && u.Scheme != "" && u.Host != ""
}

// queueName takes a queue URL or a bare name and returns the name.
func queueName(v string) string {
	if v == "" {
		return ""
	}
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
		return path.Base(strings.TrimRight(u.Path, "/"))
	}
	return v
}

// Handler returns the API's handler (for tests that serve it themselves).
func (s *Server) Handler() http.Handler { return s.handler }

// Dispatcher returns the dispatcher.
func (s *Server) Dispatcher() *dispatch.Dispatcher { return s.d }

// Queue returns the queue.
func (s *Server) Queue() queue.Queue { return s.q }

// Addr returns the address Run listens on, once it does.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Run serves the API on the configured address and runs the dispatcher
// until ctx ends, then shuts down gracefully (see the package
// documentation) and closes the queue. ready, when not nil, is called with
// the base URL once the listener is bound.
func (s *Server) Run(ctx context.Context, ready func(baseURL string)) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		s.closeLimiter()
		s.q.Close()
		return fmt.Errorf("listen: %w", err)
	}
	return s.Serve(ctx, ln, ready)
}

// Serve is Run on a listener of the caller's.
func (s *Server) Serve(ctx context.Context, ln net.Listener, ready func(baseURL string)) error {
	defer s.q.Close()
	defer s.closeLimiter()
	base := "http://" + ln.Addr().String()
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
	dctx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDispatch()
	dErr := make(chan error, 1)
	go func() { dErr <- s.d.Run(dctx) }()
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
	case err := <-dErr:
		runErr = fmt.Errorf("dispatch: %w", err)
		dErr <- nil
	}
	s.log.Info("shutting down: no new leases; calls in flight may finish", "grace", s.cfg.Dispatch.ShutdownGrace)
	stopDispatch()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	if err := <-hErr; err != nil && !errors.Is(err, http.ErrServerClosed) && runErr == nil {
		runErr = fmt.Errorf("http: %w", err)
	}
	if err := <-dErr; err != nil && runErr == nil {
		runErr = fmt.Errorf("dispatch: %w", err)
	}
	st := s.d.Stats()
	s.log.Info("stopped", "succeeded", st.Succeeded, "dead", st.Dead, "requeued", st.Requeued, "released", st.Released)
	return runErr
}
