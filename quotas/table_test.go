package quotas_test

import (
	"testing"

	"github.com/tollgatehq/tollgate/quotas"
)

// TestReferenceRates checks every operation of connect-api.md §5.2 (the
// Service Quotas dump) and the 2023 admin-guide bursts.
func TestReferenceRates(t *testing.T) {
	type step struct {
		op    string
		rate  float64
		burst int // 0: not checked
		code  string
	}
	steps := []step{
		{"StartOutboundVoiceContact", 2, 5, "L-4E9BCC96"},
		{"StopContact", 10, 0, "L-650BD10F"},
		{"GetCurrentMetricData", 5, 8, "L-ED2B0490"},
		{"GetMetricDataV2", 10, 0, "L-2E719449"},
		{"GetMetricData", 5, 8, "L-52794498"},
		{"GetCurrentUserData", 2, 5, "L-9E54B88B"},
		{"ListUsers", 10, 0, "L-CCC38177"},
		{"DescribeUser", 10, 0, "L-EE6F0D82"},
		{"ListQueues", 10, 0, "L-C56E3A3C"},
		{"ListContactFlows", 2, 5, "L-4641705A"},
		{"DescribeInstance", 2, 5, "L-D14CF86E"},
		{"ListInstances", 2, 5, "L-98C95556"},
		{"CreateInstance", 0.1, 0, "L-2AADC77E"},
		{"DeleteInstance", 0.1, 0, "L-B9220F3B"},
		{"ClaimPhoneNumber", 2, 5, "L-21385E28"},
		{"ListPhoneNumbersV2", 2, 5, "L-B07B2C56"},
		{"UpdateContactAttributes", 10, 0, "L-F001E5ED"},
		{"StartChatContact", 5, 8, "L-AA48CD49"},
		{"StartTaskContact", 2, 5, "L-E704D621"},
		{"CreateUser", 2, 5, "L-CBDEE3E4"},
		{"ListAgentStatuses", 10, 0, "L-D6D4A2DA"},
		{"SearchUsers", 2, 5, "L-E2C35CCE"},
		// "Others of note", no published code.
		{"GetContactAttributes", 10, 0, ""},
		{"DescribeContact", 10, 0, ""},
		{"UpdateContact", 10, 0, ""},
		{"BatchPutContact", 10, 0, ""},
		{"TagContact", 20, 0, ""},
		{"UntagContact", 20, 0, ""},
		{"ListIntegrationAssociations", 50, 0, ""},
		{"StartContactStreaming", 5, 8, ""},
		{"StopContactStreaming", 5, 8, ""},
		{"CreateParticipant", 5, 0, ""},
		// §5.1 Participant Service and Contact Lens.
		{"CreateParticipantConnection", 6, 9, ""},
		{"DisconnectParticipant", 3, 5, ""},
		{"GetTranscript", 8, 12, ""},
		{"SendEvent", 10, 15, ""},
		{"SendMessage", 10, 15, ""},
		{"ListRealtimeContactAnalysisSegments", 1, 2, ""},
	}
	tab := quotas.Default()
	for i, s := range steps {
		a, ok := tab.API(s.op)
		if !ok {
			t.Errorf("step %d: %s missing", i, s.op)
			continue
		}
		if a.Rate != s.rate {
			t.Errorf("step %d: %s rate got %v want %v", i, s.op, a.Rate, s.rate)
		}
		if s.burst != 0 && a.Burst != s.burst {
			t.Errorf("step %d: %s burst got %d want %d", i, s.op, a.Burst, s.burst)
		}
		if a.Burst < 1 {
			t.Errorf("step %d: %s burst %d < 1", i, s.op, a.Burst)
		}
		if a.Code != s.code {
			t.Errorf("step %d: %s code got %q want %q", i, s.op, a.Code, s.code)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("step %d: %v", i, err)
		}
	}
	for _, op := range []string{"GetMetricData", "GetCurrentMetricData"} {
		if a, _ := tab.API(op); a.Adjustable {
			t.Errorf("%s: the rate cannot be increased, but Adjustable is true", op)
		}
	}
	if a, ok := tab.API("NoSuchOperation"); ok || a.Rate != quotas.DefaultRate || a.Burst != quotas.DefaultBurst {
		t.Errorf("unlisted operation: got %+v, %v", a, ok)
	}
}

func TestReferenceResources(t *testing.T) {
	type step struct {
		name  string
		code  string
		value int
	}
	steps := []step{
		{quotas.InstancesPerAccount, "L-AA17A6B9", 2},
		{quotas.ConcurrentActiveCalls, "L-12AB7C57", 10},
		{quotas.ConcurrentActiveChats, "L-D4BA6F6E", 500},
		{quotas.ConcurrentActiveTasks, "L-60553137", 2500},
		{quotas.ConcurrentCampaignCalls, "L-E908C3A1", 0},
		{quotas.UsersPerInstance, "L-9A46857E", 500},
		{quotas.PhoneNumbersPerInstance, "L-8F812903", 5},
		{quotas.QueuesPerInstance, "L-19A87C94", 50},
		{quotas.ContactFlowsPerInstance, "L-22922690", 100},
		{quotas.CampaignsPerInstance, "L-7F7B4C39", 25},
	}
	tab := quotas.Default()
	for i, s := range steps {
		r, ok := tab.Resource(s.name)
		if !ok || r.Code != s.code || r.Default != s.value {
			t.Errorf("step %d: %s got %+v, %v", i, s.name, r, ok)
		}
	}
}
