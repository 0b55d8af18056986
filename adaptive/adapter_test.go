package adaptive_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/adaptive"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// bucketServer is the in-test server: one token bucket (the operation's, per
// account) that every caller shares, in the bubble's clock.
type bucketServer struct {
	mu       sync.Mutex
	b        ratelimit.Bucket
	accepted map[string][]time.Time // per caller
	throttle map[string]int
}

func newBucketServer(l ratelimit.Limit) *bucketServer {
	return &bucketServer{b: ratelimit.NewBucket(l, time.Now()), accepted: map[string][]time.Time{}, throttle: map[string]int{}}
}

// serve is one request of caller: 1 ms each way, then the bucket decides.
func (s *bucketServer) serve(caller string) error {
	time.Sleep(time.Millisecond)
	s.mu.Lock()
	ok := s.b.AllowN(time.Now(), 1)
	if ok {
		s.accepted[caller] = append(s.accepted[caller], time.Now())
	} else {
		s.throttle[caller]++
	}
	s.mu.Unlock()
	time.Sleep(time.Millisecond)
	if !ok {
		return throttleErr{}
	}
	return nil
}

func (s *bucketServer) setLimit(l ratelimit.Limit) {
	s.mu.Lock()
	s.b.SetLimit(time.Now(), l)
	s.mu.Unlock()
}

// rate returns caller's accepted calls per second in [from, to) since start.
func (s *bucketServer) rate(caller string, start time.Time, from, to float64) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.accepted[caller] {
		if d := t.Sub(start).Seconds(); d >= from && d < to {
			n++
		}
	}
	return float64(n) / (to - from)
}

// throttleErr looks like the SDK's ThrottlingException to awserr.Classify.
type throttleErr struct{}

func (throttleErr) Error() string        { return "ThrottlingException: Rate exceeded" }
func (throttleErr) ErrorCode() string    { return "ThrottlingException" }
func (throttleErr) ErrorMessage() string { return "Rate exceeded" }
func (throttleErr) HTTPStatusCode() int  { return 429 }

const op = "DescribeUser" // 10/s, burst 10 in the quota table

// governed returns a governor whose limiter is an Adapter around a Hierarchy
// seeded from the quota table, with a short backoff (the limiter paces).
func governed(seed uint64) (*governor.Governor, *adaptive.Adapter) {
	a := adaptive.NewAdapter(ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: quotas.Default()}), adaptive.AdapterOptions{RandSeed: seed})
	a.Prime(op)
	g := governor.New(a, governor.Options{Observer: a, MaxElapsed: -1, Rand: rand.NewPCG(seed, 2)})
	return g, a
}

// work runs w workers calling op through g until ctx ends.
func work(ctx context.Context, wg *sync.WaitGroup, g *governor.Governor, s *bucketServer, caller string, w int) {
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := g.Do(ctx, op, func(context.Context) error { return s.serve(caller) }); err != nil {
					// Near the end the admission fails at once (the wait would
					// outlast ctx's deadline): do not spin in virtual time.
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
}

// TestAdapterNeighbour: a governed caller alone, then an ungoverned neighbour
// takes half the bucket from 30 s to 60 s, then leaves (virtual time).
func TestAdapterNeighbour(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s := newBucketServer(ratelimit.Limit{Rate: 10, Burst: 10})
		g, a := governed(1)
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		work(ctx, &wg, g, s, "us", 4)
		wg.Add(1)
		go func() { // the neighbour: Poisson arrivals at 5/s, no retries
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(3, 4))
			time.Sleep(30 * time.Second)
			for time.Since(start) < 60*time.Second {
				time.Sleep(time.Duration(rnd.ExpFloat64() / 5 * float64(time.Second)))
				go s.serve("neighbour")
			}
		}()
		wg.Wait()
		synctest.Wait()

		us := s.rate("us", start, 0, 90) * 90
		for x := 58.0; x < 90; x += 2 {
			t.Logf("%.0f-%.0f: %.2f", x, x+2, s.rate("us", start, x, x+2))
		}
		steps := []struct {
			name     string
			got      float64
			min, max float64
		}{
			{"our rate alone", s.rate("us", start, 5, 30), 9.5, 10.5},
			{"our rate beside the neighbour", s.rate("us", start, 40, 60), 3.5, 6.5},
			{"the neighbour's rate", s.rate("neighbour", start, 40, 60), 3.5, 6},
			{"our rate from 12 s after it left", s.rate("us", start, 72, 90), 9.5, 10.5},
			{"our 429s per success", float64(s.throttle["us"]) / us, 0, 0.03},
		}
		for i, st := range steps {
			t.Logf("step %d: %s: %.3f", i, st.name, st.got)
			if st.got < st.min || st.got > st.max {
				t.Errorf("step %d: %s: got %.3f want in [%v, %v]", i, st.name, st.got, st.min, st.max)
			}
		}
		if sn, ok := a.Snapshot(op); !ok || sn.Seed.Rate != 10 {
			t.Errorf("snapshot %+v %v", sn, ok)
		}
	})
}

