package sim

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
)

// TestCurrentMetricsMatchActiveContacts: per channel, SLOTS_ACTIVE +
// CONTACTS_IN_QUEUE over every queue equals the contacts the simulator
// holds active, whether grouped by channel or by queue and channel.
func TestCurrentMetricsMatchActiveContacts(t *testing.T) {
	hour := Distribution{Kind: DistFixed, Min: time.Hour, Max: time.Hour}
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	s := newServer(t, Options{Seed: 3, CallDuration: hour, ChatDuration: hour, TaskDuration: hour, Now: func() time.Time { return now }})
	c := newClient(t, s)
	const calls, chats = 9, 14 // 6 agents: 6 calls with agents + 3 queued; 12 chat slots + 2 queued
	for i := 0; i < calls; i++ {
		now = now.Add(time.Second) // within the start rates
		if _, err := c.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{InstanceId: inst,
			ContactFlowId: aws.String(DefaultContactFlowID), DestinationPhoneNumber: aws.String("+14155550100")}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < chats; i++ {
		now = now.Add(time.Second)
		if _, err := c.StartChatContact(ctx, &connect.StartChatContactInput{InstanceId: inst, ContactFlowId: aws.String(DefaultContactFlowID),
			ParticipantDetails: &types.ParticipantDetails{DisplayName: aws.String("Customer")}}); err != nil {
			t.Fatal(err)
		}
	}
	act := s.Stats().Active[DefaultInstanceID]
	want := map[types.Channel]float64{types.ChannelVoice: float64(act.Calls), types.ChannelChat: float64(act.Chats), types.ChannelTask: float64(act.Tasks)}
	if want[types.ChannelVoice] != calls || want[types.ChannelChat] != chats {
		t.Fatalf("active %+v, want %d calls and %d chats", act, calls, chats)
	}
	ql, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst})
	if err != nil {
		t.Fatal(err)
	}
	var queues []string
	for _, q := range ql.QueueSummaryList {
		queues = append(queues, *q.Id)
	}
	metrics := []types.CurrentMetric{{Name: types.CurrentMetricNameSlotsActive, Unit: types.UnitCount}, {Name: types.CurrentMetricNameContactsInQueue, Unit: types.UnitCount}}
	for _, groupings := range [][]types.Grouping{{types.GroupingChannel}, {types.GroupingQueue, types.GroupingChannel}} {
		out, err := c.GetCurrentMetricData(ctx, &connect.GetCurrentMetricDataInput{InstanceId: inst,
			Filters:   &types.Filters{Queues: queues, Channels: []types.Channel{types.ChannelVoice, types.ChannelChat, types.ChannelTask}},
			Groupings: groupings, CurrentMetrics: metrics})
		if err != nil {
			t.Fatal(err)
		}
		slots, queued := map[types.Channel]float64{}, map[types.Channel]float64{}
		for _, r := range out.MetricResults {
			ch := r.Dimensions.Channel
			if len(groupings) == 1 {
				slots[ch] = *r.Collections[0].Value // agent slots are not split by queue
			} else if v := *r.Collections[0].Value; v != slots[ch] && slots[ch] != 0 {
				t.Fatalf("%v: SLOTS_ACTIVE differs between queues: %v and %v", groupings, v, slots[ch])
			} else {
				slots[ch] = v
			}
			queued[ch] += *r.Collections[1].Value
		}
		for ch, n := range want {
			if got := slots[ch] + queued[ch]; got != n {
				t.Errorf("%v %s: SLOTS_ACTIVE %v + CONTACTS_IN_QUEUE %v = %v, want %v active", groupings, ch, slots[ch], queued[ch], got, n)
			}
		}
		if slots[types.ChannelVoice] != 6 || queued[types.ChannelVoice] != 3 || slots[types.ChannelChat] != 12 {
			t.Errorf("%v: slots %v queued %v, want 6 voice slots (one per agent), 3 calls queued, 12 chat slots", groupings, slots, queued)
		}
	}
	mustInvariants(t, s)
}
