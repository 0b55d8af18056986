package dispatch_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/queue"
)

func TestCheck(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	type step struct {
		job     queue.Job
		field   string // "" means valid
		problem string // substring
	}
	steps := []step{
		{job: sovc("+12065550100")},
		{job: queue.Job{Op: "StartOutboundVoiceContact", Input: []byte(`{"instanceId":"i","contactFlowId":"f","destinationPhoneNumber":"+1"}`)}}, // any case
		{job: queue.Job{Op: "ListInstances"}},
		{job: queue.Job{Op: "Frobnicate"}, field: "Op", problem: "not a supported operation"},
		{job: queue.Job{}, field: "Op", problem: "is required"},
		{job: queue.Job{Op: "StartOutboundVoiceContact", Input: []byte(`{"InstanceId":"i","ContactFlowId":"f"}`)}, field: "Input.DestinationPhoneNumber", problem: "is required"},
		{job: queue.Job{Op: "StartOutboundVoiceContact", Input: []byte(`{"InstanceId":"i","ContactFlowId":"f","DestinationPhoneNumber":"+1","Colour":"red"}`)}, field: "Input.Colour", problem: "not a member"},
		{job: queue.Job{Op: "StartOutboundVoiceContact", Input: []byte(`{"InstanceId":"i","ContactFlowId":"f","DestinationPhoneNumber":"+1","RingTimeoutInSeconds":"soon"}`)}, field: "Input.RingTimeoutInSeconds", problem: "a number"},
		{job: queue.Job{Op: "StartOutboundVoiceContact", Input: []byte(`{"InstanceId":"i"`)}, field: "Input", problem: "JSON"},
		{job: queue.Job{Op: "DescribeUser", Input: []byte(`{"InstanceId":"","UserId":"u"}`)}, field: "Input.InstanceId", problem: "must not be empty"},
		{job: queue.Job{Op: "StartTaskContact", Input: []byte(`{"InstanceId":"i","Name":"n","ClientToken":"a"}`), ClientToken: "b"}, field: "ClientToken", problem: "differs"},
		{job: queue.Job{Op: "GetMetricDataV2", Input: []byte(`{"ResourceArn":"arn","StartTime":"yesterday","EndTime":"2026-06-01T00:00:00Z","Filters":[],"Metrics":[]}`)}, field: "Input", problem: "RFC 3339"},
		{job: dial(1)},
		{job: queue.Job{Op: dispatch.OpPutDialRequestBatch}, field: "Input", problem: "is required"},
		{job: queue.Job{Op: dispatch.OpPutDialRequestBatch, Input: []byte(`{"campaignId":"c"}`)}, field: "Input.phoneNumber", problem: "is required"},
		{job: queue.Job{Op: dispatch.OpPutDialRequestBatch, Input: []byte(`{"campaignId":"c","phoneNumber":"call me"}`)}, field: "Input.phoneNumber", problem: "0-9"},
		{job: queue.Job{Op: dispatch.OpPutDialRequestBatch, Input: []byte(`{"campaignId":"c","phoneNumber":"+1","expirationTime":"2020-01-01T00:00:00Z"}`)}, field: "Input.expirationTime", problem: "passed"},
		{job: queue.Job{Op: dispatch.OpPutDialRequestBatch, Input: []byte(`{"phoneNumber":"+1"}`)}, field: "Input.campaignId", problem: "is required"},
	}
	for i, s := range steps {
		_, err := dispatch.Check(s.job, now)
		if s.field == "" {
			if err != nil {
				t.Errorf("step %d: got %v want nil", i, err)
			}
			continue
		}
		var ie *dispatch.InputError
		if !errors.As(err, &ie) || !errors.Is(err, dispatch.ErrInvalidInput) {
			t.Errorf("step %d: got %v want an *InputError", i, err)
			continue
		}
		if ie.Field != s.field || !strings.Contains(ie.Problem, s.problem) {
			t.Errorf("step %d: got field %q problem %q want %q containing %q", i, ie.Field, ie.Problem, s.field, s.problem)
		}
	}
}

func TestCheckNormalizes(t *testing.T) {
	j, err := dispatch.Check(queue.Job{Op: "StartTaskContact", Input: []byte(`{"InstanceId":"i","Name":"n","ClientToken":"tok-1"}`)}, time.Now())
	if err != nil || j.ClientToken != "tok-1" {
		t.Errorf("got token %q err %v, want the input's token adopted", j.ClientToken, err)
	}
	j, err = dispatch.Check(dial(1), time.Now())
	if err != nil || j.GroupKey == "" {
		t.Errorf("got group key %q err %v, want the campaign", j.GroupKey, err)
	}
}

// TestEveryOpChecks runs Check on every supported operation with an empty
// input: each either passes or names a field, and none panics.
func TestEveryOpChecks(t *testing.T) {
	ops := dispatch.Ops()
	if len(ops) < 21 {
		t.Fatalf("%d operations, want at least the 21 of the reference", len(ops))
	}
	for _, op := range ops {
		_, err := dispatch.Check(queue.Job{Op: op}, time.Now())
		var ie *dispatch.InputError
		if err != nil && (!errors.As(err, &ie) || ie.Field == "") {
			t.Errorf("%s: %v is not an *InputError naming a field", op, err)
		}
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("StartOutboundVoiceContact", `{"InstanceId":"i","ContactFlowId":"f","DestinationPhoneNumber":"+1"}`)
	f.Add("PutDialRequestBatch", `{"campaignId":"c","phoneNumber":"+1"}`)
	f.Add("GetCurrentMetricData", `{"InstanceId":"i","Filters":{"Queues":["q"]},"CurrentMetrics":[{"Name":"AGENTS_ONLINE"}]}`)
	f.Add("StartChatContact", `{"ParticipantDetails":{"DisplayName":1}}`)
	f.Fuzz(func(t *testing.T, op, input string) {
		_, err := dispatch.Check(queue.Job{Op: op, Input: []byte(input)}, time.Now())
		var ie *dispatch.InputError
		if err != nil && !errors.As(err, &ie) {
			t.Fatalf("Check(%q, %q) = %v, not an *InputError", op, input, err)
		}
	})
}

func ExampleCheck() {
	job := queue.Job{Op: "StartOutboundVoiceContact", Input: []byte(`{"InstanceId":"i-1","ContactFlowId":"f-1"}`)}
	_, err := dispatch.Check(job, time.Now())
	fmt.Println(err)
	// Output: StartOutboundVoiceContact: Input.DestinationPhoneNumber is required
}

func ExamplePriority() {
	for _, p := range []int{-5, -1, 0, 3} {
		fmt.Println(p, dispatch.Priority(p))
	}
	// Output:
	// -5 -2
	// -1 -1
	// 0 0
	// 3 1
}
