package ratelimit

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type served struct {
	name string
	at   time.Duration
}

// startWaiter starts a Wait in a goroutine and returns once it is queued.
func startWaiter(h *Hierarchy, start time.Time, out chan<- served, name string, req Request) {
	go func() {
		if err := h.Wait(context.Background(), req); err != nil {
			out <- served{name: "error " + name + ": " + err.Error()}
			return
		}
		out <- served{name: name, at: time.Since(start)}
	}()
	synctest.Wait()
}

func TestPriorityOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHierarchy(HierarchyOptions{Ops: map[string]Limit{"A": {Rate: 10, Burst: 1}}})
		start := time.Now()
		if d, _ := h.Try(context.Background(), Request{Op: "A"}); !d.OK {
			t.Fatal("drain refused")
		}
		out := make(chan served, 8)
		for _, w := range []struct {
			name string
			p    Priority
		}{
			{"low1", PriorityLow}, {"normal1", PriorityNormal}, {"low2", PriorityLow},
			{"critical1", PriorityCritical}, {"high1", PriorityHigh}, {"normal2", PriorityNormal},
			{"critical2", PriorityCritical},
		} {
			startWaiter(h, start, out, w.name, Request{Op: "A", Priority: w.p})
		}
		want := []string{"critical1", "critical2", "high1", "normal1", "normal2", "low1", "low2"}
		for i, name := range want {
			got := <-out
			if wantAt := time.Duration(i+1) * 100 * ms; got.name != name || got.at != wantAt {
				t.Fatalf("step %d: got %s at %v want %s at %v", i, got.name, got.at, name, wantAt)
			}
		}
	})
}

func TestPriorityTryDoesNotOvertakeWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHierarchy(HierarchyOptions{Ops: map[string]Limit{"A": {Rate: 10, Burst: 5}, "B": {Rate: 10, Burst: 5}}})
		ctx := context.Background()
		start := time.Now()
		if d, _ := h.Try(ctx, Request{Op: "A", Cost: 5}); !d.OK {
			t.Fatal("drain refused")
		}
		out := make(chan served, 2)
		startWaiter(h, start, out, "normal-cost-3", Request{Op: "A", Cost: 3})
		time.Sleep(150 * ms) // 1.5 tokens: not enough for the waiter
		for i, c := range []struct {
			p  Priority
			op string
			ok bool
		}{
			{PriorityLow, "A", false},      // behind the normal waiter
			{PriorityNormal, "A", false},   // same class: FIFO
			{PriorityHigh, "A", true},      // higher class goes first (0.5 left)
			{PriorityCritical, "A", false}, // nothing left
			{PriorityLow, "B", true},       // another operation's bucket is not held
		} {
			d, err := h.Try(ctx, Request{Op: c.op, Priority: c.p})
			if err != nil || d.OK != c.ok {
				t.Fatalf("step %d: Try %s priority %d: got %+v, %v want OK=%v", i, c.op, c.p, d, err, c.ok)
			}
			if !d.OK && d.RetryIn <= 0 {
				t.Fatalf("step %d: refusal with RetryIn %v want > 0", i, d.RetryIn)
			}
		}
		// 0.5 tokens at 150ms; 3 needed: the waiter goes at 400ms.
		if got := <-out; got.name != "normal-cost-3" || got.at != 400*ms {
			t.Fatalf("waiter: got %s at %v want normal-cost-3 at 400ms", got.name, got.at)
		}
	})
}

func TestPriorityAccountShared(t *testing.T) {
	// Two operations share the account bucket: the account's tokens go to
	// the higher class first, whatever the operation.
	synctest.Test(t, func(t *testing.T) {
		h := NewHierarchy(HierarchyOptions{
			Account: Limit{Rate: 10, Burst: 1},
			Ops:     map[string]Limit{"Batch": {Rate: 100, Burst: 10}, "Agent": {Rate: 100, Burst: 10}},
		})
		start := time.Now()
		h.Try(context.Background(), Request{Op: "Batch"})
		out := make(chan served, 4)
		startWaiter(h, start, out, "batch1", Request{Op: "Batch", Priority: PriorityLow})
		startWaiter(h, start, out, "batch2", Request{Op: "Batch", Priority: PriorityLow})
		startWaiter(h, start, out, "agent1", Request{Op: "Agent", Priority: PriorityCritical})
		startWaiter(h, start, out, "agent2", Request{Op: "Agent", Priority: PriorityHigh})
		for i, name := range []string{"agent1", "agent2", "batch1", "batch2"} {
			got := <-out
			if wantAt := time.Duration(i+1) * 100 * ms; got.name != name || got.at != wantAt {
				t.Fatalf("step %d: got %s at %v want %s at %v", i, got.name, got.at, name, wantAt)
			}
		}
	})
}

// flood keeps n critical waiters queued on op until ctx ends.
func flood(ctx context.Context, h *Hierarchy, op string, n int) {
	for range n {
		go func() {
			for h.Wait(ctx, Request{Op: op, Priority: PriorityCritical}) == nil {
			}
		}()
	}
}

