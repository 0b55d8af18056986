package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	smithymiddleware "github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/tollgatehq/tollgate/adaptive"
	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/backoff"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/redisx"
)

// StrategyTollgateRedis is the governor over the Redis-shared limiter. Every
// caller has its own redisx.Limiter (its own connection pool, worker id,
// heartbeat, leases and wait queue), adaptive.Adapter and governor, and the
// callers share the buckets and the adaptive learner (redisx.LearnerStore)
// only through one Redis (Config.RedisURL). When Config.RedisWorker names a
// worker command (the tollgate binary sets its hidden bench-redis-worker
// subcommand) each caller is a separate process (see RunRedisWorker);
// otherwise, as in tests, the callers live in the bench's process but still
// share nothing in memory.
const StrategyTollgateRedis = "tollgate-redis"

// RedisURLEnv names the environment variable `tollgate bench` reads the
// tollgate-redis strategy's Redis URL from when --redis-url is not given.
// The package itself reads only Config.RedisURL.
const RedisURLEnv = "TOLLGATE_BENCH_REDIS_URL"

// ErrNoRedis is returned (wrapped) when the tollgate-redis strategy runs
// without Config.RedisURL.
var ErrNoRedis = errors.New("the " + StrategyTollgateRedis + " strategy needs a Redis: set Config.RedisURL (tollgate bench: --redis-url or " + RedisURLEnv + ")")

// benchRedisTimeout is the Redis command timeout in the bench. The
// production default (50ms) is tuned for a Redis on its own machine; here
// redis-server, the simulator and every caller share one small machine, and
// a CPU-starved command would switch callers to fallback mode for reasons
// that have nothing to do with Redis.
const benchRedisTimeout = 250 * time.Millisecond

// The shared buckets hold back a margin of each quota, so that the
// simulator's bucket keeps a little slack for calls that reach it later
// than their admission (scheduling jitter on a busy machine, worst when a
// fleet starts at once): redisRateMargin of the rate, and redisBurstMargin
// tokens of bursts of at least 4.
const (
	redisRateMargin  = 0.01
	redisBurstMargin = 2
)

