package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

func ExampleBucket() {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// StartOutboundVoiceContact: 2 requests per second, burst 5.
	b := ratelimit.NewBucket(ratelimit.Limit{Rate: 2, Burst: 5}, start)
	admitted := 0
	for b.AllowN(start, 1) {
		admitted++
	}
	fmt.Println("burst admitted:", admitted)
	fmt.Println("next token in:", b.DelayN(start, 1))
	fmt.Println("tokens after 1.25s:", b.TokensAt(start.Add(1250*time.Millisecond)))
	ok, delay := b.ReserveN(start, 3)
	fmt.Println("reserve 3:", ok, "act in", delay)
	// Output:
	// burst admitted: 5
	// next token in: 500ms
	// tokens after 1.25s: 2.5
	// reserve 3: true act in 1.5s
}

func ExampleHierarchy_TryAt() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{
		// A self-imposed cap for the whole account, shared by every operation.
		Account: ratelimit.Limit{Rate: 3, Burst: 6},
		// Other operations come from quotas.Default(): GetCurrentMetricData 5/s burst 8.
		Ops: map[string]ratelimit.Limit{"StartOutboundVoiceContact": {Rate: 2, Burst: 5}},
		Now: func() time.Time { return now },
	})
	for _, req := range []ratelimit.Request{
		{Op: "StartOutboundVoiceContact", Cost: 4},
		{Op: "StartOutboundVoiceContact", Cost: 2}, // the operation has 1 left
		{Op: "GetCurrentMetricData", Cost: 2},      // the account has 2 left
		{Op: "GetCurrentMetricData", Cost: 1},      // the account is empty
	} {
		d, err := h.TryAt(now, req)
		fmt.Printf("%s cost %v: ok=%v retry in %v err=%v\n", req.Op, req.Cost, d.OK, d.RetryIn, err)
	}
	// Output:
	// StartOutboundVoiceContact cost 4: ok=true retry in 0s err=<nil>
	// StartOutboundVoiceContact cost 2: ok=false retry in 500ms err=<nil>
	// GetCurrentMetricData cost 2: ok=true retry in 0s err=<nil>
	// GetCurrentMetricData cost 1: ok=false retry in 333.333334ms err=<nil>
}

func ExampleHierarchy_Wait() {
	h := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{
		Ops: map[string]ratelimit.Limit{"CreateInstance": {Rate: 0.1, Burst: 1}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	fmt.Println("first:", h.Wait(ctx, ratelimit.Request{Op: "CreateInstance"}))
	// The next token is 10s away: Wait fails at once instead of sleeping 2s.
	err := h.Wait(ctx, ratelimit.Request{Op: "CreateInstance", Priority: ratelimit.PriorityCritical})
	fmt.Println("second would exceed deadline:", errors.Is(err, ratelimit.ErrWouldExceedDeadline))
	// Output:
	// first: <nil>
	// second would exceed deadline: true
}

// A WaitQueue orders waiters: classes from Critical to Low, FIFO within a
// class, and any waiter older than the aging bound ahead of all of them.
// The limiter decides, while walking, who can go.
func ExampleWaitQueue() {
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	q := ratelimit.NewWaitQueue[string](5 * time.Second)
	q.Push(start, ratelimit.PriorityLow, "nightly export")
	q.Push(start.Add(4*time.Second), ratelimit.PriorityNormal, "sync")
	q.Push(start.Add(4*time.Second), ratelimit.PriorityCritical, "agent screen-pop")

	tokens := 2 // what the bucket holds now
	walk := func(now time.Time) {
		q.Walk(now, func(w string, rank int) (remove, stop bool) {
			if tokens == 0 {
				return false, true // the bucket is empty: nobody behind can go
			}
			tokens--
			fmt.Printf("%s (rank %d)\n", w, rank)
			return true, false
		})
	}
	walk(start.Add(4 * time.Second)) // the export has waited 4 s
	fmt.Println("left:", q.Len())
	tokens = 1
	walk(start.Add(9 * time.Second)) // the export is now aged
	// Output:
	// agent screen-pop (rank 0)
	// sync (rank 2)
	// left: 1
	// nightly export (rank -1)
}
