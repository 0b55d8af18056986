package ratelimit

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// TestWaitQueueOrder walks a queue after each step and checks the service
// order and ranks: classes first to last, FIFO within a class, aged
// waiters ahead of everything, oldest first.
func TestWaitQueueOrder(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	type step struct {
		push   string   // name of a waiter to push ("" for none)
		prio   Priority // its priority
		remove string   // name of a waiter to remove
		now    float64  // seconds since t0
		want   string   // walk order as name:rank, space separated
	}
	q := NewWaitQueue[string](5 * time.Second)
	steps := []step{
		{push: "low1", prio: PriorityLow, now: 0, want: "low1:3"},
		{push: "norm1", prio: PriorityNormal, now: 1, want: "norm1:2 low1:3"},
		{push: "crit1", prio: PriorityCritical, now: 2, want: "crit1:0 norm1:2 low1:3"},
		{push: "norm2", prio: PriorityNormal, now: 3, want: "crit1:0 norm1:2 norm2:2 low1:3"},
		{push: "high1", prio: Priority(-7), now: 4, want: "crit1:0 high1:0 norm1:2 norm2:2 low1:3"}, // clamped to Critical
		{now: 5, want: "low1:-1 crit1:0 high1:0 norm1:2 norm2:2"},                                   // low1 is 5 s old: aged
		{now: 7, want: "low1:-1 norm1:-1 crit1:-1 high1:0 norm2:2"},                                 // aged oldest first
		{remove: "norm1", now: 7, want: "low1:-1 crit1:-1 high1:0 norm2:2"},
		{push: "low2", prio: PriorityLow, now: 8, want: "low1:-1 crit1:-1 norm2:-1 high1:0 low2:3"},
	}
	for i, s := range steps {
		if s.push != "" {
			q.Push(at(s.now), s.prio, s.push)
		}
		if s.remove != "" && !q.Remove(s.remove) {
			t.Fatalf("step %d: Remove(%s) = false", i, s.remove)
		}
		got := ""
		q.Walk(at(s.now), func(v string, rank int) (bool, bool) {
			if got != "" {
				got += " "
			}
			got += fmt.Sprintf("%s:%d", v, rank)
			return false, false
		})
		if got != s.want {
			t.Errorf("step %d: got %q want %q", i, got, s.want)
		}
	}
}

// TestWaitQueueWalkRemoveStop: visit removes granted waiters and stops the
// walk; Len and later walks see the result.
func TestWaitQueueWalkRemoveStop(t *testing.T) {
	now := time.Unix(0, 0)
	q := NewWaitQueue[int](-1) // strict priority
	for i, p := range []Priority{PriorityLow, PriorityNormal, PriorityNormal, PriorityHigh, PriorityLow} {
		q.Push(now.Add(time.Duration(i)), p, i)
	}
	var seen []int
	q.Walk(now.Add(time.Hour), func(v, rank int) (bool, bool) {
		seen = append(seen, v)
		return v != 2, v == 2 // grant 3 and 1, stop at 2 (it stays)
	})
	if fmt.Sprint(seen) != "[3 1 2]" || q.Len() != 3 {
		t.Fatalf("walk %v, Len %d: want [3 1 2] and 3 left", seen, q.Len())
	}
	seen = nil
	q.Walk(now, func(v, rank int) (bool, bool) { seen = append(seen, v); return false, false })
	if fmt.Sprint(seen) != "[2 0 4]" {
		t.Fatalf("after removal: %v want [2 0 4]", seen)
	}
	if q.Remove(3) {
		t.Fatal("Remove of a waiter already removed returned true")
	}
	if q.Aging() >= 0 {
		t.Fatalf("Aging: got %v want negative (off)", q.Aging())
	}
}

// TestWaitQueueAhead: a new request ranks behind its own class and higher
// ones, and behind every aged waiter.
func TestWaitQueueAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewWaitQueue[string](0) // DefaultAging
		q.Push(time.Now(), PriorityLow, "low")
		q.Push(time.Now(), PriorityHigh, "high")
		q.Push(time.Now(), PriorityNormal, "normal")
		ahead := func(p Priority) string {
			s := ""
			for v := range q.Ahead(time.Now(), p) {
				s += v + " "
			}
			return s
		}
		for _, s := range []struct {
			p    Priority
			want string
		}{
			{PriorityCritical, ""},
			{PriorityHigh, "high "},
			{PriorityNormal, "high normal "},
			{PriorityLow, "high normal low "},
		} {
			if got := ahead(s.p); got != s.want {
				t.Errorf("Ahead(%d): got %q want %q", s.p, got, s.want)
			}
		}
		time.Sleep(DefaultAging)
		if got := ahead(PriorityCritical); got != "high normal low " {
			t.Errorf("Ahead(Critical) after aging: got %q want every waiter", got)
		}
	})
}

func TestPriorityClassAndTokens(t *testing.T) {
	for _, s := range []struct {
		p    Priority
		want int
	}{{PriorityCritical, 0}, {PriorityHigh, 1}, {PriorityNormal, 2}, {PriorityLow, 3}, {-9, 0}, {9, 3}} {
		if got := s.p.Class(); got != s.want {
			t.Errorf("Priority(%d).Class() = %d want %d", s.p, got, s.want)
		}
	}
	for _, s := range []struct {
		cost float64
		want float64
		bad  bool
	}{{0, 1, false}, {2.5, 2.5, false}, {-1, 0, true}} {
		got, err := Request{Op: "X", Cost: s.cost}.Tokens()
		if got != s.want || (err != nil) != s.bad {
			t.Errorf("Tokens(cost %v) = %v, %v", s.cost, got, err)
		}
	}
}
