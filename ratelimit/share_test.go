package ratelimit_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// TestSharesWeighted: callers with weights 2, 1 and 1 keep many requests
// waiting on one 10/s bucket; over 30 virtual seconds they are admitted in
// the ratio 2:1:1, although each has the same number of waiting goroutines.
func TestSharesWeighted(t *testing.T) {
	for _, slots := range []int{1, 4} {
		t.Run("slots="+strconv.Itoa(slots), func(t *testing.T) { testSharesWeighted(t, slots) })
	}
}

func testSharesWeighted(t *testing.T, slots int) {
	synctest.Test(t, func(t *testing.T) {
		h := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Ops: map[string]ratelimit.Limit{"ListQueues": {Rate: 10, Burst: 1}}})
		s := ratelimit.Shares{Slots: slots}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		weights := map[string]float64{"a": 2, "b": 1, "c": 1}
		var mu sync.Mutex
		got := map[string]int{}
		var wg sync.WaitGroup
		for name, w := range weights {
			for range 8 {
				wg.Go(func() {
					for ctx.Err() == nil {
						rel, err := s.Enter(ctx, "ListQueues", name, w, ratelimit.PriorityNormal)
						if err != nil {
							return
						}
						err = h.Wait(ctx, ratelimit.Request{Op: "ListQueues"})
						rel()
						if err != nil {
							return
						}
						mu.Lock()
						got[name]++
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		total := got["a"] + got["b"] + got["c"]
		if total < 290 || total > 302 {
			t.Fatalf("admitted %d in 30 s at 10/s", total)
		}
		// a gets half, b and c a quarter each, within what the slots let
		// overtake: up to `slots` turns are granted at once, and the order
		// in which those holders then reach the bucket is the scheduler's,
		// so each caller's count may be off by the slots plus one.
		tol := slots + 1
		steps := []struct {
			name string
			want int
		}{{"a", total / 2}, {"b", total / 4}, {"c", total / 4}}
		for i, st := range steps {
			if d := got[st.name] - st.want; d < -tol || d > tol {
				t.Fatalf("step %d: %s admitted %d, want %d±%d (all: %v)", i, st.name, got[st.name], st.want, tol, got)
			}
		}
	})
}

// TestSharesPriorityAndCancel: a higher class goes first whatever its
// finish time; a cancelled waiter leaves the queue and a cancelled holder
// gives its turn back.
func TestSharesPriorityAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s ratelimit.Shares
		ctx := context.Background()
		hold, err := s.Enter(ctx, "op", "x", 1, ratelimit.PriorityNormal)
		if err != nil {
			t.Fatal(err)
		}
		order := make(chan string, 3)
		enter := func(name string, p ratelimit.Priority, c context.Context) {
			rel, err := s.Enter(c, "op", name, 1, p)
			if err != nil {
				order <- name + ":" + err.Error()
				return
			}
			order <- name
			rel()
		}
		cctx, ccancel := context.WithCancel(ctx)
		go enter("low", ratelimit.PriorityLow, ctx)
		synctest.Wait()
		go enter("gone", ratelimit.PriorityNormal, cctx)
		synctest.Wait()
		go enter("critical", ratelimit.PriorityCritical, ctx)
		synctest.Wait()
		ccancel()
		synctest.Wait()
		if got := <-order; got != "gone:"+context.Canceled.Error() {
			t.Fatalf("cancelled waiter: %s", got)
		}
		hold()
		hold() // a second release is a no-op
		for i, want := range []string{"critical", "low"} {
			if got := <-order; got != want {
				t.Fatalf("step %d: %s went, want %s", i, got, want)
			}
		}
		rel, err := s.Enter(cctx, "op", "late", 1, ratelimit.PriorityNormal)
		switch {
		case err == nil:
			rel() // granted at once: the select may see either
		case !errors.Is(err, context.Canceled):
			t.Fatal(err)
		}
	})
}

// TestSharesClosedLoop: sixteen callers of equal weight, each with one
// request at a time (as an SDK client calling in a loop), half of them
// taking 20 ms between calls and half 300 ms, on a 10/s bucket: a round
// of turns takes 1.6 s, so the slower callers are back well before their
// next turn and, once the start-up burst is spent, every caller is
// admitted as often as every other (±1 for where in a round the count
// stops). Ordering by virtual finish tags instead pushed a slower caller
// one round back whenever it came back after a quicker one had been
// granted its turn in the new round: 17–18 against 20–21 admissions over
// the 30 s.
func TestSharesClosedLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Ops: map[string]ratelimit.Limit{"StartOutboundVoiceContact": {Rate: 10, Burst: 25}}})
		s := ratelimit.Shares{Slots: 4}
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		t0 := time.Now()
		var mu sync.Mutex
		got := map[string]int{}
		var wg sync.WaitGroup
		for i := range 16 {
			name, think := "quick-"+strconv.Itoa(i), 20*time.Millisecond
			if i%2 == 1 {
				name, think = "slow-"+strconv.Itoa(i), 300*time.Millisecond
			}
			wg.Go(func() {
				for ctx.Err() == nil {
					rel, err := s.Enter(ctx, "StartOutboundVoiceContact", name, 1, ratelimit.PriorityNormal)
					if err != nil {
						return
					}
					err = h.Wait(ctx, ratelimit.Request{Op: "StartOutboundVoiceContact"})
					rel()
					if err != nil {
						return
					}
					if time.Since(t0) >= 10*time.Second {
						mu.Lock()
						got[name]++
						mu.Unlock()
					}
					time.Sleep(think)
				}
			})
		}
		wg.Wait()
		lo, hi, total := int(^uint(0)>>1), 0, 0
		for _, n := range got {
			lo, hi, total = min(lo, n), max(hi, n), total+n
		}
		if len(got) != 16 || total < 295 || total > 301 {
			t.Fatalf("admitted %d over 30 s at 10/s: %v", total, got)
		}
		if hi-lo > 1 {
			t.Fatalf("admissions per caller range %d…%d, want within 1 of each other: %v", lo, hi, got)
		}
	})
}

