package servicequotas_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tollgatehq/tollgate/sim/servicequotas"
)

// An increase request moves PENDING → CASE_OPENED → APPROVED on the
// clock; the approval changes the applied value and calls OnApprove.
func ExampleService_Call() {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := servicequotas.New(servicequotas.Options{Now: func() time.Time { return now }, Seed: 1,
		OnApprove: func(op string, v float64) { fmt.Println("raise", op, "to", v) }})
	out, err := s.Call("RequestServiceQuotaIncrease", []byte(`{"ServiceCode":"connect","QuotaCode":"L-CBDEE3E4","DesiredValue":4}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.Marshal(out)
	var r struct{ RequestedQuota struct{ Id, Status string } }
	_ = json.Unmarshal(b, &r)
	fmt.Println(r.RequestedQuota.Status)
	for _, d := range []time.Duration{4 * time.Minute, 20 * time.Minute} {
		now = now.Add(d)
		out, _ = s.Call("GetRequestedServiceQuotaChange", []byte(`{"RequestId":"`+r.RequestedQuota.Id+`"}`))
		b, _ = json.Marshal(out)
		_ = json.Unmarshal(b, &r)
		fmt.Println(r.RequestedQuota.Status)
	}
	v, _ := s.Applied("CreateUser")
	fmt.Println("applied", v)
	// Output:
	// PENDING
	// CASE_OPENED
	// raise CreateUser to 4
	// APPROVED
	// applied 4
}
