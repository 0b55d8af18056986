package quotas_test

import (
	"fmt"

	"github.com/tollgatehq/tollgate/quotas"
)

func ExampleTable_Apply() {
	rate, burst, calls, other := 10.0, 20, 50, 99.0
	t := quotas.Default()
	err := t.Apply([]quotas.Override{
		{Op: "StartOutboundVoiceContact", Rate: &rate, Burst: &burst},
		{Account: "999999999999", Op: "ListUsers", Rate: &other}, // another account: ignored
		{Resource: quotas.ConcurrentActiveCalls, Value: &calls},
	}, "123456789012", "us-east-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	a, _ := t.API("StartOutboundVoiceContact")
	u, _ := t.API("ListUsers")
	r, _ := t.Resource(quotas.ConcurrentActiveCalls)
	fmt.Println(a.Rate, a.Burst, u.Rate, r.Default)

	bad := -1.0
	fmt.Println(t.Apply([]quotas.Override{{Op: "StopContact", Rate: &bad}}, "", ""))
	// Output:
	// 10 20 10 50
	// quota override 0 (StopContact): rate: must be > 0, got -1
}
