package dispatch_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

func dial(i int) queue.Job {
	return queue.Job{Op: dispatch.OpPutDialRequestBatch, Input: []byte(fmt.Sprintf(
		`{"campaignId":%q,"phoneNumber":"+1206555%04d","attributes":{"n":"%d"}}`, sim.DefaultCampaignID, i, i))}
}

// TestDialBatching: 60 dial requests of one campaign go out in three
// PutDialRequestBatch calls of at most 25, signed with SigV4 (the
// simulator verifies the signatures here).
func TestDialBatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, fixtureOptions{simMod: func(o *sim.Options) {
			o.DialRate, o.DialBurst = 1000, 1000
			o.Credentials = map[string]string{"AKIDDISPATCH": "secret"}
		}})
		jobs := make([]queue.Job, 60)
		for i := range jobs {
			jobs[i] = dial(i)
		}
		f.run(t, 60, jobs...)
		if n := f.sc.count("PutDialRequestBatch"); n != 3 {
			t.Errorf("%d PutDialRequestBatch calls, want 3", n)
		}
		st := f.sim.Stats()
		if st.DialRequests["Accepted"] != 60 {
			t.Errorf("dial requests accepted %d, want 60 (%v)", st.DialRequests["Accepted"], st.DialRequests)
		}
		qs, _ := f.q.Stats(context.Background())
		if qs.Succeeded != 60 {
			t.Errorf("succeeded %d, want 60", qs.Succeeded)
		}
	})
}

// TestDialItemsThrottled: when the campaign's dialing capacity (5 items/s,
// burst 30) is used up, the throttled items of a 200 response are requeued
// and delivered later; the accepted ones are not sent again.
func TestDialItemsThrottled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Scaled by 10 in the simulator: 5 items/s, burst 30.
		f := newFixture(t, fixtureOptions{simMod: func(o *sim.Options) { o.DialRate, o.DialBurst = 0.5, 3 }})
		jobs := make([]queue.Job, 60)
		for i := range jobs {
			jobs[i] = dial(i)
		}
		stored, err := f.q.Enqueue(context.Background(), jobs...)
		if err != nil {
			t.Fatal(err)
		}
		stop := runDispatcher(f.d)
		qs := waitDone(t, f.q, 10*time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		st := f.sim.Stats()
		t.Logf("dial items %v in %d calls", st.DialRequests, f.sc.count("PutDialRequestBatch"))
		if qs.Succeeded != 60 || qs.Dead != 0 {
			t.Errorf("succeeded %d dead %d, want 60 and 0", qs.Succeeded, qs.Dead)
		}
		if st.DialRequests["Accepted"] != 60 {
			t.Errorf("accepted %d, want 60", st.DialRequests["Accepted"])
		}
		if st.DialRequests["RequestThrottled"] == 0 {
			t.Errorf("no item was throttled; the test does not exercise per-item failures")
		}
		if st.DuplicateClientTokens != 0 {
			t.Errorf("duplicate_client_tokens %d: an accepted item was sent again", st.DuplicateClientTokens)
		}
		freed := 0
		for _, j := range stored {
			g := f.get(t, j.ID)
			freed += g.FreeRequeues
			if g.FailedReceives() != 1 {
				t.Errorf("job %s: failed receives %d, want 1 (throttled items are free requeues)", g.ID, g.FailedReceives())
			}
		}
		if freed == 0 {
			t.Errorf("no free requeues recorded")
		}
	})
}

// TestShutdownReleases: a call in flight when Run's context ends may finish
// within ShutdownGrace; after it the call is cancelled and the job released
// (visible again at once, not counted as a failed receive).
func TestShutdownReleases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSim(t, 10, nil)
		started := make(chan struct{}, 1)
		hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if opOf(r) == "StartOutboundVoiceContact" {
				started <- struct{}{}
				<-r.Context().Done()
				return
			}
			s.ServeHTTP(w, r)
		})
		rec := &recorder{}
		q := queue.NewMemory(queue.MemoryOptions{})
		d, err := dispatch.New(dispatch.Options{Queue: q, Governor: newGovernor(10, 10*time.Second), AWS: awsConfig(hang),
			Endpoint: "http://connect.sim.local", CallTimeout: 10 * time.Second, ShutdownGrace: 2 * time.Second, Observer: rec.observe})
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := q.Enqueue(context.Background(), sovc("+12065550107"))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		<-started
		begin := time.Now()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if took := time.Since(begin); took != 2*time.Second {
			t.Errorf("Run returned %v after the cancel, want the 2s grace", took)
		}
		j, _ := q.Get(context.Background(), stored[0].ID)
		if j.Status != queue.StatusQueued || j.FreeRequeues != 1 || j.FailedReceives() != 0 {
			t.Errorf("status %s free %d failed %d, want queued, released for free", j.Status, j.FreeRequeues, j.FailedReceives())
		}
		outs, _ := rec.snapshot()
		if len(outs) != 1 || outs[0].Result != dispatch.ResultReleased {
			t.Errorf("outcomes %+v, want one release", outs)
		}
	})
}

// TestLeasesExtended: jobs leased together wait for a worker and for tokens
// much longer than the visibility timeout; the dispatcher keeps their leases
// alive, so each is called once and received once.
func TestLeasesExtended(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, fixtureOptions{
			limits: map[string]ratelimit.Limit{"StartOutboundVoiceContact": {Rate: 0.2, Burst: 1}}, // 5 s per call
			mod: func(o *dispatch.Options) {
				o.Concurrency, o.CallTimeout, o.Visibility = 1, 8*time.Second, 8*time.Second
			},
		})
		jobs := make([]queue.Job, 6)
		for i := range jobs {
			jobs[i] = sovc(fmt.Sprintf("+1206555%04d", 200+i))
		}
		start := time.Now()
		stored, _ := f.run(t, len(jobs), jobs...)
		if took := time.Since(start); took < 25*time.Second {
			t.Fatalf("took %v; the jobs did not wait past the visibility timeout", took)
		}
		if n := f.sc.count("StartOutboundVoiceContact"); n != len(jobs) {
			t.Errorf("%d calls, want %d", n, len(jobs))
		}
		for _, j := range stored {
			g := f.get(t, j.ID)
			if g.Status != queue.StatusSucceeded || g.Receives != 1 {
				t.Errorf("job %s: %s after %d receives, want succeeded after 1", g.ID, g.Status, g.Receives)
			}
		}
	})
}

// TestDialCallFails: a whole-call error settles every item of the batch by
// its class: an unknown campaign is a client fault for each.
func TestDialCallFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		jobs := make([]queue.Job, 3)
		for i := range jobs {
			jobs[i] = queue.Job{Op: dispatch.OpPutDialRequestBatch, Input: []byte(fmt.Sprintf(`{"campaignId":"no-such-campaign","phoneNumber":"+1206555%04d"}`, i))}
		}
		stored, _ := f.run(t, 3, jobs...)
		if n := f.sc.count("PutDialRequestBatch"); n != 1 {
			t.Errorf("%d calls, want 1 batch", n)
		}
		for i, j := range stored {
			g := f.get(t, j.ID)
			if g.Status != queue.StatusDead || g.DeadReason != queue.ReasonClientFault || !strings.Contains(g.DeadDetail, "ResourceNotFoundException") {
				t.Errorf("job %d: %s %q %q", i, g.Status, g.DeadReason, g.DeadDetail)
			}
		}
	})
}
