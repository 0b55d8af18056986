package dispatch_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/sim"
)

// TestPoolsPinnedBeforeSend: a job is pinned to its pool in the queue
// before its call is sent, so a process killed while the call is in flight
// leaves the job pinned to the account that deduplicates its ClientToken.
// A call the pool refuses (the job was not called) removes the pin, and
// the job moves.
func TestPoolsPinnedBeforeSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		one := governor.Options{MaxAttempts: 1}
		a := newTestPool(t, 1, "a", 10, nil, one)
		if err := a.sim.SetFault("StartOutboundVoiceContact", sim.Fault{SlowRate: 1, SlowDelay: sim.Duration(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		q := queue.NewMemory(queue.MemoryOptions{})
		jobs := enqueueN(t, q, 1, 0)
		d, err := dispatch.New(dispatch.Options{Queue: q, Pools: poolsOf(a), CallTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		stop := runDispatcher(d)
		time.Sleep(time.Second) // the call is held by the simulator
		synctest.Wait()
		g, err := q.Get(context.Background(), jobs[0].ID)
		if err != nil || g.Status != queue.StatusInFlight || g.Pool != "a" {
			t.Fatalf("while its call is in flight: status %s, pool %q, %v; want in-flight and pinned to a", g.Status, g.Pool, err)
		}
		_ = a.sim.SetFault("StartOutboundVoiceContact", sim.Fault{})
		_ = stop()
	})
	synctest.Test(t, func(t *testing.T) {
		one := governor.Options{MaxAttempts: 1}
		refuse := func(op string, n int) (int, string) { return 403, "AccessDeniedException" }
		a := newTestPool(t, 1, "a", 10, refuse, one)
		b := newTestPool(t, 2, "b", 10, nil, one)
		q := queue.NewMemory(queue.MemoryOptions{})
		jobs := enqueueN(t, q, 20, 0)
		_, st := drain(t, dispatch.Options{Queue: q, Pools: poolsOf(a, b), PoolFailures: 1000}, 5*time.Minute)
		if st.Succeeded != 20 {
			t.Fatalf("succeeded %d of 20", st.Succeeded)
		}
		for _, j := range jobs {
			if g, _ := q.Get(context.Background(), j.ID); g.Pool != "b" {
				t.Errorf("job %s: pool %q, want b (a refused it, so its pin to a was removed)", j.ID, g.Pool)
			}
		}
	})
}
