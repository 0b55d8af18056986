package dispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

// testPool is one pool of a test: its own simulator (its own account),
// governor and a recorder of the ClientTokens it saw.
type testPool struct {
	sim  *sim.Server
	sc   *scripted
	pool dispatch.Pool
}

// poolAccount is the 12-digit account of pool k (1-based), as the
// multi-account simulator numbers them.
func poolAccount(k int) string { return fmt.Sprintf("%012d", 100000000000+k) }

// newTestPool builds pool name (the k-th) on its own simulator with the
// quotas scaled by scale. respond may answer requests itself (scripted);
// gopts tunes its governor.
func newTestPool(t *testing.T, k int, name string, scale float64, respond func(op string, n int) (int, string), gopts governor.Options, mods ...func(*sim.Options)) *testPool {
	t.Helper()
	tp := &testPool{sim: newSim(t, scale, func(o *sim.Options) {
		for _, m := range mods {
			m(o)
		}
	})}
	tp.sc = newScripted(tp.sim, respond)
	if gopts.MaxElapsed == 0 {
		gopts.MaxElapsed = 10 * time.Second
	}
	l := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: quotas.Default().Scale(scale)})
	tp.pool = dispatch.Pool{
		Name: name, Account: poolAccount(k), Region: "us-east-1", Instance: sim.DefaultInstanceID,
		AWS: awsConfig(tp.sc), Endpoint: "http://connect.sim.local",
		Governor: governor.New(l, gopts),
		IDs: map[string]map[string]string{
			"ContactFlowId": {"outbound-sales": sim.DefaultContactFlowID},
			"QueueId":       {"sales": sim.DefaultQueueID},
			"CampaignId":    {"spring": sim.DefaultCampaignID},
		},
	}
	return tp
}

// resetDials makes the pool's transport deliver its first n
// PutDialRequestBatch calls to the simulator and then fail with a
// connection reset.
func (tp *testPool) resetDials(n int) {
	var left atomic.Int64
	left.Store(int64(n))
	next := tp.pool.AWS.HTTPClient
	tp.pool.AWS.HTTPClient = clientFunc(func(r *http.Request) (*http.Response, error) {
		res, err := next.Do(r)
		if err == nil && strings.HasSuffix(r.URL.Path, "/dial-requests") && left.Add(-1) >= 0 {
			res.Body.Close()
			return nil, fmt.Errorf("read tcp 127.0.0.1:1->127.0.0.1:2: %w", syscall.ECONNRESET)
		}
		return res, err
	})
}

// resetFirst makes the pool's transport deliver each of the first n
// distinct StartOutboundVoiceContact requests to the simulator (the
// contact is created) and then fail with a connection reset: the caller
// never reads the answer. It returns the ClientTokens so treated.
func (tp *testPool) resetFirst(n int) func() []string {
	var mu sync.Mutex
	var victims []string
	next := tp.pool.AWS.HTTPClient
	tp.pool.AWS.HTTPClient = clientFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method != "PUT" || r.URL.Path != "/contact/outbound-voice" {
			return next.Do(r)
		}
		// This request's own token (with calls in flight at once, the
		// simulator's last-seen token may be another call's).
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var in struct{ ClientToken string }
		_ = json.Unmarshal(body, &in)
		tok := in.ClientToken
		res, err := next.Do(r)
		if err != nil {
			return res, err
		}
		mu.Lock()
		defer mu.Unlock()
		if len(victims) < n && !contains(victims, tok) {
			victims = append(victims, tok)
			res.Body.Close()
			return nil, fmt.Errorf("read tcp 127.0.0.1:1->127.0.0.1:2: %w", syscall.ECONNRESET)
		}
		return res, nil
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), victims...)
	}
}

// drain runs a dispatcher with o until its queue is drained, stops it, and
// returns it with the queue's final figures.
func drain(t *testing.T, o dispatch.Options, limit time.Duration) (*dispatch.Dispatcher, queue.Stats) {
	t.Helper()
	d, err := dispatch.New(o)
	if err != nil {
		t.Fatal(err)
	}
	stop := runDispatcher(d)
	st := waitDone(t, o.Queue, limit)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	return d, st
}

type clientFunc func(*http.Request) (*http.Response, error)

