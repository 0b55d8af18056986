package dispatch

import "testing"

func TestIsRead(t *testing.T) {
	for i, s := range []struct {
		op   string
		want bool
	}{
		{"GetCurrentMetricData", true}, {"GetMetricDataV2", true}, {"GetCurrentUserData", true},
		{"ListQueues", true}, {"DescribeUser", true}, {"SearchUsers", true},
		{"StartOutboundVoiceContact", false}, {"StopContact", false}, {"PutDialRequestBatch", false},
		{"GetNotAnOperation", false}, {"", false},
	} {
		if got := IsRead(s.op); got != s.want {
			t.Errorf("step %d: IsRead(%q) = %v want %v", i, s.op, got, s.want)
		}
	}
}
