package backoff_test

import (
	"fmt"
	"time"

	"github.com/tollgatehq/tollgate/backoff"
)

// The seed recipe as one Options value: full jitter, 1 s base, 32 s cap,
// 8 attempts. With u = 0.5 every delay is half its ceiling.
func ExampleSeedRecipe() {
	o := backoff.SeedRecipe()
	for attempt := 1; o.Retry(attempt); attempt++ {
		fmt.Printf("after attempt %d: up to %v, e.g. %v\n", attempt, o.Delay(attempt, false, 0, 0.9999999), o.Delay(attempt, false, 0, 0.5))
	}
	// Output:
	// after attempt 1: up to 999.9999ms, e.g. 500ms
	// after attempt 2: up to 1.9999998s, e.g. 1s
	// after attempt 3: up to 3.9999996s, e.g. 2s
	// after attempt 4: up to 7.9999992s, e.g. 4s
	// after attempt 5: up to 15.9999984s, e.g. 8s
	// after attempt 6: up to 31.9999968s, e.g. 16s
	// after attempt 7: up to 31.9999968s, e.g. 16s
}

// The zero Options are aws-sdk-go-v2 v1.48's: 1 s base after a throttle,
// 50 ms after a transient failure, 20 s cap.
func ExampleOptions_Delay() {
	var o backoff.Options
	for _, attempt := range []int{1, 3, 6} {
		fmt.Println(attempt, o.Delay(attempt, true, 0, 0.5), o.Delay(attempt, false, 0, 0.5))
	}
	// Output:
	// 1 500ms 25ms
	// 3 2s 100ms
	// 6 10s 800ms
}

// A retry loop driving decorrelated jitter from a seeded source.
func ExampleNewRand() {
	o := backoff.Options{Strategy: backoff.Decorrelated, MaxAttempts: 4}
	r := backoff.NewRand(7)
	var prev time.Duration
	for attempt := 1; o.Retry(attempt); attempt++ {
		d := o.Delay(attempt, true, prev, r.Float64())
		fmt.Println(d >= time.Second && d <= 3*max(prev, time.Second))
		prev = d
	}
	// Output:
	// true
	// true
	// true
}