func (f clientFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// logical returns a StartOutboundVoiceContact job that names its flow by
// logical name and leaves InstanceId to the pool.
func logical(number string) queue.Job {
	return queue.Job{Op: "StartOutboundVoiceContact", Input: []byte(fmt.Sprintf(
		`{"ContactFlowId":"outbound-sales","DestinationPhoneNumber":%q}`, number))}
}

func enqueueN(t *testing.T, q queue.Queue, n int, from int) []queue.Job {
	t.Helper()
	jobs := make([]queue.Job, n)
	for i := range jobs {
		jobs[i] = logical(fmt.Sprintf("+1206555%04d", from+i))
	}
	out, err := q.Enqueue(context.Background(), jobs...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func poolsOf(tps ...*testPool) []dispatch.Pool {
	out := make([]dispatch.Pool, len(tps))
	for i, tp := range tps {
		out[i] = tp.pool
	}
	return out
}

func statsByName(d *dispatch.Dispatcher) map[string]dispatch.PoolStats {
	m := map[string]dispatch.PoolStats{}
	for _, s := range d.PoolStats() {
		m[s.Name] = s
	}
	return m
}

// TestPoolsSpreadByHeadroom: 1,000 jobs over 1, 2 and 4 pools of unequal
// quotas (StartOutboundVoiceContact at 2/s burst 5 scaled by each pool's
// scale) finish within 5% of the N-pool lower bound ((n − Σ bursts) /
// Σ rates), each pool delivering its share (burst + rate × T, within 10%),
// with under 1% throttled, contacts_started summed equal to the jobs done,
// every contact's end learned on its own pool, the flow's logical name
// substituted and the instance filled in.
func TestPoolsSpreadByHeadroom(t *testing.T) {
	for _, scales := range [][]float64{{10}, {10, 5}, {10, 5, 5, 2.5}} {
		t.Run(fmt.Sprintf("%d pools", len(scales)), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { testSpread(t, 1000, scales, false) })
		})
	}
	// A limiter without ratelimit.Estimator (the Redis one): routing falls
	// back to the jobs waiting on each pool and its rate.
	t.Run("2 pools without Estimator", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) { testSpread(t, 1000, []float64{10, 5}, true) })
	})
}

// plainLimiter hides every method of a limiter but the Limiter interface.
type plainLimiter struct{ ratelimit.Limiter }

