package redisx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// recorder collects admission instants from many goroutines.
type recorder struct {
	mu sync.Mutex
	ts []time.Time
}

func (r *recorder) add(t time.Time) {
	r.mu.Lock()
	r.ts = append(r.ts, t)
	r.mu.Unlock()
}

// maxInWindow returns the most admissions in any window of length w.
func (r *recorder) maxInWindow(w time.Duration) int {
	r.mu.Lock()
	ts := append([]time.Time(nil), r.ts...)
	r.mu.Unlock()
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) > w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ts)
}

// checkWindows asserts that no window of the given lengths saw more than
// rate×w + burst + extra admissions.
func checkWindows(t *testing.T, r *recorder, rate, burst, extra float64, windows ...time.Duration) {
	t.Helper()
	for _, w := range windows {
		max := rate*w.Seconds() + burst + extra
		if got := r.maxInWindow(w); float64(got) > max {
			t.Errorf("window %v: %d admissions, want at most rate×w + burst + %.0f = %.1f", w, got, extra, max)
		} else {
			t.Logf("window %v: %d admissions (bound %.1f)", w, got, max)
		}
	}
}

// fleetOptions are options for several workers of one test fleet, with a
// fast heartbeat.
func fleetOptions(t *testing.T, srv *redisenv.Server, op string, lim ratelimit.Limit) Options {
	o := testOptions(t, srv, ratelimit.Limit{}, map[string]ratelimit.Limit{op: lim})
	o.Timeout = 250 * time.Millisecond // a killed server refuses at once; don't flap on a loaded machine
	o.Heartbeat = 100 * time.Millisecond
	o.LiveWindow = 400 * time.Millisecond
	o.ProbeInterval = 50 * time.Millisecond
	return o
}

// TestRedisKilled kills Redis in the middle of a fleet's run and restarts
// it on the same port. The workers fall back to local buckets at rate/3,
// return to shared mode, and over the whole run, and every window of it,
// admit no more than the quota plus one burst beyond the bucket's own.
func TestRedisKilled(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	const rate, burst, workers, perWorker = 60.0, 12.0, 3, 3
	o := fleetOptions(t, srv, "A", ratelimit.Limit{Rate: rate, Burst: burst})
	var modesMu sync.Mutex
	modes := map[string][]Mode{}
	var lims []*Limiter
	for i := range workers {
		oi := o
		oi.WorkerID = fmt.Sprintf("w%d", i)
		oi.OnModeChange = func(m Mode) {
			modesMu.Lock()
			modes[oi.WorkerID] = append(modes[oi.WorkerID], m)
			modesMu.Unlock()
		}
		lims = append(lims, newTestLimiter(t, oi))
	}
	eventually(t, eventuallyWait, "every worker counts 3 live workers", func() bool {
		for _, l := range lims {
			if l.LiveWorkers() != workers {
				return false
			}
		}
		return true
	})

	const run = 2400 * time.Millisecond
	rec := &recorder{}
	perLim := make([]*recorder, workers)
	start := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(run))
	defer cancel()
	var wg sync.WaitGroup
	for i, l := range lims {
		perLim[i] = &recorder{}
		for range perWorker {
			wg.Go(func() {
				for ctx.Err() == nil {
					err := l.Wait(ctx, ratelimit.Request{Op: "A"})
					if err == nil {
						now := time.Now()
						rec.add(now)
						perLim[i].add(now)
						continue
					}
					if !errors.Is(err, ratelimit.ErrWouldExceedDeadline) && !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("Wait: %v", err)
						return
					}
				}
			})
		}
	}

	time.Sleep(800 * time.Millisecond)
	srv.Kill()
	killed := time.Now()
	eventually(t, eventuallyWait, "every worker in fallback mode", func() bool {
		for _, l := range lims {
			if l.Mode() != ModeFallback {
				return false
			}
		}
		return true
	})
	t.Logf("all workers in fallback %v after the kill", time.Since(killed))
	time.Sleep(time.Until(start.Add(1600 * time.Millisecond)))
	srv.Restart()
	restarted := time.Now()
	eventually(t, eventuallyWait, "every worker back in shared mode", func() bool {
		for _, l := range lims {
			if l.Mode() != ModeShared {
				return false
			}
		}
		return true
	})
	t.Logf("all workers shared again %v after the restart", time.Since(restarted))
	wg.Wait()
	el := time.Since(start)

	total := rec.count()
	quota := rate*el.Seconds() + burst
	t.Logf("admitted %d in %v; quota (rate×T + burst) %.1f", total, el, quota)
	if float64(total) > quota+burst {
		t.Errorf("admitted %d: more than the quota plus one burst (%.1f)", total, quota+burst)
	}
	// How much of the quota the fleet used is a speed figure (a busy
	// machine runs the callers late); what holds on any machine is that
	// every worker admitted locally through the outage (checked below).
	checkWindows(t, rec, rate, burst, burst, 250*time.Millisecond, 500*time.Millisecond, time.Second, run)
	for i, l := range lims {
		s := l.Stats()
		if s.Fallbacks < 1 || s.Recoveries < 1 || s.LocalAdmits == 0 {
			t.Errorf("worker %d: want a fallback with local admissions and a recovery: %+v", i, s)
		}
		// OnModeChange is called from its own goroutine: the return to
		// shared mode may be reported a moment after Mode says so.
		var seen []Mode
		back := func() bool {
			modesMu.Lock()
			seen = append([]Mode(nil), modes[l.WorkerID()]...)
			modesMu.Unlock()
			return len(seen) >= 2 && seen[len(seen)-1] == ModeShared
		}
		for end := time.Now().Add(eventuallyWait); !back() && time.Now().Before(end); {
			time.Sleep(10 * time.Millisecond)
		}
		if len(seen) < 2 || seen[0] != ModeFallback || seen[len(seen)-1] != ModeShared {
			t.Errorf("worker %d: OnModeChange saw %v, want fallback … shared", i, seen)
		}
	}
}

