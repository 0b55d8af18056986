package servicequotas

import (
	"testing"
	"time"
)

// FuzzCall feeds arbitrary JSON to every operation: no panic, and every
// error carries a code and a message.
func FuzzCall(f *testing.F) {
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := New(Options{Now: func() time.Time { return clock }})
	f.Add("RequestServiceQuotaIncrease", `{"ServiceCode":"connect","QuotaCode":"L-CBDEE3E4","DesiredValue":5}`)
	f.Add("ListServiceQuotas", `{"ServiceCode":"connect","MaxResults":3,"NextToken":"Mw=="}`)
	f.Add("GetRequestedServiceQuotaChange", `{"RequestId":"x"}`)
	f.Add("ListRequestedServiceQuotaChangeHistory", `{"Status":"PENDING","QuotaRequestedAtLevel":"ALL"}`)
	f.Fuzz(func(t *testing.T, op, body string) {
		for h := range handlers {
			if _, e := s.Call(h, []byte(body)); e != nil && (e.code == "" || e.msg == "") {
				t.Fatalf("%s: unnamed error %+v", h, e)
			}
		}
		_, _ = s.Call(op, []byte(body))
	})
}