func testSpread(t *testing.T, n int, scales []float64, plain bool) {
	var tps []*testPool
	var sumRate, sumBurst float64
	for i, sc := range scales {
		tp := newTestPool(t, i+1, fmt.Sprintf("p%d", i+1), sc, nil, governor.Options{})
		if plain {
			tp.pool.Governor = governor.New(plainLimiter{tp.pool.Governor.Limiter()}, governor.Options{MaxElapsed: 10 * time.Second})
		}
		tps = append(tps, tp)
		sumRate += 2 * sc
		sumBurst += 5 * sc
	}
	q := queue.NewMemory(queue.MemoryOptions{})
	enqueueN(t, q, n, 0)
	var rec recorder
	d, err := dispatch.New(dispatch.Options{Queue: q, Pools: poolsOf(tps...), Concurrency: 32,
		CallTimeout: 10 * time.Second, Observer: rec.observe})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stop := runDispatcher(d)
	st := waitDone(t, q, 5*time.Minute)
	// Every contact is followed to its end on its own pool (the
	// simulators are seeded alike: their contact ids are the same).
	time.Sleep(5 * time.Second)
	if ds := d.Stats(); ds.Connected+ds.EndedWithoutConnecting != int64(n) || ds.CallsInProgress != 0 {
		t.Errorf("ends learned: connected %d + unanswered %d, in progress %d; want %d ended", ds.Connected, ds.EndedWithoutConnecting, ds.CallsInProgress, n)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	_, last := rec.snapshot()
	elapsed := last.Sub(start)
	bound := time.Duration((float64(n) - sumBurst) / sumRate * float64(time.Second))
	if st.Succeeded != int64(n) || st.Dead != 0 {
		t.Fatalf("succeeded %d dead %d, want %d and 0", st.Succeeded, st.Dead, n)
	}
	ps := statsByName(d)
	var started, req, thr int64
	for i, tp := range tps {
		ss := tp.sim.Stats()
		started += ss.ContactsStarted
		req += ss.Totals.Requests
		thr += ss.Totals.Throttled
		name := tp.pool.Name
		want := 5*scales[i] + 2*scales[i]*bound.Seconds()
		got := float64(ps[name].Delivered)
		t.Logf("pool %s: delivered %v (share %.0f), throttled %d", name, got, want, ss.Totals.Throttled)
		if got < 0.9*want || got > 1.1*want {
			t.Errorf("pool %s delivered %v, want about %.0f (burst + rate × T)", name, got, want)
		}
		if s := ps[name]; !s.Healthy || s.Health != "ok" || s.Account != poolAccount(i+1) || s.InFlight != 0 {
			t.Errorf("pool %s stats: %+v", name, s)
		}
	}
	t.Logf("elapsed %v, lower bound %v, ratio %.4f", elapsed, bound, float64(elapsed)/float64(bound))
	if started != int64(n) {
		t.Errorf("contacts_started summed %d, want %d", started, n)
	}
	if elapsed < bound-time.Second {
		t.Errorf("elapsed %v is below the lower bound %v", elapsed, bound)
	}
	if r := float64(elapsed) / float64(bound); r > 1.05 {
		t.Errorf("elapsed %v is %.1f%% over the %d-pool lower bound %v", elapsed, (r-1)*100, len(scales), bound)
	}
	if thr >= max(req/100, 1) {
		t.Errorf("throttled %d of %d requests, want under 1%%", thr, req)
	}
}

// TestPoolsPinUnknownOutcome: pool a resets the connection after three
// calls reached it (the contacts exist; nobody read the answer). Those jobs
// are pinned to a (durably, in the queue), retried only there with the
// same derived ClientToken, and Connect answers the retry with the contact
// it already started: contacts_started summed over both accounts equals
// the jobs succeeded.
func TestPoolsPinUnknownOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 40
		one := governor.Options{MaxAttempts: 1}
		a := newTestPool(t, 1, "a", 10, nil, one)
		b := newTestPool(t, 2, "b", 10, nil, one)
		victims := a.resetFirst(3)
		q := queue.NewMemory(queue.MemoryOptions{})
		jobs := enqueueN(t, q, n, 0)
		var rec recorder
		_, st := drain(t, dispatch.Options{Queue: q, Pools: poolsOf(a, b), Concurrency: 8,
			CallTimeout: 10 * time.Second, Observer: rec.observe, PoolFailures: 100}, 5*time.Minute)
		sa, sb := a.sim.Stats(), b.sim.Stats()
		if st.Succeeded != n || st.Dead != 0 {
			t.Fatalf("succeeded %d dead %d, want %d and 0", st.Succeeded, st.Dead, n)
		}
		if got := sa.ContactsStarted + sb.ContactsStarted; got != n {
			t.Errorf("contacts_started summed %d (a %d, b %d), want %d", got, sa.ContactsStarted, sb.ContactsStarted, n)
		}
		vs := victims()
		if len(vs) != 3 {
			t.Fatalf("victims %v, want 3", vs)
		}
		aTokens, bTokens := a.sc.tokensOf("StartOutboundVoiceContact"), b.sc.tokensOf("StartOutboundVoiceContact")
		pinned := 0
		for _, j := range jobs {
			tokA := queue.DeriveToken(poolAccount(1), sim.DefaultInstanceID, j.ClientToken)
			tokB := queue.DeriveToken(poolAccount(2), sim.DefaultInstanceID, j.ClientToken)
			if !contains(vs, tokA) {
				continue
			}
			pinned++
			g, err := q.Get(context.Background(), j.ID)
			if err != nil || g.Pool != "a" {
				t.Errorf("job %s: pool %q (%v), want pinned to a", j.ID, g.Pool, err)
			}
			if contains(bTokens, tokB) {
				t.Errorf("job %s (unknown outcome on a) was sent to pool b", j.ID)
			}
			seen := 0
			for _, tk := range aTokens {
				if tk == tokA {
					seen++
				}
			}
			if seen < 2 {
				t.Errorf("job %s: its token reached a %d time(s), want the retry there too", j.ID, seen)
			}
		}
		if pinned != 3 {
			t.Errorf("%d victims matched jobs, want 3", pinned)
		}
		if sa.DuplicateClientTokens < 3 {
			t.Errorf("pool a saw %d repeated ClientTokens, want at least 3 (the retries of the reset calls)", sa.DuplicateClientTokens)
		}
		var pooled int
		all, _ := rec.snapshot()
		for _, o := range all {
			if o.Pool != "" {
				pooled++
			}
		}
		if pooled != len(all) {
			t.Errorf("%d of %d outcomes name their pool", pooled, len(all))
		}
	})
}

