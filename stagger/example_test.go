package stagger_test

import (
	"fmt"
	"time"

	"github.com/tollgatehq/tollgate/stagger"
)

// ExampleCompute plans a shift change of 200 agent desktops, each making
// GetCurrentUserData, ListUsers and DescribeUser at start-up, with the
// published quotas.
func ExampleCompute() {
	p, err := stagger.Compute(stagger.Options{Agents: 200, Trials: 50})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("start-up bucket: %v/s, %v at once\n", p.StartUp.Rate, p.StartUp.Burst)
	fmt.Println("last reserved start:", p.LastStart)
	tg, _ := p.Outcome(stagger.StrategyTollgate)
	fmt.Println("reservations throttled:", tg.Throttled)
	// Output:
	// start-up bucket: 2/s, 4 at once
	// last reserved start: 1m38s
	// reservations throttled: 0
}

// ExampleSlotDelay computes the fallback slot the JavaScript module uses
// when serve does not answer.
func ExampleSlotDelay() {
	fmt.Println(stagger.SlotDelay("agent-0001", "", time.Minute, time.Second))
	fmt.Println(stagger.SlotDelay("jöhn.doe@example.com", "", time.Minute, time.Second))
	// Output:
	// 2s
	// 33s
}
