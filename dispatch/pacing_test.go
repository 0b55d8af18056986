package dispatch_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/queue"
)

// TestPacing delivers a 1,000-call campaign against StartOutboundVoiceContact
// at its published 2 requests/s, burst 5, scaled by 10 (20/s, burst 50), in
// virtual time through the real SDK and the simulator. The lower bound is
// (N − burst)/rate = 47.5 s: the campaign must finish within 5% of it, with
// fewer than 1% of the requests throttled by the simulator.
func TestPacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			n     = 1000
			scale = 10.0
			rate  = 2 * scale
			burst = 5 * scale
		)
		s := newSim(t, scale, nil)
		q := queue.NewMemory(queue.MemoryOptions{})
		jobs := make([]queue.Job, n)
		for i := range jobs {
			jobs[i] = sovc(fmt.Sprintf("+1206555%04d", i))
		}
		if _, err := q.Enqueue(context.Background(), jobs...); err != nil {
			t.Fatal(err)
		}
		var rec recorder
		d, err := dispatch.New(dispatch.Options{
			Queue: q, Governor: newGovernor(scale, 10*time.Second), AWS: awsConfig(s),
			Endpoint: "http://connect.sim.local", Concurrency: 16, CallTimeout: 10 * time.Second,
			Observer: rec.observe,
		})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		stop := runDispatcher(d)
		st := waitDone(t, q, 5*time.Minute)
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		_, last := rec.snapshot()
		elapsed := last.Sub(start)
		bound := time.Duration(float64(n-burst) / rate * float64(time.Second))
		stats := s.Stats()
		ratio := float64(elapsed) / float64(bound)
		t.Logf("elapsed %v, lower bound %v, ratio %.4f; requests %d, throttled %d, succeeded %d",
			elapsed, bound, ratio, stats.Totals.Requests, stats.Totals.Throttled, st.Succeeded)
		if st.Succeeded != n || st.Dead != 0 {
			t.Fatalf("succeeded %d dead %d, want %d and 0", st.Succeeded, st.Dead, n)
		}
		if elapsed < bound-time.Second {
			t.Errorf("elapsed %v is below the lower bound %v: the quota cannot allow that", elapsed, bound)
		}
		if ratio > 1.05 {
			t.Errorf("elapsed %v is %.1f%% over the lower bound %v (want within 5%%)", elapsed, (ratio-1)*100, bound)
		}
		if limit := stats.Totals.Requests / 100; stats.Totals.Throttled >= max(limit, 1) {
			t.Errorf("throttled %d of %d requests, want under 1%%", stats.Totals.Throttled, stats.Totals.Requests)
		}
		if stats.ContactsStarted != n {
			t.Errorf("contacts_started %d, want %d", stats.ContactsStarted, n)
		}
	})
}

// TestRedrivePaced: 300 dead letters redriven at once are delivered at the
// quota's pace (20/s, burst 50 scaled), not at the speed of the queue.
func TestRedrivePaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 300
		s := newSim(t, 10, nil)
		q := queue.NewMemory(queue.MemoryOptions{})
		ctx := context.Background()
		jobs := make([]queue.Job, n)
		for i := range jobs {
			jobs[i] = sovc(fmt.Sprintf("+1206555%04d", i))
		}
		if _, err := q.Enqueue(ctx, jobs...); err != nil {
			t.Fatal(err)
		}
		ls, err := q.Lease(ctx, n, time.Minute)
		if err != nil || len(ls) != n {
			t.Fatalf("Lease: %d %v", len(ls), err)
		}
		for _, l := range ls {
			if err := q.DeadLetter(ctx, l.Receipt, queue.ReasonHardQuota, "simulated"); err != nil {
				t.Fatal(err)
			}
		}
		var rec recorder
		d, err := dispatch.New(dispatch.Options{Queue: q, Governor: newGovernor(10, 10*time.Second), AWS: awsConfig(s),
			Endpoint: "http://connect.sim.local", CallTimeout: 10 * time.Second, Observer: rec.observe})
		if err != nil {
			t.Fatal(err)
		}
		stop := runDispatcher(d)
		time.Sleep(time.Second)
		start := time.Now()
		if moved, err := q.Redrive(ctx, queue.Redrive{Selector: queue.Selector{All: true}}); err != nil || moved != n {
			t.Fatalf("Redrive: %d %v", moved, err)
		}
		d.Wake()
		st := waitDone(t, q, 5*time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		_, last := rec.snapshot()
		elapsed, bound := last.Sub(start), time.Duration(float64(n-50)/20*float64(time.Second))
		t.Logf("redrive of %d delivered in %v, lower bound %v", n, elapsed, bound)
		if st.Succeeded != n || elapsed < bound-time.Second || elapsed > bound*105/100 {
			t.Errorf("succeeded %d in %v, want %d within 5%% of %v", st.Succeeded, elapsed, n, bound)
		}
		if th := s.Stats().Totals.Throttled; th != 0 {
			t.Errorf("%d throttles", th)
		}
	})
}