// TestPoolsOutOfRotation: pool a's account refuses every call
// (AccessDeniedException) while denied is set. After three failures in a
// row it goes out of rotation; the jobs it refused move to b (free of
// charge: none is dead-lettered) and every job completes. Once the account
// works again a probe puts a back in rotation and it delivers again.
func TestPoolsOutOfRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var denied atomic.Bool
		denied.Store(true)
		a := newTestPool(t, 1, "a", 10, func(op string, _ int) (int, string) {
			if denied.Load() && op == "StartOutboundVoiceContact" {
				return 403, "AccessDeniedException"
			}
			return 0, ""
		}, governor.Options{})
		b := newTestPool(t, 2, "b", 10, nil, governor.Options{})
		q := queue.NewMemory(queue.MemoryOptions{})
		enqueueN(t, q, 59, 0)
		// A job pinned to a waits for a, however long a is out.
		pj := logical("+12065559999")
		pj.Pool = "a"
		pinned, err := q.Enqueue(context.Background(), pj)
		if err != nil {
			t.Fatal(err)
		}
		d, err := dispatch.New(dispatch.Options{Queue: q, Pools: poolsOf(a, b), Concurrency: 8, CallTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		stop := runDispatcher(d)
		for {
			st, _ := q.Stats(context.Background())
			if st.Succeeded == 59 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(10 * time.Second)
		st, _ := q.Stats(context.Background())
		ps := statsByName(d)
		if st.Succeeded != 59 || st.Dead != 0 {
			t.Fatalf("succeeded %d dead %d, want 59 (all but the pinned job) and 0", st.Succeeded, st.Dead)
		}
		if g, _ := q.Get(context.Background(), pinned[0].ID); g.Status != queue.StatusQueued || g.Pool != "a" {
			t.Errorf("the job pinned to a: status %s pool %q, want still queued for a", g.Status, g.Pool)
		}
		if ps["a"].Healthy || !strings.Contains(ps["a"].Health, "AccessDeniedException") || ps["a"].Delivered != 0 || ps["a"].Failed < 3 {
			t.Errorf("pool a while denied: %+v", ps["a"])
		}
		if ps["b"].Delivered != 59 || !ps["b"].Healthy {
			t.Errorf("pool b: %+v", ps["b"])
		}
		if got := b.sim.Stats().ContactsStarted + a.sim.Stats().ContactsStarted; got != 59 {
			t.Errorf("contacts_started %d, want 59", got)
		}
		denied.Store(false)
		// Past the longest backoff a probe goes out and a comes back.
		time.Sleep(dispatch.DefaultPoolMaxBackoff + time.Second)
		enqueueN(t, q, 60, 100)
		d.Wake()
		waitDone(t, q, 5*time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		ps = statsByName(d)
		if !ps["a"].Healthy || ps["a"].Health != "ok" || ps["a"].Delivered == 0 {
			t.Errorf("pool a after the account works again: %+v", ps["a"])
		}
		if g, _ := q.Get(context.Background(), pinned[0].ID); g.Status != queue.StatusSucceeded {
			t.Errorf("the job pinned to a: status %s, want succeeded once a is back", g.Status)
		}
		tokB := queue.DeriveToken(poolAccount(2), sim.DefaultInstanceID, pinned[0].ClientToken)
		if contains(b.sc.tokensOf("StartOutboundVoiceContact"), tokB) {
			t.Errorf("the job pinned to a was sent to b")
		}
		if got := b.sim.Stats().ContactsStarted + a.sim.Stats().ContactsStarted; got != 120 {
			t.Errorf("contacts_started %d, want 120", got)
		}
	})
}

// TestPoolsCheck: the pool-aware Check names the field (and the pool) of
// what cannot be delivered, fills nothing it should not, and pins a job
// whose InstanceId is one pool's.
func TestPoolsCheck(t *testing.T) {
	cfg := func(name, inst string, flows map[string]string) dispatch.Pool {
		l := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: quotas.Default()})
		return dispatch.Pool{Name: name, Account: poolAccount(int(name[0])), Region: "us-east-1", Instance: inst,
			Governor: governor.New(l, governor.Options{}),
			IDs:      map[string]map[string]string{"ContactFlowId": flows}}
	}
	const instA, instB = "11111111-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002"
	d, err := dispatch.New(dispatch.Options{Queue: queue.NewMemory(queue.MemoryOptions{}), Pools: []dispatch.Pool{
		cfg("a", instA, map[string]string{"outbound-sales": "f-a", "support": "s-a"}),
		cfg("b", instB, map[string]string{"outbound-sales": "f-b"}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	job := func(in string) queue.Job { return queue.Job{Op: "StartOutboundVoiceContact", Input: []byte(in)} }
	type step struct {
		j        queue.Job
		field    string // "" = valid
		problem  string
		wantPool string
	}
	for i, st := range []step{
		{j: job(`{"ContactFlowId":"outbound-sales","DestinationPhoneNumber":"+12065550100"}`)},
		{j: job(`{"ContactFlowId":"support","DestinationPhoneNumber":"+12065550100"}`), field: "Input.ContactFlowId", problem: "pool b"},
		{j: job(`{"InstanceId":"` + instA + `","ContactFlowId":"support","DestinationPhoneNumber":"+12065550100"}`), wantPool: "a"},
		{j: job(`{"InstanceId":"33333333-0000-4000-8000-000000000003","ContactFlowId":"x","DestinationPhoneNumber":"+12065550100"}`), field: "Input.InstanceId", problem: "not the instance of any pool"},
		{j: job(`{"ContactFlowId":"outbound-sales"}`), field: "Input.DestinationPhoneNumber", problem: "required"},
		{j: queue.Job{Op: "StartOutboundVoiceContact", Pool: "c", Input: []byte(`{"ContactFlowId":"f","DestinationPhoneNumber":"+1"}`)}, field: "Pool", problem: "not a configured pool"},
	} {
		got, err := d.Check(st.j, now)
		if st.field == "" {
			if err != nil || got.Pool != st.wantPool {
				t.Errorf("step %d: got pool %q, %v; want pool %q and no error", i, got.Pool, err, st.wantPool)
			}
			continue
		}
		var ie *dispatch.InputError
		if !errors.As(err, &ie) || ie.Field != st.field || !strings.Contains(ie.Problem, st.problem) {
			t.Errorf("step %d: got %v, want an InputError on %s saying %q", i, err, st.field, st.problem)
		}
	}
}

// TestSinglePoolHasNoPoolStats: without Pools nothing changes: no pool
// stats, and Check is the package's.
func TestSinglePoolHasNoPoolStats(t *testing.T) {
	d, err := dispatch.New(dispatch.Options{Queue: queue.NewMemory(queue.MemoryOptions{}), Governor: newGovernor(1, time.Second), AWS: awsConfig(http.NotFoundHandler())})
	if err != nil {
		t.Fatal(err)
	}
	if ps := d.PoolStats(); ps != nil {
		t.Fatalf("PoolStats = %v, want nil", ps)
	}
	j := sovc("+12065550100")
	g1, e1 := d.Check(j, time.Now())
	g2, e2 := dispatch.Check(j, time.Now())
	if e1 != nil || e2 != nil || g1.ClientToken != g2.ClientToken || g1.Pool != "" {
		t.Fatalf("Check differs from dispatch.Check: %+v %v / %+v %v", g1, e1, g2, e2)
	}
}

// TestPoolsDial: dial requests naming their campaign by logical name are
// batched per pool with the pool's campaign id and per-pool tokens; the
// first batch pool b sends is reset after it reached the simulator: its
// items are pinned to b and resolved there (the tokens find the requests
// already accepted), so the simulators together accept each request once.
func TestPoolsDial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 100
		fast := func(o *sim.Options) { o.DialRate, o.DialBurst = 1000, 1000 }
		one := governor.Options{MaxAttempts: 1}
		a := newTestPool(t, 1, "a", 10, nil, one, fast)
		b := newTestPool(t, 2, "b", 10, nil, one, fast)
		b.resetDials(1)
		q := queue.NewMemory(queue.MemoryOptions{})
		jobs := make([]queue.Job, n)
		for i := range jobs {
			jobs[i] = queue.Job{Op: dispatch.OpPutDialRequestBatch, Input: []byte(fmt.Sprintf(
				`{"campaignId":"spring","phoneNumber":"+1206555%04d"}`, i))}
		}
		jobs, err := q.Enqueue(context.Background(), jobs...)
		if err != nil {
			t.Fatal(err)
		}
		_, st := drain(t, dispatch.Options{Queue: q, Pools: poolsOf(a, b), Concurrency: 4, MaxBatch: 10,
			CallTimeout: 10 * time.Second, PoolFailures: 100}, 5*time.Minute)
		if st.Succeeded != n || st.Dead != 0 {
			t.Fatalf("succeeded %d dead %d, want %d and 0", st.Succeeded, st.Dead, n)
		}
		sa, sb := a.sim.Stats(), b.sim.Stats()
		if got := sa.DialRequests["Accepted"] + sb.DialRequests["Accepted"]; got != n {
			t.Errorf("dial requests accepted: a %d + b %d, want %d in all", sa.DialRequests["Accepted"], sb.DialRequests["Accepted"], n)
		}
		if sa.DialRequests["Accepted"] == 0 || sb.DialRequests["Accepted"] == 0 {
			t.Errorf("accepted a %d b %d: want both pools used", sa.DialRequests["Accepted"], sb.DialRequests["Accepted"])
		}
		// Every job is pinned to the pool it was sent to (before the send),
		// so the pins split exactly as the accepted requests; the reset
		// batch's items were retried on b only, each repeated once.
		onPool := map[string]int64{}
		for _, j := range jobs {
			g, _ := q.Get(context.Background(), j.ID)
			onPool[g.Pool]++
		}
		if onPool["a"] != sa.DialRequests["Accepted"] || onPool["b"] != sb.DialRequests["Accepted"] || onPool[""] != 0 {
			t.Errorf("pins %v; accepted a %d b %d", onPool, sa.DialRequests["Accepted"], sb.DialRequests["Accepted"])
		}
		if r := sb.DuplicateClientTokens; r == 0 || r > 10 || sa.DuplicateClientTokens != 0 {
			t.Errorf("repeated tokens a %d b %d; want the reset batch's items (1–10) repeated once at b, none at a", sa.DuplicateClientTokens, r)
		}
	})
}

