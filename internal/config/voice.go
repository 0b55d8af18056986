package config

import "time"

// Voice configures pacing StartOutboundVoiceContact on calls in progress
// and following each contact to its end (package dispatch, callbudget and
// contactevents). Its keys sit in the dispatch section.
type Voice struct {
	// CallPacing keeps the dispatcher's own calls in progress per instance
	// under the concurrent-active-calls quota (the quota table's, or
	// Service Quotas' with limits.quota_sync) minus CallReserve. On by
	// default; off paces on the request rate alone, and calls past the
	// quota hear a reorder tone.
	CallPacing bool `yaml:"call_pacing"`
	// CallReserve is the part of the quota left for inbound calls, agents
	// and other dialers.
	CallReserve int `yaml:"call_reserve"`
	// MaxCallDuration bounds how long a call counts as in progress when
	// neither contact events nor DescribeContact say it ended.
	MaxCallDuration time.Duration `yaml:"max_call_duration"`
	// ContactPoll is how often DescribeContact is asked (low priority,
	// through the governor) about a call whose end is unknown, when no
	// contact events queue is set. 0: never.
	ContactPoll time.Duration `yaml:"contact_poll"`
	// ContactEventsQueue is the SQS queue (URL or name) an EventBridge rule
	// delivers "Amazon Connect Contact Event"s to; the ends of calls are
	// learned from it. ContactEventsEndpoint overrides its endpoint (e.g. a
	// local emulator).
	ContactEventsQueue    string `yaml:"contact_events_queue"`
	ContactEventsEndpoint string `yaml:"contact_events_endpoint"`
}

// DefaultVoice returns the Voice defaults: pacing on, no reserve, calls
// counted at most an hour, DescribeContact every 5 s without events.
func DefaultVoice() Voice {
	return Voice{CallPacing: true, MaxCallDuration: time.Hour, ContactPoll: 5 * time.Second}
}

// voiceFields are the Voice settings.
func (c *Config) voiceFields() []Field {
	v := &c.Dispatch.Voice
	return []Field{
		{Key: "dispatch.call_pacing", Flag: "call-pacing", Usage: "keep StartOutboundVoiceContact calls in progress under the concurrent-active-calls quota minus --call-reserve (false: pace on the request rate alone)", ptr: &v.CallPacing},
		{Key: "dispatch.call_reserve", Flag: "call-reserve", Usage: "calls of the concurrent-active-calls quota left for inbound calls, agents and other dialers", ptr: &v.CallReserve},
		{Key: "dispatch.max_call_duration", Flag: "max-call-duration", Usage: "longest a call counts as in progress when its end is never learned", ptr: &v.MaxCallDuration},
		{Key: "dispatch.contact_poll", Flag: "contact-poll", Usage: "DescribeContact interval for calls whose end is unknown, without a contact events queue (0 = never)", ptr: &v.ContactPoll},
		{Key: "dispatch.contact_events_queue", Flag: "contact-events-queue", Usage: "SQS queue (URL or name) receiving Amazon Connect contact events from an EventBridge rule", ptr: &v.ContactEventsQueue},
		{Key: "dispatch.contact_events_endpoint", Flag: "contact-events-endpoint", Usage: "SQS endpoint URL of --contact-events-queue (e.g. a local emulator)", ptr: &v.ContactEventsEndpoint},
	}
}

// validateVoice checks the Voice settings.
func (c Config) validateVoice(bad func(field, format string, args ...any)) {
	v := c.Dispatch.Voice
	if v.CallReserve < 0 || v.CallReserve > 100000 {
		bad("dispatch.call_reserve", "must be between 0 and 100000, got %d", v.CallReserve)
	}
	if v.MaxCallDuration < time.Second || v.MaxCallDuration > 24*time.Hour {
		bad("dispatch.max_call_duration", "must be between 1s and 24h, got %v", v.MaxCallDuration)
	}
	if v.ContactPoll != 0 && (v.ContactPoll < 100*time.Millisecond || v.ContactPoll > time.Hour) {
		bad("dispatch.contact_poll", "must be 0 (never) or between 100ms and 1h, got %v", v.ContactPoll)
	}
	if v.ContactEventsEndpoint != "" && v.ContactEventsQueue == "" {
		bad("dispatch.contact_events_endpoint", "needs dispatch.contact_events_queue")
	}
}
