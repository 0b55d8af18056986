package redisx

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/adaptive"
	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/backoff"
	"github.com/tollgatehq/tollgate/governor"
	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

// The fleet test runs workers as separate OS processes: the test binary
// re-executed with fleetWorkerEnv set, each with its own Limiter,
// governor and real aws-sdk-go-v2 Connect client, calling a simulator the
// parent serves on loopback. They share nothing but Redis.

const fleetWorkerEnv = "REDISX_FLEET_WORKER"

const (
	fleetOp    = "ListInstances"
	fleetRate  = 40.0
	fleetBurst = 10
)

// fleetReady is the line a worker prints when it sees the whole fleet.
const fleetReady = "ready"

// fleetResult is what a worker process prints on stdout after the run.
type fleetResult struct {
	OK, Failed int64
	Stats      Stats
}

// runFleetWorker is the worker process's main: it returns the exit code.
func runFleetWorker() int {
	env := func(k string) string { return os.Getenv("REDISX_FLEET_" + k) }
	run, _ := time.ParseDuration(env("RUN"))
	fleet, _ := strconv.Atoi(env("N"))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	l, err := New(Options{
		URL:           env("REDIS"),
		Account:       env("ACCOUNT"),
		Region:        "us-east-1",
		Ops:           map[string]ratelimit.Limit{fleetOp: {Rate: fleetRate, Burst: fleetBurst}},
		WorkerID:      env("ID"),
		Timeout:       250 * time.Millisecond,
		Heartbeat:     100 * time.Millisecond,
		LiveWindow:    400 * time.Millisecond,
		ProbeInterval: 50 * time.Millisecond,
		Logger:        logger,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	defer l.Close()
	// The fleet runs one adaptive learner on shared state, wired as serve
	// --adaptive --redis-url wires it: a fleet is one client (Peers 1)
	// reacting about one call per worker late (Lag).
	a := adaptive.NewAdapter(l, adaptive.AdapterOptions{
		Learner: adaptive.Options{Peers: 1, Lag: fleet},
		Store:   NewLearnerStore(l),
	})
	a.Prime(fleetOp)
	g := governor.New(a, governor.Options{
		Observer:    a,
		MaxAttempts: 4,
		MaxElapsed:  -1,
		Backoff:     backoff.Options{ThrottleBase: 25 * time.Millisecond, TransientBase: 5 * time.Millisecond, Cap: 200 * time.Millisecond},
	})
	id := env("ID")
	o := connect.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(env("SIM")),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID" + id, SecretAccessKey: "secret", Source: "fleet"}, nil
		}),
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	}
	awssdk.Govern(g)(&o)
	c := connect.New(o)

	// Ready once this worker counts the whole fleet in the heartbeat set;
	// then the parent sends the common start time. (Starting a race-built
	// process takes seconds on a busy machine: a fixed start-up allowance
	// would let Redis die before the fleet had formed.)
	// (A busy machine can make a heartbeat time out, a brief fallback:
	// wait for shared mode too; the parent bounds the wait.)
	for l.LiveWorkers() < fleet || l.Mode() != ModeShared {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println(fleetReady)
	var startNs int64
	if _, err := fmt.Fscan(os.Stdin, &startNs); err != nil {
		fmt.Fprintln(os.Stderr, "worker: reading the start time:", err)
		return 1
	}
	time.Sleep(time.Until(time.Unix(0, startNs)))
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	var okN, failN atomic.Int64
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for ctx.Err() == nil {
				_, err := c.ListInstances(ctx, &connect.ListInstancesInput{})
				switch {
				case err == nil:
					okN.Add(1)
				case ctx.Err() != nil || errors.Is(err, governor.ErrDeadline):
					return // the run is ending
				default:
					failN.Add(1)
					logger.Warn("call failed", "err", err.Error())
				}
			}
		})
	}
	wg.Wait()
	// Redis is back by now or soon: the parent restarts it a second before
	// the run ends, but a busy machine may take longer to start it. Wait
	// (bounded) for the return to shared mode, which the health loop makes
	// whether or not calls are flowing.
	for end := time.Now(); l.Mode() != ModeShared && time.Since(end) < time.Minute; {
		time.Sleep(10 * time.Millisecond)
	}
	out, _ := json.Marshal(fleetResult{OK: okN.Load(), Failed: failN.Load(), Stats: l.Stats()})
	fmt.Println(string(out))
	return 0
}