// TestPoolsPinSlow: pool a's simulator holds every call past the client's
// timeout (the "slow" fault) for 20 s. The jobs whose calls timed out on a
// are pinned to a, a goes out of rotation, the other jobs complete on b;
// once a answers again its probe puts it back and the pinned jobs complete
// there, never on b. contacts_started summed equals the jobs done.
func TestPoolsPinSlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 40
		gopts := governor.Options{MaxElapsed: 2 * time.Second}
		a := newTestPool(t, 1, "a", 10, nil, gopts)
		b := newTestPool(t, 2, "b", 10, nil, gopts)
		if err := a.sim.SetFault("StartOutboundVoiceContact", sim.Fault{SlowRate: 1, SlowDelay: sim.Duration(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(20*time.Second, func() { _ = a.sim.SetFault("StartOutboundVoiceContact", sim.Fault{}) })
		q := queue.NewMemory(queue.MemoryOptions{})
		jobs := enqueueN(t, q, n, 0)
		d, err := dispatch.New(dispatch.Options{Queue: q, Pools: poolsOf(a, b), Concurrency: 8, CallTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		stop := runDispatcher(d)
		time.Sleep(10 * time.Second)
		if ps := statsByName(d); ps["a"].Healthy || ps["a"].Failed < 3 {
			t.Errorf("pool a while it times out: %+v", ps["a"])
		}
		st := waitDone(t, q, 10*time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if st.Succeeded != n || st.Dead != 0 {
			t.Fatalf("succeeded %d dead %d, want %d and 0", st.Succeeded, st.Dead, n)
		}
		if got := a.sim.Stats().ContactsStarted + b.sim.Stats().ContactsStarted; got != n {
			t.Errorf("contacts_started summed %d, want %d", got, n)
		}
		bTokens := b.sc.tokensOf("StartOutboundVoiceContact")
		pinned := 0
		for _, j := range jobs {
			g, _ := q.Get(context.Background(), j.ID)
			if g.Pool != "a" {
				continue
			}
			pinned++
			if contains(bTokens, queue.DeriveToken(poolAccount(2), sim.DefaultInstanceID, j.ClientToken)) {
				t.Errorf("job %s, pinned to a, was sent to b", j.ID)
			}
		}
		ps := statsByName(d)
		t.Logf("pinned to a: %d; a: %+v; b delivered %d", pinned, ps["a"], ps["b"].Delivered)
		if pinned == 0 || ps["a"].Delivered < int64(pinned) || !ps["a"].Healthy {
			t.Errorf("pinned %d, a delivered %d healthy %v: want the pinned jobs delivered on a, back in rotation", pinned, ps["a"].Delivered, ps["a"].Healthy)
		}
	})
}

// TestPoolsThrottledCounted: the throttles a pool's account answers are
// counted on that pool, retried ones included, and a throttle is not a
// pool failure.
func TestPoolsThrottledCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newTestPool(t, 1, "a", 10, func(op string, n int) (int, string) {
			if op == "StartOutboundVoiceContact" && n <= 4 {
				return 429, "ThrottlingException"
			}
			return 0, ""
		}, governor.Options{})
		q := queue.NewMemory(queue.MemoryOptions{})
		enqueueN(t, q, 10, 0)
		d, st := drain(t, dispatch.Options{Queue: q, Pools: poolsOf(a), Concurrency: 1, CallTimeout: 10 * time.Second}, 5*time.Minute)
		ps := statsByName(d)["a"]
		if st.Succeeded != 10 || ps.Throttled != 4 || ps.Failed != 0 || !ps.Healthy || ps.Delivered != 10 {
			t.Fatalf("succeeded %d; pool a %+v; want 10 delivered, 4 throttled, no failure", st.Succeeded, ps)
		}
	})
}

