package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/adaptive"
	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/governor"
	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// fakeClock is a settable clock for Adapters.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// attempt is a governed attempt of op sent at sent: accepted, or a rate
// throttle.
func attempt(op string, sent time.Time, throttled bool) governor.Attempt {
	a := governor.Attempt{Op: op, Start: sent, Info: awserr.Info{Status: 200}}
	if throttled {
		a.Err = errors.New("ThrottlingException")
		a.Info = awserr.Info{Class: awserr.ClassRateThrottle, Status: 429}
	}
	return a
}

// TestLearnerStoreConformance: two workers (two Limiters, each with its own
// Adapter and LearnerStore) take turns observing one stream of attempts.
// The learner they share in Redis must be, step for step, the learner a
// single process fed the same stream holds; the limit it learns must reach
// both workers' shared buckets.
func TestLearnerStoreConformance(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	seed := ratelimit.Limit{Rate: 10, Burst: 10}
	o := testOptions(t, srv, ratelimit.Limit{}, map[string]ratelimit.Limit{"A": seed})
	clock := &fakeClock{t: time.Now()}
	lo := adaptive.Options{Peers: 1}
	var workers [2]*adaptive.Adapter
	var lims [2]*Limiter
	for i := range workers {
		lims[i] = newTestLimiter(t, o)
		workers[i] = adaptive.NewAdapter(lims[i], adaptive.AdapterOptions{
			Learner: lo, Store: NewLearnerStore(lims[i]), Dither: -1, Now: clock.now,
		})
	}
	ref := adaptive.NewLearner(seed, lo)
	rnd := rand.New(rand.NewPCG(7, 8))
	t0 := clock.now()
	sec := 0.0
	for i := range 400 {
		sec += rnd.ExpFloat64() / 11
		now := t0.Add(time.Duration(sec * float64(time.Second)))
		clock.set(now)
		at := attempt("A", now.Add(-2*time.Millisecond), rnd.Float64() < 0.1)
		w := workers[rnd.IntN(2)]
		w.ObserveAttempt(at)
		ref.Observe(now, adaptive.SignalOf(at))
		got, ok := w.Snapshot("A")
		if !ok || got.Limit != ref.Limit(now) || got.Ceiling != ref.Ceiling() || got.Knee != ref.Knee() {
			t.Fatalf("step %d: shared learner %+v (ok %v), single learner limit %+v ceiling %v knee %v",
				i, got, ok, ref.Limit(now), ref.Ceiling(), ref.Knee())
		}
	}
	if ref.Knee() == 0 {
		t.Fatal("the stream never made the learner measure: the test exercised too little")
	}
	for i, w := range workers {
		if n := w.StoreErrors(); n != 0 {
			t.Errorf("worker %d: %d store errors", i, n)
		}
	}
	// Both workers' buckets run at the learned limit (the second learns it
	// from Redis at its next admission).
	want := ref.Limit(clock.now())
	for i, l := range lims {
		if _, err := l.Try(context.Background(), ratelimit.Request{Op: "A"}); err != nil {
			t.Fatal(err)
		}
		if got := l.Limit("A"); got != want {
			t.Errorf("worker %d: Limit(A) = %+v want the learned %+v", i, got, want)
		}
	}
}

// TestLearnerStoreConcurrent: three workers update one learner from many
// goroutines at once (about 6000 updates/s offered); no observation is
// lost.
func TestLearnerStoreConcurrent(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	o := testOptions(t, srv, ratelimit.Limit{}, nil)
	seed := ratelimit.Limit{Rate: 100, Burst: 10}
	// Three processes, two calls in flight each, each call's observation
	// every few milliseconds: the pace of a busy fleet, not the sustained
	// contention under which LearnerStore drops observations by design
	// (ErrStoreContended).
	const workers, goroutines, each = 3, 2, 30
	var stores [workers]*LearnerStore
	for i := range stores {
		stores[i] = NewLearnerStore(newTestLimiter(t, o))
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers*goroutines*each)
	for i := range workers * goroutines {
		wg.Go(func() {
			for j := range each {
				// A worker observes at its calls' pace, not in a tight loop
				// (see LearnerStore on sustained contention).
				time.Sleep(time.Duration(rand.IntN(10000)) * time.Microsecond)
				now := start.Add(time.Duration(i*each+j) * time.Millisecond)
				errs <- stores[i%workers].Update(context.Background(), "B", func(cur *adaptive.Learner) (*adaptive.Learner, bool) {
					if cur == nil {
						cur = adaptive.NewLearner(seed, adaptive.Options{})
					}
					cur.Observe(now, adaptive.Signal{})
					return cur, true
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
	}
	l := stores[0].l
	v, err := l.client().HMGet(context.Background(), l.keys.learner("B"), "v", "s").Result()
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Acc int64 `json:"acc"`
	}
	s, _ := v[1].(string)
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		t.Fatalf("stored state %q: %v", s, err)
	}
	if want := int64(workers * goroutines * each); st.Acc != want {
		t.Fatalf("accepted count in the shared learner: got %d want %d (lost updates)", st.Acc, want)
	}
}

// TestLearnerStoreFallback: while its Limiter falls back, the store keeps
// learning on this process's copy without touching Redis; once Redis is
// back (restarted empty), the first update publishes what was learned.
func TestLearnerStoreFallback(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	o := testOptions(t, srv, ratelimit.Limit{}, map[string]ratelimit.Limit{"A": {Rate: 10, Burst: 5}})
	o.ProbeInterval = 20 * time.Millisecond
	l := newTestLimiter(t, o)
	s := NewLearnerStore(l)
	var seen []int64 // the accepted count fn was given, per run
	observe := func(cur *adaptive.Learner) (*adaptive.Learner, bool) {
		if cur == nil {
			cur = adaptive.NewLearner(ratelimit.Limit{Rate: 10, Burst: 5}, adaptive.Options{})
		}
		seen = append(seen, storedAcc(t, cur))
		cur.Observe(time.Now(), adaptive.Signal{})
		return cur, true
	}
	if err := s.Update(context.Background(), "A", observe); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	_, _ = l.Try(context.Background(), ratelimit.Request{Op: "A", Cost: 5}) // notices
	eventually(t, eventuallyWait, "fallback", func() bool { return l.Mode() == ModeFallback })
	for range 3 {
		if err := s.Update(context.Background(), "A", observe); err != nil {
			t.Fatalf("Update in fallback: %v (want it learned locally)", err)
		}
	}
	if want := []int64{0, 1, 2, 3}; !slices.Equal(seen, want) {
		t.Fatalf("accepted counts fn saw: %v want %v (observations kept locally)", seen, want)
	}
	srv.Restart()
	eventually(t, eventuallyWait, "shared again", func() bool { return l.Mode() == ModeShared })
	if err := s.Update(context.Background(), "A", observe); err != nil {
		t.Fatalf("Update after recovery: %v", err)
	}
	v, err := l.client().HGet(context.Background(), l.keys.learner("A"), "s").Result()
	if err != nil {
		t.Fatalf("the learner was not published after recovery: %v", err)
	}
	var back adaptive.Learner
	if err := back.UnmarshalBinary([]byte(v)); err != nil {
		t.Fatal(err)
	}
	if got := storedAcc(t, &back); got != 5 {
		t.Fatalf("published learner has %d accepted calls, want 5 (one before, three during, one after the outage)", got)
	}
}

// storedAcc is a learner's count of accepted calls, from its encoding.
func storedAcc(t *testing.T, l *adaptive.Learner) int64 {
	t.Helper()
	b, err := l.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Acc int64 `json:"acc"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st.Acc
}