// TestFleetProcesses: four worker processes of six goroutines each share
// ListInstances at 40/s burst 10 through Redis and one adaptive learner
// (redisx.LearnerStore), with real SDK clients against the simulator. The
// run starts once every worker sees the whole fleet; Redis is killed a
// second into it and restarted a second later. The simulator must see no
// more than one burst above its quota (its 429s count the overshoot), the
// fleet must keep working, and every worker must fall back and return.
func TestFleetProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	srv := redisenv.Start(t, redisenv.Options{})
	table := quotas.Default()
	if err := table.SetAPI(quotas.API{Op: fleetOp, Rate: fleetRate, Burst: fleetBurst}); err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Options{Quotas: table, Region: "us-east-1", Seed: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var throttles throttleLog
	hs := httptest.NewServer(throttles.wrap(s))
	defer hs.Close()

	const workers = 4
	const run = 3 * time.Second
	account := uniqueAccount()
	type proc struct {
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		ready  chan error
		out    chan []byte // the rest of stdout, once the process closed it
		stderr bytes.Buffer
	}
	procs := make([]*proc, workers)
	for i := range procs {
		p := &proc{cmd: exec.Command(os.Args[0], "-test.run=^$"), ready: make(chan error, 1), out: make(chan []byte, 1)}
		p.cmd.Env = append(os.Environ(),
			fleetWorkerEnv+"=1",
			"REDISX_FLEET_REDIS="+srv.URL(),
			"REDISX_FLEET_ACCOUNT="+account,
			"REDISX_FLEET_SIM="+hs.URL,
			"REDISX_FLEET_ID="+fmt.Sprintf("w%d", i),
			"REDISX_FLEET_N="+strconv.Itoa(workers),
			"REDISX_FLEET_RUN="+run.String(),
		)
		p.cmd.Stderr = &p.stderr
		var err error
		if p.stdin, err = p.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		stdout, err := p.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Start(); err != nil {
			t.Fatalf("start worker %d: %v", i, err)
		}
		procs[i] = p
		go func() {
			r := bufio.NewReader(stdout)
			line, err := r.ReadString('\n')
			if err == nil && strings.TrimSpace(line) != fleetReady {
				err = fmt.Errorf("first line %q, want %q", line, fleetReady)
			}
			p.ready <- err
			rest, _ := io.ReadAll(r)
			p.out <- rest
		}()
	}
	defer func() {
		for _, p := range procs {
			if p != nil && p.cmd.ProcessState == nil {
				_ = p.cmd.Process.Kill()
				_ = p.cmd.Wait()
			}
		}
	}()
	// The run starts when every worker sees the whole fleet, however long
	// the processes took to start.
	notReady := func(i int, why string) {
		for _, p := range procs {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait() // stderr is complete once Wait returns
		}
		t.Fatalf("worker %d %s\nstderr: %s", i, why, procs[i].stderr.String())
	}
	for i, p := range procs {
		select {
		case err := <-p.ready:
			if err != nil {
				notReady(i, "did not get ready: "+err.Error())
			}
		case <-time.After(2 * time.Minute):
			notReady(i, "not ready after 2m")
		}
	}
	start := time.Now().Add(100 * time.Millisecond)
	throttles.setStart(start)
	defer func() { t.Logf("throttled at (s after the start; Redis down from 1 to 2): %s", throttles.String()) }()
	for _, p := range procs {
		fmt.Fprintln(p.stdin, start.UnixNano())
		_ = p.stdin.Close()
	}
	time.Sleep(time.Until(start.Add(time.Second)))
	srv.Kill()
	time.Sleep(time.Until(start.Add(2 * time.Second)))
	srv.Restart()
	var total fleetResult
	for i, p := range procs {
		stdout := <-p.out
		err := p.cmd.Wait()
		var r fleetResult
		if err != nil || json.Unmarshal(bytes.TrimSpace(stdout), &r) != nil {
			t.Fatalf("worker %d: %v\nstdout: %s\nstderr: %s", i, err, stdout, p.stderr.String())
		}
		t.Logf("worker %d: ok %d failed %d stats %+v", i, r.OK, r.Failed, r.Stats)
		if r.Failed > 0 { // the worker logged each failure's error
			t.Logf("worker %d stderr: %s", i, p.stderr.String())
		}
		if r.Stats.Fallbacks < 1 || r.Stats.Recoveries < 1 {
			t.Errorf("worker %d: want a fallback and a recovery, stats %+v\nstderr: %s", i, r.Stats, p.stderr.String())
		}
		if r.OK == 0 {
			t.Errorf("worker %d made no call through the outage", i)
		}
		total.OK += r.OK
		total.Failed += r.Failed
	}
	st := s.Stats().Operations[fleetOp]
	el := run.Seconds()
	t.Logf("simulator: %d requests, %d accepted, %d throttled; quota over %.1fs: %.0f (rate×T + burst)",
		st.Requests, st.Accepted, st.Throttled, el, fleetRate*el+fleetBurst)
	if st.Throttled > fleetBurst {
		t.Errorf("simulator throttled %d requests: the fleet overshot its quota by more than one burst (%d)", st.Throttled, fleetBurst)
	}
	// How much of the quota the fleet used is a speed figure (logged above;
	// tollgate bench measures it); what must hold on any machine is that
	// the fleet kept working through the outage.
	if st.Accepted == 0 {
		t.Errorf("simulator accepted nothing")
	}
	if total.Failed > 0 {
		t.Errorf("%d calls failed after retries", total.Failed)
	}
}

// throttleLog records when the simulator answered other than 200.
type throttleLog struct {
	mu    sync.Mutex
	start time.Time
	at    []time.Duration
}

func (tl *throttleLog) setStart(t time.Time) {
	tl.mu.Lock()
	tl.start = t
	tl.mu.Unlock()
}

func (tl *throttleLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		if sw.code != http.StatusOK {
			tl.mu.Lock()
			tl.at = append(tl.at, time.Since(tl.start))
			tl.mu.Unlock()
		}
	})
}

func (tl *throttleLog) String() string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var b strings.Builder
	for i, d := range tl.at {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.2f", d.Seconds())
	}
	return b.String()
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(c int) { s.code = c; s.ResponseWriter.WriteHeader(c) }