// TestPoolsNewRefuses: New names the pool and the field of a bad pool.
func TestPoolsNewRefuses(t *testing.T) {
	gov := newGovernor(1, time.Second)
	ok := func(name string, k int) dispatch.Pool {
		return dispatch.Pool{Name: name, Account: poolAccount(k), Region: "us-east-1", Instance: "i-" + name, Governor: gov}
	}
	for i, st := range []struct {
		pools []dispatch.Pool
		want  string
	}{
		{[]dispatch.Pool{ok("a", 1), ok("a", 2)}, `Pools[1] ("a"): Name is used`},
		{[]dispatch.Pool{ok("a", 1), ok("B", 2)}, `Pools[1] ("B"): Name must be`},
		{[]dispatch.Pool{ok("a", 1), ok("b", 1)}, `Pools[1] ("b"): Account and Region are pool "a"'s`},
		{[]dispatch.Pool{ok("a", 1), {Name: "b", Account: poolAccount(2), Instance: "i"}}, `Pools[1] ("b"): Governor is required`},
		{[]dispatch.Pool{{Name: "a", Governor: gov}}, `Pools[0] ("a"): Instance is required`},
	} {
		_, err := dispatch.New(dispatch.Options{Queue: queue.NewMemory(queue.MemoryOptions{}), Pools: st.pools})
		if err == nil || !strings.Contains(err.Error(), st.want) {
			t.Errorf("step %d: got %v, want an error containing %q", i, err, st.want)
		}
	}
}

