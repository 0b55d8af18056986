package sqs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tollgatehq/tollgate/queue"
)

func message(body string, attrs map[string]types.MessageAttributeValue, count string) types.Message {
	return types.Message{
		Body:              aws.String(body),
		MessageAttributes: attrs,
		Attributes:        map[string]string{"ApproximateReceiveCount": count},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	type step struct {
		job  queue.Job
		meta meta
	}
	na := time.Unix(1800000000, 123456789)
	steps := []step{
		{queue.Job{ID: "a", Op: "StartTaskContact", ClientToken: "t", Input: json.RawMessage(`{"k":"v"}`)}, meta{Enqueued: 5}},
		{queue.Job{ID: "b", Op: "X", ClientToken: "t", Priority: -2, NotAfter: na, GroupKey: "grüße 🚀"}, meta{Receives: 3, Free: 1, LastError: "throttled \uFFFE"}},
		{queue.Job{ID: "c", Op: "X", ClientToken: "t", Input: json.RawMessage("{\"s\":\"\uFFFF\"}")}, meta{DeadReason: "hard-quota", DeadDetail: "d", DeadAt: 9}},
	}
	for i, s := range steps {
		body, attrs, err := encode(s.job, s.meta)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !sqsSafe(body) {
			t.Fatalf("step %d: body %q is not SQS-safe", i, body)
		}
		for k, v := range attrs {
			if !sqsSafe(aws.ToString(v.StringValue)) {
				t.Fatalf("step %d: attribute %s = %q is not SQS-safe", i, k, aws.ToString(v.StringValue))
			}
		}
		if len(attrs) > 10 {
			t.Fatalf("step %d: %d attributes, SQS allows 10", i, len(attrs))
		}
		j, m, count, err := decode(message(body, attrs, "2"))
		if err != nil {
			t.Fatalf("step %d: decode: %v", i, err)
		}
		if count != 2 || j.Receives != s.meta.Receives+2 {
			t.Errorf("step %d: got count %d receives %d want 2 and %d", i, count, j.Receives, s.meta.Receives+2)
		}
		if j.ID != s.job.ID || j.Op != s.job.Op || j.Priority != s.job.Priority || !j.NotAfter.Equal(s.job.NotAfter) ||
			string(j.Input) != string(s.job.Input) || j.GroupKey != s.job.GroupKey || j.ClientToken != s.job.ClientToken {
			t.Errorf("step %d: got %+v want %+v", i, j, s.job)
		}
		if m.LastError != s.meta.LastError || m.DeadReason != s.meta.DeadReason || j.LastError != s.meta.LastError {
			t.Errorf("step %d: got meta %+v want %+v", i, m, s.meta)
		}
	}
}

func TestSeconds(t *testing.T) {
	type step struct {
		d      time.Duration
		lo, hi int32
		want   int32
	}
	steps := []step{
		{0, 1, 10, 1},
		{time.Millisecond, 0, 10, 1},
		{time.Second, 0, 10, 1},
		{1500 * time.Millisecond, 0, 10, 2},
		{time.Hour, 0, 900, 900},
		{-time.Second, 0, 900, 0},
	}
	for i, s := range steps {
		if got := seconds(s.d, s.lo, s.hi); got != s.want {
			t.Errorf("step %d: got %d want %d", i, got, s.want)
		}
	}
}

func TestDecodeForeign(t *testing.T) {
	if _, _, _, err := decode(message("hello", nil, "1")); err != errNotOurs {
		t.Fatalf("got %v want errNotOurs", err)
	}
	bad := map[string]types.MessageAttributeValue{attrID: str("x"), attrMeta: str("{")}
	if _, _, _, err := decode(message("{}", bad, "1")); err == nil || !strings.Contains(err.Error(), "tg.meta") {
		t.Fatalf("got %v want a tg.meta error", err)
	}
}

// FuzzDecode: decode never panics, and what encode writes decodes back.
func FuzzDecode(f *testing.F) {
	f.Add("{}", "id", `{"r":1}`, "3", "0")
	f.Add("x", "", "", "", "")
	f.Add("e30=", "id", `{"b64":true}`, "nope", "12")
	f.Fuzz(func(t *testing.T, body, id, metaJSON, prio, notAfter string) {
		attrs := map[string]types.MessageAttributeValue{attrMeta: str(metaJSON), attrPriority: str(prio), attrNotAfter: str(notAfter)}
		if id != "" {
			attrs[attrID] = str(id)
		}
		_, _, _, _ = decode(message(body, attrs, "1"))

		in := json.RawMessage(body)
		if !json.Valid(in) {
			in = nil
		}
		j := queue.Job{ID: "f", Op: "X", ClientToken: "t", Input: in, GroupKey: metaJSON}
		b, a, err := encode(j, meta{LastError: body})
		if err != nil {
			t.Fatal(err)
		}
		got, m, _, err := decode(message(b, a, "1"))
		if err != nil {
			t.Fatalf("decode(encode): %v", err)
		}
		if string(got.Input) != string(j.Input) || utf8.ValidString(j.GroupKey) && got.GroupKey != j.GroupKey {
			t.Fatalf("round trip: got %q/%q want %q/%q", got.Input, got.GroupKey, j.Input, j.GroupKey)
		}
		if utf8.ValidString(body) && m.LastError != body {
			t.Fatalf("LastError round trip: got %q want %q", m.LastError, body)
		}
	})
}
