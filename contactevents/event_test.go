package contactevents_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/contactevents"
)

// sample is the reference's illustrative DISCONNECTED event of an answered
// API call (contact-lifecycle.md §1.4).
const sample = `{
  "version": "0", "id": "5d7c3f6a-2b1e-4c9d-8f00-3a1b2c3d4e5f",
  "detail-type": "Amazon Connect Contact Event", "source": "aws.connect",
  "account": "111122223333", "time": "2026-03-02T15:04:41Z", "region": "us-east-1",
  "resources": ["arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"],
  "detail": {
    "eventType": "DISCONNECTED", "contactId": "11111111-2222-3333-4444-555555555555",
    "initialContactId": "11111111-2222-3333-4444-555555555555", "channel": "VOICE",
    "instanceArn": "arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    "initiationMethod": "API", "initiationTimestamp": "2026-03-02T15:03:58.120Z",
    "connectedToSystemTimestamp": "2026-03-02T15:04:09.450Z", "disconnectTimestamp": "2026-03-02T15:04:40.910Z"
  }
}`

func TestParse(t *testing.T) {
	ev, err := contactevents.Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Ended() || !ev.Answered() || ev.InstanceID() != "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" || ev.ContactID != "11111111-2222-3333-4444-555555555555" {
		t.Fatalf("parsed %+v", ev)
	}
	if got := ev.Disconnect.Sub(ev.Initiation); got != 42790*time.Millisecond {
		t.Fatalf("duration %v", got)
	}
	// AWS's samples also use PascalCase keys, "Voice", and 1970 sentinels.
	pascal := strings.NewReplacer(`"eventType"`, `"EventType"`, `"contactId"`, `"ContactId"`, `"VOICE"`, `"Voice"`,
		`"2026-03-02T15:04:09.450Z"`, `"1970-01-01T00:00:00.001Z"`).Replace(sample)
	ev, err = contactevents.Parse([]byte(pascal))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != "DISCONNECTED" || ev.Channel != "VOICE" || ev.Answered() || ev.ContactID == "" {
		t.Fatalf("PascalCase sample parsed as %+v", ev)
	}
	type step struct {
		body, field string
	}
	for i, st := range []step{
		{`not json`, "body"},
		{strings.Replace(sample, "Amazon Connect Contact Event", "EC2 Instance State-change Notification", 1), "detail-type"},
		{strings.Replace(sample, `"aws.connect"`, `"aws.ec2"`, 1), "source"},
		{strings.Replace(sample, `"contactId": "11111111-2222-3333-4444-555555555555",`, ``, 1), "detail.contactId"},
		{strings.Replace(sample, `"2026-03-02T15:04:40.910Z"`, `"yesterday"`, 1), "detail.disconnectTimestamp"},
		{`{"detail-type": "Amazon Connect Contact Event"}`, "detail"},
	} {
		_, err := contactevents.Parse([]byte(st.body))
		var pe *contactevents.ParseError
		if !errors.Is(err, contactevents.ErrNotContactEvent) || !errors.As(err, &pe) || pe.Field != st.field {
			t.Errorf("step %d: got %v want a ParseError naming %s", i, err, st.field)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`{"detail-type":"Amazon Connect Contact Event","detail":{"contactId":"c","eventType":"INITIATED"}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := contactevents.Parse(b)
		if err != nil {
			if !errors.Is(err, contactevents.ErrNotContactEvent) {
				t.Fatalf("error %v does not match ErrNotContactEvent", err)
			}
			return
		}
		if ev.ContactID == "" {
			t.Fatal("parsed an event without a contact id")
		}
		_ = ev.InstanceID()
	})
}
