package adaptive_test

import (
	"fmt"
	"time"

	"github.com/tollgatehq/tollgate/adaptive"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// A learner seeded with DescribeUser's quota (10/s, burst 10) runs alone: it
// slow-starts to the seed, and after 100 calls at the seed without a throttle
// it probes above it (the quota may have been raised). Then a neighbour takes
// about half of the bucket: the share measured between two throttles (the
// bucket was empty at both) is 5/s, and the learner holds just under it.
func ExampleLearner() {
	l := adaptive.NewLearner(ratelimit.Limit{Rate: 10, Burst: 10}, adaptive.Options{})
	t0 := time.Unix(1_700_000_000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	fmt.Printf("start: %.2f/s burst %v\n", l.Rate(at(0)), l.Limit(at(0)).Burst)

	s := 0.0
	for ; s < 11; s += 0.1 { // alone: every call accepted
		l.Observe(at(s), adaptive.Signal{})
	}
	fmt.Printf("alone: %.2f/s burst %v\n", l.Rate(at(s)), l.Limit(at(s)).Burst)

	l.Observe(at(s), adaptive.Signal{Kind: adaptive.Throttled}) // the neighbour arrives
	for i := 1; i <= 16; i++ {                                  // we get 5/s
		l.Observe(at(s+float64(i)*0.2), adaptive.Signal{})
	}
	l.Observe(at(s+3.2), adaptive.Signal{Kind: adaptive.Throttled})
	fmt.Printf("beside the neighbour: measured %.2f/s, holding %.2f/s\n", l.Knee(), l.Rate(at(s+3.2)))
	// Output:
	// start: 2.50/s burst 1
	// alone: 11.89/s burst 10
	// beside the neighbour: measured 5.00/s, holding 4.50/s
}