// TestAdapterQuotaChange: the quota doubles at 30 s and halves back at 60 s.
func TestAdapterQuotaChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s := newBucketServer(ratelimit.Limit{Rate: 10, Burst: 10})
		g, _ := governed(2)
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		work(ctx, &wg, g, s, "us", 8)
		var throttlesAt []int
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(30 * time.Second)
			s.setLimit(ratelimit.Limit{Rate: 20, Burst: 20})
			time.Sleep(30 * time.Second)
			s.mu.Lock()
			before := s.throttle["us"]
			s.mu.Unlock()
			s.setLimit(ratelimit.Limit{Rate: 10, Burst: 10})
			for range 15 {
				time.Sleep(time.Second)
				s.mu.Lock()
				throttlesAt = append(throttlesAt, s.throttle["us"]-before)
				s.mu.Unlock()
			}
		}()
		wg.Wait()
		synctest.Wait()

		reached := -1.0
		for x := 30.0; x < 59; x += 0.5 {
			if s.rate("us", start, x, x+1) >= 19 {
				reached = x + 1 - 30
				break
			}
		}
		if reached < 0 || reached > 12 {
			t.Errorf("95%% of the doubled quota after %.1f s, want within 12 s", reached)
		}
		// One burst of 429s: none from 3 s to 10 s after the decrease (a
		// probe of the ceiling may come later).
		if len(throttlesAt) != 15 || throttlesAt[9] != throttlesAt[2] || throttlesAt[2] == 0 {
			t.Errorf("cumulative 429s per second after the decrease: %v; want a first burst, then none for 7 s", throttlesAt)
		}
		if got := s.rate("us", start, 65, 90); got < 9 || got > 10.5 {
			t.Errorf("rate after the decrease %.2f, want about 10", got)
		}
	})
}

// TestAdapterPassThrough: Try, Limit and SetLimit reach the wrapped limiter;
// SetLimit re-seeds the learner; an unlimited operation is not learned.
func TestAdapterPassThrough(t *testing.T) {
	h := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Ops: map[string]ratelimit.Limit{"Free": {}}})
	a := adaptive.NewAdapter(h, adaptive.AdapterOptions{Dither: -1})
	ctx := context.Background()
	d, err := a.Try(ctx, ratelimit.Request{Op: op})
	if err != nil || !d.OK {
		t.Fatalf("try: %+v %v", d, err)
	}
	if got := a.Limit(op); got.Rate != 2.5 || got.Burst != 1 {
		t.Fatalf("primed limit %+v, want the cold start 2.5/s burst 1", got)
	}
	if err := a.SetLimit(ctx, op, ratelimit.Limit{Rate: 40, Burst: 40}); err != nil {
		t.Fatal(err)
	}
	if sn, _ := a.Snapshot(op); sn.Seed.Rate != 40 || a.Limit(op).Rate != 40 {
		t.Fatalf("after SetLimit: snapshot %+v limit %+v", sn, a.Limit(op))
	}
	if err := a.Wait(ctx, ratelimit.Request{Op: "Free"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Snapshot("Free"); ok {
		t.Fatal("an unlimited operation was learned")
	}
	a.ObserveAttempt(governor.Attempt{Op: "Free"}) // must not panic
	a.ObserveOutcome(governor.Outcome{})
	if a.Inner() != ratelimit.Limiter(h) {
		t.Fatal("Inner")
	}
}

// TestAdapterRestoresStaleLimit: a limit set on the wrapped limiter behind
// the learner's back (in a fleet: another process's late or flushed
// SetLimit) does not stand; the next observation puts the learned one back,
// even when it does not change the learner's limit.
func TestAdapterRestoresStaleLimit(t *testing.T) {
	h := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{})
	a := adaptive.NewAdapter(h, adaptive.AdapterOptions{Dither: -1, Seed: func(string) ratelimit.Limit {
		return ratelimit.Limit{Rate: 10, Burst: 10}
	}})
	ctx := context.Background()
	a.Prime(op)
	learned := a.Limit(op)
	stale := ratelimit.Limit{Rate: 1, Burst: 1}
	if err := h.SetLimit(ctx, op, stale); err != nil {
		t.Fatal(err)
	}
	// One accepted call: too little history to grow on, so the learner's
	// limit stays as it was.
	a.ObserveAttempt(governor.Attempt{Op: op})
	if sn, _ := a.Snapshot(op); sn.Limit != learned {
		t.Fatalf("learner's limit %+v changed, want %+v (the test needs an observation that keeps it)", sn.Limit, learned)
	}
	if got := h.Limit(op); got != learned {
		t.Fatalf("wrapped limit %+v after an observation, want the learned %+v, not the stale %+v", got, learned, stale)
	}
}