// TestPoolsOutMovesWaitingJobs: jobs routed to pool a and waiting there for
// a token when a goes out of rotation (its calls start timing out) are not
// sent into it: they are routed again, to b. Only the calls already sent
// are pinned to a; they complete there once a answers again.
func TestPoolsOutMovesWaitingJobs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 200
		gopts := governor.Options{MaxElapsed: 10 * time.Second}
		a := newTestPool(t, 1, "a", 2, nil, gopts)
		b := newTestPool(t, 2, "b", 2, nil, gopts)
		time.AfterFunc(5*time.Second, func() {
			_ = a.sim.SetFault("StartOutboundVoiceContact", sim.Fault{SlowRate: 1, SlowDelay: sim.Duration(time.Minute)})
		})
		time.AfterFunc(60*time.Second, func() { _ = a.sim.SetFault("StartOutboundVoiceContact", sim.Fault{}) })
		q := queue.NewMemory(queue.MemoryOptions{})
		jobs := enqueueN(t, q, n, 0)
		var rec recorder
		d, st := drain(t, dispatch.Options{Queue: q, Pools: poolsOf(a, b), Concurrency: 40,
			CallTimeout: 10 * time.Second, Visibility: time.Minute, Observer: rec.observe}, 10*time.Minute)
		if st.Succeeded != n || st.Dead != 0 {
			dl, _ := q.ListDead(context.Background(), queue.ListOptions{Limit: 3})
			for _, j := range dl {
				t.Logf("dead %s pool %q: %s %s; last %s; receives %d free %d", j.ID, j.Pool, j.DeadReason, j.DeadDetail, j.LastError, j.Receives, j.FreeRequeues)
			}
			t.Fatalf("succeeded %d dead %d, want %d and 0", st.Succeeded, st.Dead, n)
		}
		if got := a.sim.Stats().ContactsStarted + b.sim.Stats().ContactsStarted; got != n {
			t.Errorf("contacts_started summed %d, want %d", got, n)
		}
		// Every job sent to a is pinned there from its send; those whose
		// outcome was unknown were received again (the ones moved unsent
		// got their receive back and went to b).
		pinned := 0
		for _, j := range jobs {
			if g, _ := q.Get(context.Background(), j.ID); g.Pool == "a" && g.Receives > 1 {
				pinned++
			}
		}
		moved := 0
		all, _ := rec.snapshot()
		for _, o := range all {
			if o.Reason == "pool-unavailable" && strings.Contains(o.Detail, "before the request was sent") {
				moved++
			}
		}
		ps := statsByName(d)
		t.Logf("pinned to a %d, moved unsent %d; a delivered %d, b delivered %d", pinned, moved, ps["a"].Delivered, ps["b"].Delivered)
		// Only calls sent before a went out (its third timeout, CallTimeout
		// after the fault began: at most 4/s × 10 s, and the probes) may be
		// pinned; the jobs admitted on a after that were not sent.
		if pinned == 0 || pinned > 48 {
			t.Errorf("%d jobs pinned to a, want 1–48", pinned)
		}
	})
}

