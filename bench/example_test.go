package bench_test

import (
	"fmt"

	"github.com/tollgatehq/tollgate/bench"
)

// ExampleScenarioNames lists the scenarios and the strategies tollgate bench
// runs by default, in order.
func ExampleScenarioNames() {
	fmt.Println(bench.ScenarioNames())
	fmt.Println(bench.Strategies())
	// Output:
	// [burst sustained fleet neighbour quota-change mixed]
	// [tollgate sdk-adaptive seed sdk-standard none tollgate-redis]
}
