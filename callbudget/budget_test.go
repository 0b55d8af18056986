package callbudget_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/ratelimit"
)

const inst = "instance-1"

// acquireAsync starts an Acquire and returns where its slot (or error) arrives.
func acquireAsync(ctx context.Context, b *callbudget.Budget, p ratelimit.Priority) <-chan *callbudget.Slot {
	ch := make(chan *callbudget.Slot, 1)
	go func() {
		s, err := b.Acquire(ctx, inst, p)
		if err != nil {
			s = nil
		}
		ch <- s
	}()
	return ch
}

func TestBudgetIsQuotaMinusReserve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := callbudget.New(callbudget.Options{Limit: 4, Reserve: 1})
		if q, bud := b.Limit(inst); q != 4 || bud != 3 {
			t.Fatalf("Limit = %d, %d; want 4, 3", q, bud)
		}
		var held []*callbudget.Slot
		for i := range 3 {
			s, err := b.Acquire(t.Context(), inst, ratelimit.PriorityNormal)
			if err != nil {
				t.Fatalf("step %d: Acquire: %v", i, err)
			}
			held = append(held, s)
		}
		if _, ok := b.TryAcquireAt(time.Now(), inst, ratelimit.PriorityCritical); ok {
			t.Fatal("TryAcquireAt: got a fourth slot with a budget of 3")
		}
		got := acquireAsync(t.Context(), b, ratelimit.PriorityNormal)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		select {
		case <-got:
			t.Fatal("a fourth call was admitted while three are in progress")
		default:
		}
		if w := b.Waiting(inst); w != 1 {
			t.Fatalf("Waiting = %d, want 1", w)
		}
		start := time.Now()
		held[1].Release()
		s := <-got
		if s == nil || time.Since(start) != 0 {
			t.Fatalf("after a release: slot %v after %v, want one at once", s, time.Since(start))
		}
		if a := b.Active(inst); a != 3 {
			t.Fatalf("Active = %d, want 3", a)
		}
		// Another instance has its own budget.
		if _, err := b.Acquire(t.Context(), "instance-2", ratelimit.PriorityNormal); err != nil {
			t.Fatalf("other instance: %v", err)
		}
	})
}

func TestContactEndFreesTheSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := callbudget.New(callbudget.Options{Limit: 1, MaxDuration: time.Hour})
		s, _ := b.Acquire(t.Context(), inst, ratelimit.PriorityNormal)
		if !s.Start("c-1") {
			t.Fatal("Start on a live slot reported false")
		}
		got := acquireAsync(t.Context(), b, ratelimit.PriorityNormal)
		time.Sleep(3 * time.Second) // the call lasts 3 s
		if b.End("unknown") {
			t.Fatal("End of an unknown contact freed something")
		}
		if !b.End("c-1") {
			t.Fatal("End of the contact freed nothing")
		}
		s2 := <-got
		if s2 == nil {
			t.Fatal("the waiter got no slot")
		}
		if b.End("c-1") {
			t.Fatal("a duplicated end freed a second slot")
		}
		s.Release() // after the end: nothing
		if a := b.Active(inst); a != 1 {
			t.Fatalf("Active = %d, want 1", a)
		}
		// One contact bound twice (a redelivery answered by its token) holds one slot.
		s2.Start("c-2")
		s3, ok := b.TryAcquireAt(time.Now(), inst, ratelimit.PriorityNormal)
		if ok {
			t.Fatalf("got %v beyond the budget", s3)
		}
	})
}

func TestMaxDurationBoundsAnUnendedCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const maxDur = 5 * time.Minute
		b := callbudget.New(callbudget.Options{Limit: 1, MaxDuration: maxDur})
		s, _ := b.Acquire(t.Context(), inst, ratelimit.PriorityNormal)
		time.Sleep(time.Minute)
		started := time.Now()
		s.Start("c-lost") // no end will ever come
		got := acquireAsync(t.Context(), b, ratelimit.PriorityNormal)
		s2 := <-got
		if s2 == nil {
			t.Fatal("no slot after MaxDuration")
		}
		if waited := time.Since(started); waited != maxDur {
			t.Fatalf("the slot was freed %v after the call started, want %v", waited, maxDur)
		}
		if s.Start("late") {
			t.Fatal("Start on an expired slot reported true")
		}
		// A slot that never started expires MaxDuration after it was taken.
		taken := time.Now()
		got = acquireAsync(t.Context(), b, ratelimit.PriorityNormal)
		<-got
		if waited := time.Since(taken); waited != maxDur {
			t.Fatalf("an unstarted slot was freed after %v, want %v", waited, maxDur)
		}
	})
}

func TestPriorityOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := callbudget.New(callbudget.Options{Limit: 1, Aging: -1})
		s, _ := b.Acquire(t.Context(), inst, ratelimit.PriorityNormal)
		var mu sync.Mutex
		var order []string
		var wg sync.WaitGroup
		for _, c := range []struct {
			name string
			p    ratelimit.Priority
		}{{"low", ratelimit.PriorityLow}, {"high", ratelimit.PriorityHigh}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := b.Acquire(t.Context(), inst, c.p)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, c.name)
				mu.Unlock()
				time.Sleep(time.Second)
				s.Release()
			}()
			synctest.Wait()
		}
		s.Release()
		wg.Wait()
		if len(order) != 2 || order[0] != "high" {
			t.Fatalf("served %v, want high before low", order)
		}
	})
}

func TestCancelAndZeroBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := callbudget.New(callbudget.Options{Limit: 2, Reserve: 2})
		_, err := b.Acquire(t.Context(), inst, ratelimit.PriorityNormal)
		var be *callbudget.BudgetError
		if !errors.Is(err, callbudget.ErrNoBudget) || !errors.As(err, &be) || be.Limit != 2 || be.Reserve != 2 {
			t.Fatalf("zero budget: got %v", err)
		}
		b.SetLimit(inst, 3) // Service Quotas says 3 for this instance
		s, err := b.Acquire(t.Context(), inst, ratelimit.PriorityNormal)
		if err != nil {
			t.Fatalf("after SetLimit: %v", err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		if _, err := b.Acquire(ctx, inst, ratelimit.PriorityNormal); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Acquire past the deadline: got %v", err)
		}
		if w := b.Waiting(inst); w != 0 {
			t.Fatalf("a cancelled waiter stayed queued (%d)", w)
		}
		got := acquireAsync(t.Context(), b, ratelimit.PriorityNormal)
		synctest.Wait()
		b.SetLimit(inst, 4) // raised: the waiter goes at once
		if <-got == nil {
			t.Fatal("no slot after the limit was raised")
		}
		s.Release()
	})
}