// TestSharesLateCallersCatchUp: eight callers start at once and spend the
// bucket's burst between them; eight more arrive 0.6 to 3 s later (as
// processes whose SDK takes longer to start do), each with one request at
// a time. With Credit, the late callers are admitted first until they have
// had as many turns as the early ones, so when the first caller has had
// its ten, every caller has had nine or ten. Without it the late callers
// start level with the current round and stay behind by what the early
// ones had meanwhile (four or five against nine or ten).
func TestSharesLateCallersCatchUp(t *testing.T) {
	for _, tc := range []struct {
		credit float64
		fair   bool
	}{{8, true}, {0, false}} {
		t.Run("credit="+strconv.FormatFloat(tc.credit, 'g', -1, 64), func(t *testing.T) {
			lo, hi := lateCallers(t, tc.credit)
			if fair := float64(hi) <= 1.2*float64(lo); fair != tc.fair {
				t.Fatalf("turns per caller when the first had ten: %d…%d (max ÷ min %.2f), want fair=%v", lo, hi, float64(hi)/float64(lo), tc.fair)
			}
		})
	}
}

// lateCallers runs the scenario of TestSharesLateCallersCatchUp and returns
// the fewest and most turns per caller when the first has had ten.
func lateCallers(t *testing.T, credit float64) (lo, hi int) {
	synctest.Test(t, func(t *testing.T) {
		h := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Ops: map[string]ratelimit.Limit{"StartOutboundVoiceContact": {Rate: 10, Burst: 25}}})
		s := ratelimit.Shares{Slots: 4, Credit: credit}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var mu sync.Mutex
		got := map[string]int{}
		var wg sync.WaitGroup
		for i := range 16 {
			name, think, delay := "early-"+strconv.Itoa(i), 100*time.Millisecond, time.Duration(0)
			if i%2 == 1 {
				name, think, delay = "late-"+strconv.Itoa(i), 200*time.Millisecond, time.Duration(600+i*30)*time.Millisecond
				if i == 7 {
					delay = 3 * time.Second
				}
			}
			wg.Go(func() {
				time.Sleep(delay)
				for ctx.Err() == nil {
					rel, err := s.Enter(ctx, "StartOutboundVoiceContact", name, 1, ratelimit.PriorityNormal)
					if err != nil {
						return
					}
					err = h.Wait(ctx, ratelimit.Request{Op: "StartOutboundVoiceContact"})
					rel()
					if err != nil {
						return
					}
					mu.Lock()
					if got[name]++; got[name] == 10 {
						cancel()
					}
					mu.Unlock()
					time.Sleep(think)
				}
			})
		}
		wg.Wait()
		lo, hi = int(^uint(0)>>1), 0
		for _, n := range got {
			lo, hi = min(lo, n), max(hi, n)
		}
		if len(got) != 16 {
			t.Fatalf("only %d callers admitted: %v", len(got), got)
		}
	})
	return lo, hi
}

// TestSharesReturn: a returned turn is not counted, so the caller's retry
// goes ahead of a peer that has had as many successful turns.
func TestSharesReturn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s ratelimit.Shares
		ctx := context.Background()
		for _, c := range []string{"retrier", "peer"} {
			rel, err := s.Enter(ctx, "op", c, 1, ratelimit.PriorityNormal)
			if err != nil {
				t.Fatal(err)
			}
			rel()
		}
		s.Return("op", "retrier", 1) // its attempt was throttled
		hold, _ := s.Enter(ctx, "op", "holder", 1, ratelimit.PriorityNormal)
		order := make(chan string, 2)
		for _, c := range []string{"peer", "retrier"} { // the peer queues first
			go func() {
				rel, err := s.Enter(ctx, "op", c, 1, ratelimit.PriorityNormal)
				if err == nil {
					order <- c
					rel()
				}
			}()
			synctest.Wait()
		}
		hold()
		if first := <-order; first != "retrier" {
			t.Fatalf("%s went first; the retrier's returned turn should put it ahead", first)
		}
		<-order
	})
}