// marginTable returns t less the margins.
func marginTable(t *quotas.Table) (*quotas.Table, error) {
	c := t.Clone()
	for _, a := range c.APIs() {
		a.Rate *= 1 - redisRateMargin
		if a.Burst >= 4 {
			a.Burst -= redisBurstMargin
		}
		if err := c.SetAPI(a); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func init() { RegisterStrategy(StrategyTollgateRedis, newTollgateRedis) }

type tollgateRedisRun struct {
	env     Env
	url     string
	account string
	table   *quotas.Table // env.Quotas less the margins
	command []string      // worker command; nil: in-process callers

	mu     sync.Mutex
	closed bool
	lims   []*redisx.Limiter
	procs  []*workerProc
	spawns map[int]*spawn
}

// workerProc is one caller process.
type workerProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuf
}

func newTollgateRedis(env Env) (Strategy, error) {
	if env.RedisURL == "" {
		return nil, fmt.Errorf("bench: %w", ErrNoRedis)
	}
	r := &tollgateRedisRun{env: env, url: env.RedisURL, command: env.RedisWorker}
	if env.HTTPClient != nil && env.HTTPClient.Transport != nil {
		if _, inMemory := env.HTTPClient.Transport.(HandlerTransport); inMemory {
			r.command = nil // an in-memory simulator cannot be reached from another process
		}
	}
	// A fresh account per run: runs sharing one Redis never share buckets.
	n, err := rand.Int(rand.Reader, big.NewInt(1e11))
	if err != nil {
		r.Close()
		return nil, err
	}
	r.account = fmt.Sprintf("9%011d", n.Int64())
	if r.table, err = marginTable(env.Quotas); err != nil {
		r.Close()
		return nil, err
	}
	if r.command != nil {
		// Start the callers' processes before the run's clock starts: on a
		// small machine sixteen Go processes take a second or more to come
		// up, which would otherwise count against the strategy. (The Env
		// does not say how many callers the scenario has; a fleet has
		// DefaultClients unless configured otherwise, and further callers
		// start on demand.)
		for i := range DefaultClients {
			r.spawnFor(i)
		}
		for i := range DefaultClients {
			sp := r.spawnFor(i)
			<-sp.done
			if sp.err != nil {
				err := sp.err
				r.Close()
				return nil, err
			}
		}
	}
	return r, nil
}

// prefetch is how many caller processes beyond the one asked for are
// started in the background, so that a fleet's callers do not each wait for
// a process start in turn (the runner builds callers one at a time).
const prefetch = 8

// spawn is one caller process being started.
type spawn struct {
	done chan struct{}
	url  string
	err  error
}

// Client returns caller client.
func (r *tollgateRedisRun) Client(client int) (Client, error) {
	if r.command != nil {
		sp := r.spawnFor(client)
		for i := client + 1; i <= client+prefetch; i++ {
			r.spawnFor(i)
		}
		<-sp.done
		if sp.err != nil {
			return nil, sp.err
		}
		o := r.env.ConnectOptions(client)
		o.BaseEndpoint = &sp.url
		o.RetryMaxAttempts = 1
		o.APIOptions = append(o.APIOptions, addOpHeader)
		return direct{connect.New(o)}, nil
	}
	l, err := newRedisLimiter(r.url, r.account, r.env.Region, r.table, nil, client, r.env.RateScale, benchRedisLogger())
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.lims = append(r.lims, l)
	r.mu.Unlock()
	g := newRedisGovernor(l, r.env, r.env.Seed, client, nil)
	o := r.env.ConnectOptions(client)
	awssdk.Govern(g)(&o)
	return direct{connect.New(o)}, nil
}

// spawnFor returns the start of caller client's process, beginning it if
// needed.
func (r *tollgateRedisRun) spawnFor(client int) *spawn {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sp, ok := r.spawns[client]; ok {
		return sp
	}
	sp := &spawn{done: make(chan struct{})}
	if r.spawns == nil {
		r.spawns = map[int]*spawn{}
	}
	r.spawns[client] = sp
	go func() {
		defer close(sp.done)
		sp.url, sp.err = r.startWorker(client)
	}()
	return sp
}

// startWorker starts caller client's process and returns its proxy URL.
func (r *tollgateRedisRun) startWorker(client int) (string, error) {
	args := append([]string(nil), r.command...)
	args = append(args,
		"--redis", r.url, "--account", r.account, "--region", r.env.Region,
		"--upstream", r.env.Endpoint, "--client", strconv.Itoa(client),
		"--seed", strconv.FormatInt(r.env.Seed, 10), "--rate-scale", fmtFloat(r.env.RateScale))
	ops := append([]string(nil), r.env.Ops...)
	sort.Strings(ops)
	for _, op := range ops {
		a, _ := r.table.API(op)
		args = append(args, "--op", fmt.Sprintf("%s=%s:%d", op, fmtFloat(a.Rate), a.Burst))
	}
	cmd := exec.Command(args[0], args[1:]...)
	if os.Getenv(debugEnv) != "" {
		cmd.Env = append(os.Environ(), debugEnv+"=1")
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	p := &workerProc{cmd: cmd, stdin: stdin, stderr: &lockedBuf{}}
	cmd.Stderr = p.stderr
	if os.Getenv(debugEnv) != "" {
		cmd.Stderr = io.MultiWriter(p.stderr, os.Stderr)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return "", errors.New("bench: strategy closed")
	}
	if err := cmd.Start(); err != nil {
		r.mu.Unlock()
		return "", fmt.Errorf("bench: start %s worker: %w", StrategyTollgateRedis, err)
	}
	r.procs = append(r.procs, p)
	r.mu.Unlock()
	type result struct {
		url string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		u, err := readListen(bufio.NewReader(stdout))
		ch <- result{u, err}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var res result
	select {
	case res = <-ch:
	case <-time.After(10 * time.Second):
		res.err = errors.New("bench: worker did not start within 10s")
	}
	if res.err != nil {
		return "", fmt.Errorf("%w (stderr: %s)", res.err, strings.TrimSpace(p.stderr.String()))
	}
	return res.url, nil
}

// addOpHeader puts the operation name in OpHeader for the worker.
func addOpHeader(stack *smithymiddleware.Stack) error {
	return stack.Build.Add(smithymiddleware.BuildMiddlewareFunc("TollgateBenchOp",
		func(ctx context.Context, in smithymiddleware.BuildInput, next smithymiddleware.BuildHandler) (smithymiddleware.BuildOutput, smithymiddleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				req.Header.Set(OpHeader, middleware.GetOperationName(ctx))
			}
			return next.HandleBuild(ctx, in)
		}), smithymiddleware.After)
}

// Close stops the caller processes and closes the in-process Limiters.
func (r *tollgateRedisRun) Close() error {
	r.mu.Lock()
	r.closed = true
	lims, spawns := r.lims, r.spawns
	r.lims = nil
	r.mu.Unlock()
	for _, sp := range spawns {
		<-sp.done // starts in flight finish (or time out) first
	}
	r.mu.Lock()
	procs := r.procs
	r.procs = nil
	r.mu.Unlock()
	var errs []error
	for _, p := range procs {
		p.stdin.Close() // the worker exits at end of file
	}
	for _, p := range procs {
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				errs = append(errs, fmt.Errorf("bench: worker: %w (stderr: %s)", err, strings.TrimSpace(p.stderr.String())))
			}
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
	}
	for _, l := range lims {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}

// newRedisLimiter builds one caller's Limiter. ops overrides table.
func newRedisLimiter(url, account, region string, table *quotas.Table, ops map[string]ratelimit.Limit, client int, scale float64, logger *slog.Logger) (*redisx.Limiter, error) {
	return redisx.New(redisx.Options{
		URL:      url,
		Account:  account,
		Region:   region,
		Table:    table,
		Ops:      ops,
		WorkerID: fmt.Sprintf("bench-%d-pid%d", client, os.Getpid()),
		Timeout:  benchRedisTimeout,
		Logger:   logger,
	})
}

// newRedisGovernor builds one caller's governor over l wrapped by an
// adaptive.Adapter whose learners live in Redis (redisx.LearnerStore): the
// fleet runs one learner per operation on shared state, exactly as
// `serve --adaptive --redis-url` does. The adapter is the governor's
// limiter and observer. The backoff is scaled with the run like the
// in-process tollgate strategy's.
func newRedisGovernor(l *redisx.Limiter, env Env, seed int64, client int, classify func(string, error) awserr.Info) *governor.Governor {
	a := adaptive.NewAdapter(l, adaptive.AdapterOptions{
		// The fleet shares one learner: it is one client, not a crowd, and
		// each of its DefaultClients processes has a call admitted ahead.
		Learner:  adaptive.Options{Peers: 1, Lag: DefaultClients},
		Store:    redisx.NewLearnerStore(l),
		RandSeed: uint64(seed)*7919 + uint64(client) + 1,
	})
	return governor.New(a, governor.Options{
		Observer: a,
		Classify: classify,
		Backoff: backoff.Options{
			ThrottleBase:  env.Scaled(backoff.DefaultThrottleBase),
			TransientBase: env.Scaled(backoff.DefaultTransientBase),
			Cap:           env.Scaled(backoff.DefaultCap),
		},
		MaxAttempts: governor.DefaultMaxAttempts,
		MaxElapsed:  -1,
		Rand:        mrand.NewPCG(uint64(seed), uint64(client)+211),
	})
}

// debugEnv, when set, sends the limiters' logs (mode changes) to stderr.
const debugEnv = "TOLLGATE_BENCH_REDIS_DEBUG"

func benchRedisLogger() *slog.Logger {
	if os.Getenv(debugEnv) != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// lockedBuf collects a worker's stderr (bounded).
type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 64<<10 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ParseOpLimit parses a worker --op flag value, "Name=rate:burst".
func ParseOpLimit(s string) (string, ratelimit.Limit, error) {
	name, lim, ok := strings.Cut(s, "=")
	r, b, ok2 := strings.Cut(lim, ":")
	if !ok || !ok2 || name == "" {
		return "", ratelimit.Limit{}, fmt.Errorf("op: want Name=rate:burst, got %q", s)
	}
	rate, err := strconv.ParseFloat(r, 64)
	if err != nil || rate <= 0 {
		return "", ratelimit.Limit{}, fmt.Errorf("op %s: rate: want a number > 0, got %q", name, r)
	}
	burst, err := strconv.ParseFloat(b, 64)
	if err != nil || burst < 1 {
		return "", ratelimit.Limit{}, fmt.Errorf("op %s: burst: want a number >= 1, got %q", name, b)
	}
	return name, ratelimit.Limit{Rate: rate, Burst: burst}, nil
}
