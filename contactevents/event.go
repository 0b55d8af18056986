package contactevents

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DetailType and Source identify contact events in the envelope.
const (
	DetailType = "Amazon Connect Contact Event"
	Source     = "aws.connect"
)

// Event types that end a contact.
const (
	TypeDisconnected = "DISCONNECTED"
	TypeCompleted    = "COMPLETED"
)

// MaxEventBytes caps an event body (EventBridge's own entry limit is 256 KiB).
const MaxEventBytes = 256 << 10

// ErrNotContactEvent: the body is an EventBridge event of another kind (or
// no event at all). See *ParseError for the field.
var ErrNotContactEvent = errors.New("contactevents: not an Amazon Connect contact event")

// ParseError names the field of a body that could not be read.
type ParseError struct {
	Field   string // e.g. "detail-type", "detail.disconnectTimestamp"
	Problem string
}

func (e *ParseError) Error() string { return "contactevents: " + e.Field + " " + e.Problem }

// Is reports ErrNotContactEvent.
func (e *ParseError) Is(target error) bool { return target == ErrNotContactEvent }

// Event is one contact event: the envelope's identity and the detail
// fields a dialer needs. Unset timestamps are zero.
type Event struct {
	ID      string    // the envelope's id (unique per event)
	Time    time.Time // the envelope's time
	Account string
	Region  string

	Type                string // eventType, e.g. INITIATED, CONNECTED_TO_SYSTEM, DISCONNECTED
	ContactID           string
	InitialContactID    string
	Channel             string // VOICE, CHAT, TASK, EMAIL
	InstanceARN         string
	InitiationMethod    string // API for StartOutboundVoiceContact
	Initiation          time.Time
	ConnectedToSystem   time.Time // for API calls: when the customer answered
	Disconnect          time.Time
	DisconnectReason    string // present on some contacts only (campaign calls); else ask DescribeContact
	AnsweringMachineAMD string // AnsweringMachineDetectionStatus, when AMD was on
}

// Ended reports whether the event says the contact ended (DISCONNECTED or
// COMPLETED, or any event carrying a disconnect timestamp).
func (e Event) Ended() bool {
	return strings.EqualFold(e.Type, TypeDisconnected) || strings.EqualFold(e.Type, TypeCompleted) || !e.Disconnect.IsZero()
}

// Answered reports whether the customer endpoint answered.
func (e Event) Answered() bool { return !e.ConnectedToSystem.IsZero() }

// InstanceID is the instance id at the end of InstanceARN ("" if none).
func (e Event) InstanceID() string {
	i := strings.LastIndex(e.InstanceARN, "instance/")
	if i < 0 {
		return ""
	}
	id := e.InstanceARN[i+len("instance/"):]
	if j := strings.IndexByte(id, '/'); j >= 0 {
		id = id[:j]
	}
	return id
}

type envelope struct {
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Detail     json.RawMessage `json:"detail"`
}

type detail struct {
	EventType                       string `json:"eventType"`
	ContactID                       string `json:"contactId"`
	InitialContactID                string `json:"initialContactId"`
	Channel                         string `json:"channel"`
	InstanceARN                     string `json:"instanceArn"`
	InitiationMethod                string `json:"initiationMethod"`
	InitiationTimestamp             string `json:"initiationTimestamp"`
	ConnectedToSystemTimestamp      string `json:"connectedToSystemTimestamp"`
	DisconnectTimestamp             string `json:"disconnectTimestamp"`
	DisconnectReason                string `json:"disconnectReason"`
	AnsweringMachineDetectionStatus string `json:"answeringMachineDetectionStatus"`
}

// Parse decodes one EventBridge event body. It fails with an error
// matching ErrNotContactEvent (a *ParseError naming the field) for another
// kind of event, a body that is not JSON, an event without a contact id,
// or a timestamp it cannot read.
func Parse(body []byte) (Event, error) {
	if len(body) > MaxEventBytes {
		return Event{}, &ParseError{Field: "body", Problem: fmt.Sprintf("is larger than %d bytes", MaxEventBytes)}
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Event{}, &ParseError{Field: "body", Problem: "is not a JSON object: " + clip(err.Error())}
	}
	if !strings.EqualFold(env.DetailType, DetailType) {
		return Event{}, &ParseError{Field: "detail-type", Problem: fmt.Sprintf("is %q, want %q", clip(env.DetailType), DetailType)}
	}
	if env.Source != "" && !strings.EqualFold(env.Source, Source) {
		return Event{}, &ParseError{Field: "source", Problem: fmt.Sprintf("is %q, want %q", clip(env.Source), Source)}
	}
	var d detail
	if err := json.Unmarshal(env.Detail, &d); err != nil || len(env.Detail) == 0 {
		p := "is missing"
		if err != nil {
			p = "is not a JSON object: " + clip(err.Error())
		}
		return Event{}, &ParseError{Field: "detail", Problem: p}
	}
	if d.ContactID == "" {
		return Event{}, &ParseError{Field: "detail.contactId", Problem: "is missing"}
	}
	ev := Event{
		ID: env.ID, Account: env.Account, Region: env.Region,
		Type: strings.ToUpper(d.EventType), ContactID: d.ContactID, InitialContactID: d.InitialContactID,
		Channel: strings.ToUpper(d.Channel), InstanceARN: d.InstanceARN, InitiationMethod: strings.ToUpper(d.InitiationMethod),
		DisconnectReason: d.DisconnectReason, AnsweringMachineAMD: d.AnsweringMachineDetectionStatus,
	}
	for _, f := range []struct {
		name string
		in   string
		out  *time.Time
	}{
		{"time", env.Time, &ev.Time},
		{"detail.initiationTimestamp", d.InitiationTimestamp, &ev.Initiation},
		{"detail.connectedToSystemTimestamp", d.ConnectedToSystemTimestamp, &ev.ConnectedToSystem},
		{"detail.disconnectTimestamp", d.DisconnectTimestamp, &ev.Disconnect},
	} {
		t, err := parseTime(f.in)
		if err != nil {
			return Event{}, &ParseError{Field: f.name, Problem: err.Error()}
		}
		*f.out = t
	}
	return ev, nil
}

// unsetBefore: Connect's samples show unset timestamps as 1970 values.
var unsetBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Before(unsetBefore) {
				return time.Time{}, nil
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("is not an ISO-8601 timestamp: %q", clip(s))
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
