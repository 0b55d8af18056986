package usage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	ctypes "github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/tollgatehq/tollgate/sim"
	"github.com/tollgatehq/tollgate/usage"
)

// TestInstanceUseAgainstConcurrencyQuotas: N active calls and M chats in
// the simulator read back through GetCurrentMetricData as N of the
// concurrent-calls quota (10) and M of the chats quota, marked at 70/80%.
func TestInstanceUseAgainstConcurrencyQuotas(t *testing.T) {
	for _, tc := range []struct {
		calls int
		mark  string
	}{{6, usage.MarkNone}, {7, usage.MarkWarn}, {8, usage.MarkAlarm}} {
		start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		clk := &manualClock{t: start}
		hour := sim.Distribution{Kind: sim.DistFixed, Min: time.Hour, Max: time.Hour}
		f := newFixture(t, sim.Options{Now: clk.Now, Seed: 1, CallDuration: hour, ChatDuration: hour})
		ctx := context.Background()
		for i := 0; i < tc.calls; i++ {
			clk.Add(time.Second) // StartOutboundVoiceContact: 2/s
			if _, err := f.connect.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{InstanceId: aws.String(sim.DefaultInstanceID),
				ContactFlowId: aws.String(sim.DefaultContactFlowID), DestinationPhoneNumber: aws.String("+14155550100")}); err != nil {
				t.Fatal(err)
			}
		}
		const chats = 3
		for i := 0; i < chats; i++ {
			clk.Add(time.Second)
			if _, err := f.connect.StartChatContact(ctx, &connect.StartChatContactInput{InstanceId: aws.String(sim.DefaultInstanceID),
				ContactFlowId: aws.String(sim.DefaultContactFlowID), ParticipantDetails: &ctypes.ParticipantDetails{DisplayName: aws.String("C")}}); err != nil {
				t.Fatal(err)
			}
		}
		u, err := usage.ReadInstanceUse(ctx, f.clients.Connect, sim.DefaultInstanceID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(u.InstanceARN, "instance/"+sim.DefaultInstanceID) || u.Queues == 0 || !u.Snapshot.Equal(clk.Now()) {
			t.Fatalf("instance use: %+v", u)
		}
		q, err := usage.ReadInstanceQuotas(ctx, f.clients.SQ, u.InstanceARN)
		if err != nil {
			t.Fatal(err)
		}
		st := usage.BuildInstance(q, u, 0, 0)
		if len(st.Rows) != 3 {
			t.Fatalf("rows: %+v", st.Rows)
		}
		voice, chat, task := st.Rows[0], st.Rows[1], st.Rows[2]
		if voice.Quota.Code != "L-12AB7C57" || voice.Quota.Applied != 10 || voice.InUse != float64(tc.calls) || voice.Mark != tc.mark {
			t.Errorf("%d calls: voice row %+v, want %d of 10 marked %q", tc.calls, voice, tc.calls, tc.mark)
		}
		if want := float64(tc.calls) * 10; voice.Percent != want {
			t.Errorf("%d calls: percent %v, want %v", tc.calls, voice.Percent, want)
		}
		if chat.Quota.Code != "L-D4BA6F6E" || chat.InUse != chats || chat.Mark != usage.MarkNone || task.InUse != 0 || task.Quota.Code != "L-60553137" {
			t.Errorf("chat %+v task %+v", chat, task)
		}
		var text, md, js bytes.Buffer
		full := usage.Status{Instance: &st, Rows: []usage.Row{}, Unused: []string{}}
		for _, r := range []struct {
			format string
			buf    *bytes.Buffer
		}{{"text", &text}, {"md", &md}, {"json", &js}} {
			if err := full.Render(r.buf, r.format); err != nil {
				t.Fatal(err)
			}
		}
		line := lineWith(text.String(), "VOICE")
		if !strings.Contains(line, "L-12AB7C57") || !strings.Contains(line, "0%") || (tc.mark != "" && !strings.HasSuffix(strings.TrimSpace(line), tc.mark)) {
			t.Errorf("text VOICE line %q (mark %q):\n%s", line, tc.mark, text.String())
		}
		if mdLine := lineWith(md.String(), "| VOICE |"); !strings.HasSuffix(mdLine, "| "+tc.mark+" |") {
			t.Errorf("md VOICE line %q, want mark %q", mdLine, tc.mark)
		}
		var back usage.Status
		if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Instance == nil || back.Instance.Rows[0].InUse != float64(tc.calls) || back.Instance.Rows[0].Mark != tc.mark {
			t.Errorf("json: %v %s", err, js.String())
		}
	}
}

func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