// TestRedisPaused: a stalled Redis (SIGSTOP) costs one timeout, not one
// per call: the first decision falls back after Options.Timeout and the
// next ones are local and immediate. When Redis answers again the worker
// returns to shared mode.
func TestRedisPaused(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	o := fleetOptions(t, srv, "A", ratelimit.Limit{Rate: 100, Burst: 10})
	o.Timeout = 50 * time.Millisecond
	l := newTestLimiter(t, o)
	ctx := context.Background()
	if d, err := l.Try(ctx, ratelimit.Request{Op: "A"}); err != nil || !d.OK {
		t.Fatalf("Try with Redis up: %+v, %v", d, err)
	}
	srv.Pause()
	resumed := false
	defer func() {
		if !resumed {
			srv.Resume()
		}
	}()
	before := l.Stats()
	d, err := l.Try(ctx, ratelimit.Request{Op: "A"})
	if err != nil {
		t.Fatalf("Try with Redis paused: %v", err)
	}
	// The Try gave up on Redis after at most one timed-out round trip
	// (bounded by Options.Timeout; none if a heartbeat had already timed
	// out) and decided locally.
	if got := l.Stats().RoundTrips - before.RoundTrips; got > 1 {
		t.Errorf("first Try with Redis paused made %d admission round trips, want at most 1", got)
	}
	if !d.OK {
		t.Errorf("first Try with Redis paused was refused: the local bucket starts with the last known tokens")
	}
	if l.Mode() != ModeFallback {
		t.Fatalf("mode with Redis paused: got %v want fallback", l.Mode())
	}
	before = l.Stats()
	for range 20 {
		if _, err := l.Try(ctx, ratelimit.Request{Op: "A"}); err != nil {
			t.Fatalf("Try in fallback: %v", err)
		}
	}
	// Fallback decisions never wait for Redis: none of them asked it.
	if after := l.Stats(); after.RoundTrips != before.RoundTrips || after.LocalAdmits+after.Refusals-before.LocalAdmits-before.Refusals != 20 {
		t.Errorf("20 Trys in fallback: %d admission round trips, %d local decisions; want 0 and 20",
			after.RoundTrips-before.RoundTrips, after.LocalAdmits+after.Refusals-before.LocalAdmits-before.Refusals)
	}
	srv.Resume()
	resumed = true
	eventually(t, eventuallyWait, "shared mode after resume", func() bool { return l.Mode() == ModeShared })
}

// TestStartWithoutRedis: New succeeds with Redis down, starts in fallback
// mode at rate/AssumedWorkers and never logs the password.
func TestStartWithoutRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	var logs strings.Builder
	var mu sync.Mutex
	o := Options{
		URL:            "redis://:hunter2@" + addr,
		Account:        uniqueAccount(),
		Region:         "eu-west-2",
		Ops:            map[string]ratelimit.Limit{"A": {Rate: 10, Burst: 4}},
		AssumedWorkers: 2,
		Logger:         newLockedLogger(&mu, &logs),
	}
	l := newTestLimiter(t, o)
	if l.Mode() != ModeFallback {
		t.Fatalf("mode with Redis down at start: got %v want fallback", l.Mode())
	}
	// Burst 4 over 2 assumed workers: 2 now, then 5/s.
	ctx := context.Background()
	steps := []bool{true, true, false}
	for i, want := range steps {
		d, err := l.Try(ctx, ratelimit.Request{Op: "A"})
		if err != nil || d.OK != want {
			t.Fatalf("step %d: got %+v, %v want OK=%v", i, d, err, want)
		}
	}
	if d, _ := l.Try(ctx, ratelimit.Request{Op: "A"}); d.RetryIn < 150*time.Millisecond || d.RetryIn > 200*time.Millisecond {
		t.Errorf("RetryIn at 5/s: got %v want about 200ms", d.RetryIn)
	}
	if _, err := l.Try(ctx, ratelimit.Request{Op: "A", Cost: 5}); !errors.Is(err, ratelimit.ErrExceedsBurst) {
		t.Errorf("cost 5 > burst 4 in fallback: got %v want ErrExceedsBurst", err)
	}
	l.Close()
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "fallback") && !strings.Contains(logs.String(), "local buckets") {
		t.Errorf("the fallback was not logged: %q", logs.String())
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Errorf("the password was logged: %q", logs.String())
	}
}
