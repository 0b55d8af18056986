package dispatch_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/backoff"
	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/sqlitestore"
)

// TestPoolsPinSurvivesRestart: on the embedded store, jobs pinned to pool a
// after an unknown outcome stay pinned when the process stops before they
// are resolved; the next process (its in-process pins gone) sends them to
// a only, and the accounts together start one contact per job.
func TestPoolsPinSurvivesRestart(t *testing.T) {
	const n = 30
	path := filepath.Join(t.TempDir(), "queue.db")
	q, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	one := governor.Options{MaxAttempts: 1}
	a := newTestPool(t, 1, "a", 10, nil, one)
	b := newTestPool(t, 2, "b", 10, nil, one)
	aPool := a.pool // before the resets
	victims := a.resetFirst(3)
	jobs := enqueueN(t, q, n, 0)
	// The first process: a requeue delay of seconds keeps the pinned jobs
	// waiting until it stops (normally).
	d, err := dispatch.New(dispatch.Options{Queue: q, Pools: poolsOf(a, b), Concurrency: 4,
		CallTimeout: 5 * time.Second, PoolFailures: 100, Backoff: backoffLong()})
	if err != nil {
		t.Fatal(err)
	}
	stop := runDispatcher(d)
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := q.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Succeeded >= n-3 && len(victims()) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first process: %+v, victims %d", st, len(victims()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	// The second process, on the same file, with a working pool a.
	q, err = sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	pinned := 0
	for _, j := range jobs {
		// Every job sent to a is pinned there from its send; the ones left
		// waiting are those whose outcome was unknown.
		if g, _ := q.Get(context.Background(), j.ID); g.Pool == "a" && g.Status != queue.StatusSucceeded {
			pinned++
			if g.Status == queue.StatusDead {
				t.Errorf("pinned job %s: dead (%s)", j.ID, g.DeadDetail)
			}
		}
	}
	if pinned != 3 {
		t.Fatalf("%d jobs pinned to a and not done in the store after the restart, want 3", pinned)
	}
	a.pool = aPool
	bBefore := len(b.sc.tokensOf("StartOutboundVoiceContact"))
	d, err = dispatch.New(dispatch.Options{Queue: q, Pools: poolsOf(a, b), Concurrency: 4, CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	stop = runDispatcher(d)
	st := waitDone(t, q, time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st.Succeeded != n || st.Dead != 0 {
		t.Fatalf("succeeded %d dead %d, want %d and 0", st.Succeeded, st.Dead, n)
	}
	if got := len(b.sc.tokensOf("StartOutboundVoiceContact")); got != bBefore {
		t.Errorf("b got %d more calls after the restart, want none (only pinned jobs were left)", got-bBefore)
	}
	if got := a.sim.Stats().ContactsStarted + b.sim.Stats().ContactsStarted; got != n {
		t.Errorf("contacts_started summed %d, want %d", got, n)
	}
	if a.sim.Stats().DuplicateClientTokens < 3 {
		t.Errorf("a saw %d repeated tokens, want the 3 pinned jobs' retries", a.sim.Stats().DuplicateClientTokens)
	}
}

// backoffLong delays a requeue after a transient failure by 2–4 s.
func backoffLong() backoff.Options {
	return backoff.Options{Strategy: backoff.Equal, TransientBase: 4 * time.Second, Cap: 4 * time.Second}
}
