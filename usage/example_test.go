package usage_test

import (
	"fmt"
	"github.com/tollgatehq/tollgate/governor"
	"os"
	"time"

	"github.com/tollgatehq/tollgate/usage"
)

func ExampleBuildStatus() {
	q := map[string]usage.Quota{
		"CreateUser": {Op: "CreateUser", Code: "L-CBDEE3E4", Applied: 2, Default: 2, Adjustable: true},
		"ListUsers":  {Op: "ListUsers", Code: "L-CCC38177", Applied: 10, Default: 10, Adjustable: true},
		"ListQueues": {Op: "ListQueues", Code: "L-C56E3A3C", Applied: 10, Default: 10, Adjustable: true},
	}
	u := map[string]usage.Usage{
		"CreateUser": {Op: "CreateUser", Calls: 300, PeakMinute: 102, PeakRate: 1.7},
		"ListUsers":  {Op: "ListUsers", Calls: 900, PeakMinute: 450, PeakRate: 7.5},
	}
	from := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	st := usage.BuildStatus(q, u, from, from.Add(time.Hour), 0, 0)
	for _, r := range st.Rows {
		fmt.Printf("%s %.0f%% %s\n", r.Op, r.Percent, r.Mark)
	}
	fmt.Println("unused:", st.Unused)
	_ = st.Render(os.Stdout, "md")
	// Output:
	// CreateUser 85% ALARM
	// ListUsers 75% WARN
	// unused: [ListQueues]
	// ## Connect API usage against quota
	//
	// 2026-12-01T09:00:00Z to 2026-12-01T10:00:00Z; warn at 70%, alarm at 80%.
	//
	// | operation | quota (default) | adjustable | peak/min | peak rate/s | peak/s | % of quota | headroom/s | mark |
	// |---|---|---|---|---|---|---|---|---|
	// | CreateUser | 2 | yes | 102 | 1.70 | - | 85.0% | 0.30 | ALARM |
	// | ListUsers | 10 | yes | 450 | 7.50 | - | 75.0% | 2.50 | WARN |
	//
	// 1 operations with a quota had no calls.
}

func ExampleBusinessDays() {
	fri := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) // a Friday
	fmt.Println(usage.BusinessDays(fri, fri.Add(3*24*time.Hour)), usage.BusinessDays(fri, fri.Add(6*24*time.Hour)))
	// Output: 1 4
}

func ExampleSecondPeaks() {
	p := usage.NewSecondPeaks()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 90; i++ { // 1.5 calls/s for a minute, three in the first second
		p.ObserveAttempt(governor.Attempt{Op: "CreateUser", Start: t0.Add(time.Duration(i) * 666 * time.Millisecond)})
	}
	r := p.Rates(t0.Add(90 * time.Second))["CreateUser"]
	fmt.Printf("last minute %.2f/s, busiest second %g\n", r.LastMinute, r.PeakSecond)
	// Output: last minute 1.50/s, busiest second 2
}