func TestPriorityAgingBoundsStarvation(t *testing.T) {
	for _, c := range []struct {
		name  string
		aging time.Duration
		want  time.Duration // when the low waiter is served; 0 = not within 5s
	}{
		{"aging 1s", time.Second, time.Second},
		{"aging 2s", 2 * time.Second, 2 * time.Second},
		{"default aging", 0, DefaultAging},
		{"no aging", -1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := NewHierarchy(HierarchyOptions{Ops: map[string]Limit{"A": {Rate: 10, Burst: 1}}, Aging: c.aging})
				ctx, cancel := context.WithCancel(context.Background())
				// Five critical waiters at 10/s each wait ~0.5s: they never
				// age, and there is always one queued.
				flood(ctx, h, "A", 5)
				synctest.Wait()
				start := time.Now()
				lctx, lcancel := context.WithTimeout(context.Background(), 6*time.Second)
				err := h.Wait(lctx, Request{Op: "A", Priority: PriorityLow})
				lcancel()
				got := time.Since(start)
				cancel()
				synctest.Wait()
				if c.want == 0 {
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("strict priority under a critical flood: got %v after %v want starvation until the deadline", err, got)
					}
					return
				}
				if err != nil || got != c.want {
					t.Fatalf("low waiter under a critical flood: got %v at %v want nil at %v", err, got, c.want)
				}
			})
		})
	}
}

func TestPriorityAgedBeforeCriticalTry(t *testing.T) {
	// An aged waiter also holds its bucket against Try of any class.
	synctest.Test(t, func(t *testing.T) {
		h := NewHierarchy(HierarchyOptions{Ops: map[string]Limit{"A": {Rate: 1, Burst: 3}}, Aging: 1500 * ms})
		ctx := context.Background()
		start := time.Now()
		h.Try(ctx, Request{Op: "A", Cost: 3})
		out := make(chan served, 1)
		startWaiter(h, start, out, "low-cost-2", Request{Op: "A", Cost: 2, Priority: PriorityLow})
		time.Sleep(1400 * ms) // 1.4 tokens
		if d, _ := h.Try(ctx, Request{Op: "A", Priority: PriorityCritical}); !d.OK {
			t.Fatalf("critical Try before the low waiter ages: got %+v want OK", d)
		}
		time.Sleep(700 * ms) // 1.1 tokens, and the waiter has aged
		if d, _ := h.Try(ctx, Request{Op: "A", Priority: PriorityCritical}); d.OK {
			t.Fatalf("critical Try after the low waiter aged: got OK want refusal")
		}
		if got := <-out; got.at != 3*time.Second {
			t.Fatalf("aged waiter: served at %v want 3s", got.at)
		}
	})
}

// TestRandomWaitersNeverExceedBuckets drives random Wait, Try and cancel
// traffic on two operations under one account in virtual time, then checks
// every window of every bucket: admitted cost ≤ burst + rate×window.
func TestRandomWaitersNeverExceedBuckets(t *testing.T) {
	for seed := range int64(4) {
		synctest.Test(t, func(t *testing.T) {
			limits := map[string]Limit{"A": {Rate: 5, Burst: 3}, "B": {Rate: 3, Burst: 2}}
			acct := Limit{Rate: 6, Burst: 4}
			h := NewHierarchy(HierarchyOptions{Account: acct, Ops: limits, Aging: 700 * ms})
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			type adm struct {
				op   string
				cost float64
				at   time.Duration
			}
			var mu sync.Mutex
			var adms []adm
			start := time.Now()
			var wg sync.WaitGroup
			for g := range 12 {
				op := []string{"A", "B"}[g%2]
				r := rand.New(rand.NewPCG(rng.Uint64(), uint64(g)))
				wg.Go(func() {
					for range 15 {
						req := Request{Op: op, Cost: float64(1 + r.IntN(2)), Priority: Priority(r.IntN(4) - 2)}
						var ok bool
						if r.IntN(4) == 0 {
							d, _ := h.Try(context.Background(), req)
							ok = d.OK
						} else {
							ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.IntN(3000))*ms)
							ok = h.Wait(ctx, req) == nil
							cancel()
						}
						if ok {
							mu.Lock()
							adms = append(adms, adm{op, req.Cost, time.Since(start)})
							mu.Unlock()
						}
						time.Sleep(time.Duration(r.IntN(300)) * ms)
					}
				})
			}
			wg.Wait()
			if len(adms) < 20 {
				t.Fatalf("seed %d: only %d admissions", seed, len(adms))
			}
			check := func(name string, l Limit, match func(adm) bool) {
				for i := range adms {
					sum := 0.0
					for j := i; j < len(adms); j++ {
						if !match(adms[j]) {
							continue
						}
						sum += adms[j].cost
						window := (adms[j].at - adms[i].at).Seconds()
						if max := l.Burst + l.Rate*window + 1e-6; sum > max {
							t.Fatalf("seed %d: bucket %s admitted %v in %.3fs window from %v: max %v", seed, name, sum, window, adms[i].at, max)
						}
					}
				}
			}
			check("account", acct, func(adm) bool { return true })
			for op, l := range limits {
				check(op, l, func(a adm) bool { return a.op == op })
			}
			if n := h.Waiting(); n != 0 {
				t.Fatalf("seed %d: %d waiters left", seed, n)
			}
		})
	}
}