// TestPoolsOutStopsUnsent: pool a (2/s, burst 5) refuses every call. Its
// account sees little more than the calls that took it out and its probes:
// routing sends the rest to b, and a job still waiting for one of a's
// tokens when it went out would not be sent (TestPoolOutRequestNotSent).
func TestPoolsOutStopsUnsent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 200
		a := newTestPool(t, 1, "a", 1, func(op string, _ int) (int, string) {
			if op == "StartOutboundVoiceContact" {
				return 403, "AccessDeniedException"
			}
			return 0, ""
		}, governor.Options{})
		b := newTestPool(t, 2, "b", 10, nil, governor.Options{})
		q := queue.NewMemory(queue.MemoryOptions{})
		enqueueN(t, q, n, 0)
		var rec recorder
		_, st := drain(t, dispatch.Options{Queue: q, Pools: poolsOf(a, b), Concurrency: 64,
			CallTimeout: 10 * time.Second, Observer: rec.observe}, 10*time.Minute)
		if st.Succeeded != n || st.Dead != 0 {
			t.Fatalf("succeeded %d dead %d, want %d and 0", st.Succeeded, st.Dead, n)
		}
		moved := 0
		all, _ := rec.snapshot()
		for _, o := range all {
			if o.Reason == "pool-unavailable" && strings.Contains(o.Detail, "before the request was sent") {
				moved++
			}
		}
		sent := a.sc.count("StartOutboundVoiceContact")
		t.Logf("a: %d calls reached the account, %d jobs routed again unsent", sent, moved)
		if sent > 12 {
			t.Errorf("a: %d calls reached the account, want the burst that took it out and its probes (≤ 12)", sent)
		}
	})
}
