package sim

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
)

const codeOutboundNotPermitted = "OutboundContactNotPermittedException"

func init() { statusOf[codeOutboundNotPermitted] = 403 }

type startOutboundVoiceContactIn struct {
	AnswerMachineDetectionConfig json.RawMessage
	Attributes                   map[string]string
	CampaignId                   *string
	ContactFlowId                *string
	Description                  *string
	DestinationPhoneNumber       *string
	contactToken
	bodyInstance
	Name                 *string
	QueueId              *string
	References           map[string]json.RawMessage
	RelatedContactId     *string
	RingTimeoutInSeconds *int64
	SourcePhoneNumber    *string
	TrafficType          *string
}

type contactIDOut struct {
	ContactId *string `json:"ContactId,omitempty"`
}

// contactToken is the ClientToken of an operation that answers with the
// contact id it remembered.
type contactToken struct{ bodyClientToken }

func (contactToken) replay(_ *Server, id string) (any, *apiError, bool) {
	return contactIDOut{ContactId: &id}, nil, true
}

func validateAttributes(v *validator, name string, attrs map[string]string) {
	for k, val := range attrs {
		v.length(name+".key", k, 1, 32767)
		v.length(name+".value", val, 0, 32767)
	}
}

func (in *startOutboundVoiceContactIn) validate(v *validator, _ *reqCtx) *apiError {
	v.required("contactFlowId", in.ContactFlowId != nil)
	v.optLength("contactFlowId", in.ContactFlowId, 0, 500)
	v.required("destinationPhoneNumber", in.DestinationPhoneNumber != nil)
	if in.DestinationPhoneNumber != nil {
		v.pattern("destinationPhoneNumber", *in.DestinationPhoneNumber, isE164(*in.DestinationPhoneNumber), `\+[1-9]\d{1,14}$`)
	}
	in.validateInstance(v)
	in.validateClientToken(v)
	v.optLength("name", in.Name, 0, 512)
	v.optLength("description", in.Description, 0, 4096)
	v.optLength("campaignId", in.CampaignId, 1, 100)
	v.optLength("relatedContactId", in.RelatedContactId, 1, 256)
	v.intRange("ringTimeoutInSeconds", in.RingTimeoutInSeconds, 15, 60)
	v.optEnum("trafficType", in.TrafficType, []string{"GENERAL", "CAMPAIGN"})
	if in.SourcePhoneNumber != nil {
		v.pattern("sourcePhoneNumber", *in.SourcePhoneNumber, isE164(*in.SourcePhoneNumber), `\+[1-9]\d{1,14}$`)
	}
	validateAttributes(v, "attributes", in.Attributes)
	return nil
}

func (s *Server) startOutboundVoiceContact(rc *reqCtx, in *startOutboundVoiceContactIn, inst *instance) (any, *apiError) {
	st := s.st
	if e := inst.needResource("contact-flow", *in.ContactFlowId, "Contact flow"); e != nil {
		return nil, e
	}
	if in.QueueId != nil {
		if e := inst.needResource("queue", *in.QueueId, "Queue"); e != nil {
			return nil, e
		}
	}
	if in.SourcePhoneNumber != nil && inst.phoneByNum[*in.SourcePhoneNumber] == nil {
		return nil, errf(codeInvalidParameter, "SourcePhoneNumber "+*in.SourcePhoneNumber+" is not claimed by the instance.")
	}
	if !inst.outbound {
		return nil, errf(codeOutboundNotPermitted, "Outbound calls are not enabled for the instance.")
	}
	for _, p := range s.o.RefusedDestinationPrefixes {
		if p != "" && strings.HasPrefix(*in.DestinationPhoneNumber, p) {
			return nil, errf(codeDestinationNotAllowed, "Outbound calls to the destination number are not allowed.")
		}
	}
	inst.prune(rc.now)
	id := st.newID()
	c := &contact{id: id, ch: chVoice, start: rc.now, attrs: copyStrings(in.Attributes)}
	if limit := st.limits[quotas.ConcurrentActiveCalls]; inst.activeCount(chVoice) >= limit {
		if s.o.CallLimit == CallLimitError {
			return nil, errf(codeLimitExceeded, "The allowed limit for the resource has been exceeded: concurrent active calls per instance ("+strconv.Itoa(limit)+").")
		}
		// Real Connect accepts the call and the contact hears a reorder
		// (fast-busy) tone: the contact ends at once.
		c.end, c.reorder, c.reason = rc.now, true, ReasonOther
		s.stats.rejectedReorder.Add(1)
	} else {
		d := max(st.callDur.Sample(st.rng), time.Millisecond)
		c.end = rc.now.Add(d)
		c.connected = rc.now.Add(ringTime(d))
		s.stats.contactsStarted.Add(1)
		s.stats.callMillis.Add(d.Milliseconds())
	}
	inst.addContact(c, st.maxCtc)
	s.events.scheduleCall(inst, c)
	st.remember(rc.tokenKey, id, rc.now)
	return contactIDOut{ContactId: &id}, nil
}

type stopContactIn struct {
	ContactId *string
	bodyInstance
	DisconnectReason *struct{ Code *string }
}

func (in *stopContactIn) validate(v *validator, _ *reqCtx) *apiError {
	v.required("contactId", in.ContactId != nil)
	v.optLength("contactId", in.ContactId, 1, 256)
	in.validateInstance(v)
	if in.DisconnectReason != nil {
		v.optLength("disconnectReason.code", in.DisconnectReason.Code, 0, 128)
	}
	return nil
}

func (s *Server) stopContact(rc *reqCtx, in *stopContactIn, inst *instance) (any, *apiError) {
	inst.prune(rc.now)
	c := inst.contacts[*in.ContactId]
	if c == nil {
		return nil, errf(codeContactNotFound, "Contact not found: "+clip(*in.ContactId))
	}
	if c.idx < 0 {
		return nil, errf(codeContactNotFound, "Contact "+c.id+" is not active.")
	}
	inst.stopContact(c, rc.now)
	if c.ch == chVoice {
		s.events.schedule(rc.now, EventDisconnected, inst, c)
	}
	return struct{}{}, nil
}

type updateContactAttributesIn struct {
	Attributes       map[string]string
	InitialContactId *string
	bodyInstance
}

func (in *updateContactAttributesIn) validate(v *validator, _ *reqCtx) *apiError {
	v.required("attributes", in.Attributes != nil)
	v.required("initialContactId", in.InitialContactId != nil)
	v.optLength("initialContactId", in.InitialContactId, 1, 256)
	in.validateInstance(v)
	validateAttributes(v, "attributes", in.Attributes)
	return nil
}

func (s *Server) updateContactAttributes(_ *reqCtx, in *updateContactAttributesIn, inst *instance) (any, *apiError) {
	c := inst.contacts[*in.InitialContactId]
	if c == nil {
		return nil, errf(codeResourceNotFound, "Contact not found: "+clip(*in.InitialContactId))
	}
	size := 0
	for k, val := range c.attrs {
		if _, replaced := in.Attributes[k]; !replaced {
			size += len(k) + len(val)
		}
	}
	for k, val := range in.Attributes {
		size += len(k) + len(val)
	}
	if size > 32*1024 {
		return nil, errf(codeInvalidParameter, "The total size of the contact attributes exceeds 32 KB.")
	}
	if c.attrs == nil {
		c.attrs = map[string]string{}
	}
	for k, val := range in.Attributes {
		c.attrs[k] = val
	}
	return struct{}{}, nil
}

type startChatContactIn struct {
	Attributes            map[string]string
	ChatDurationInMinutes *int64
	bodyClientToken
	ContactFlowId  *string
	CustomerId     *string
	InitialMessage *struct {
		Content     *string
		ContentType *string
	}
	bodyInstance
	ParticipantDetails             *struct{ DisplayName *string }
	RelatedContactId               *string
	SupportedMessagingContentTypes []string
}

type startChatContactOut struct {
	ContactId        *string `json:"ContactId,omitempty"`
	ParticipantId    *string `json:"ParticipantId,omitempty"`
	ParticipantToken *string `json:"ParticipantToken,omitempty"`
}

func (in *startChatContactIn) validate(v *validator, _ *reqCtx) *apiError {
	v.required("contactFlowId", in.ContactFlowId != nil)
	v.optLength("contactFlowId", in.ContactFlowId, 0, 500)
	in.validateInstance(v)
	v.required("participantDetails", in.ParticipantDetails != nil)
	if in.ParticipantDetails != nil {
		v.required("participantDetails.displayName", in.ParticipantDetails.DisplayName != nil)
		v.optLength("participantDetails.displayName", in.ParticipantDetails.DisplayName, 1, 256)
	}
	v.intRange("chatDurationInMinutes", in.ChatDurationInMinutes, 60, 10080)
	in.validateClientToken(v)
	v.optLength("customerId", in.CustomerId, 0, 128)
	if in.InitialMessage != nil {
		v.required("initialMessage.contentType", in.InitialMessage.ContentType != nil)
		v.required("initialMessage.content", in.InitialMessage.Content != nil)
		v.optLength("initialMessage.content", in.InitialMessage.Content, 1, 16384)
	}
	validateAttributes(v, "attributes", in.Attributes)
	return nil
}

// replay unpacks the contact, participant and token remembered together.
func (in *startChatContactIn) replay(_ *Server, packed string) (any, *apiError, bool) {
	parts := strings.SplitN(packed, "\x00", 3)
	return startChatContactOut{ContactId: &parts[0], ParticipantId: &parts[1], ParticipantToken: &parts[2]}, nil, true
}

func (s *Server) startChatContact(rc *reqCtx, in *startChatContactIn, inst *instance) (any, *apiError) {
	st := s.st
	if e := inst.needResource("contact-flow", *in.ContactFlowId, "Contact flow"); e != nil {
		return nil, e
	}
	inst.prune(rc.now)
	if limit := st.limits[quotas.ConcurrentActiveChats]; inst.activeCount(chChat) >= limit {
		return nil, errf(codeLimitExceeded, "The allowed limit for the resource has been exceeded: concurrent active chats per instance ("+strconv.Itoa(limit)+").")
	}
	d := max(st.chatDur.Sample(st.rng), time.Millisecond)
	if in.ChatDurationInMinutes != nil {
		d = min(d, time.Duration(*in.ChatDurationInMinutes)*time.Minute)
	}
	id, pid, tok := st.newID(), st.newID(), st.newToken(64)
	inst.addContact(&contact{id: id, ch: chChat, start: rc.now, end: rc.now.Add(d), attrs: copyStrings(in.Attributes)}, st.maxCtc)
	s.stats.contactsStarted.Add(1)
	st.remember(rc.tokenKey, id+"\x00"+pid+"\x00"+tok, rc.now)
	return startChatContactOut{ContactId: &id, ParticipantId: &pid, ParticipantToken: &tok}, nil
}

type startTaskContactIn struct {
	Attachments []json.RawMessage
	Attributes  map[string]string
	contactToken
	ContactFlowId *string
	Description   *string
	bodyInstance
	Name              *string
	PreviousContactId *string
	QuickConnectId    *string
	References        map[string]json.RawMessage
	RelatedContactId  *string
	ScheduledTime     *inTime
	TaskTemplateId    *string
}

func (in *startTaskContactIn) validate(v *validator, _ *reqCtx) *apiError {
	in.validateInstance(v)
	v.required("name", in.Name != nil)
	v.optLength("name", in.Name, 0, 512)
	v.optLength("description", in.Description, 0, 4096)
	in.validateClientToken(v)
	v.optLength("contactFlowId", in.ContactFlowId, 0, 500)
	v.optLength("previousContactId", in.PreviousContactId, 1, 256)
	v.optLength("quickConnectId", in.QuickConnectId, 0, 500)
	v.optLength("taskTemplateId", in.TaskTemplateId, 1, 500)
	if in.Attachments != nil {
		v.count("attachments", len(in.Attachments), 1, 5)
	}
	if len(in.References) > 4 {
		v.add("Value at 'references' failed to satisfy constraint: Map value must have length less than or equal to 4")
	}
	validateAttributes(v, "attributes", in.Attributes)
	return nil
}

func (in *startTaskContactIn) check() *apiError {
	if deref(in.ContactFlowId) == "" && deref(in.QuickConnectId) == "" && deref(in.TaskTemplateId) == "" {
		return errf(codeInvalidRequest, "One of ContactFlowId, QuickConnectId or TaskTemplateId is required.")
	}
	return nil
}

func (s *Server) startTaskContact(rc *reqCtx, in *startTaskContactIn, inst *instance) (any, *apiError) {
	st := s.st
	if in.ContactFlowId != nil && *in.ContactFlowId != "" {
		if e := inst.needResource("contact-flow", *in.ContactFlowId, "Contact flow"); e != nil {
			return nil, e
		}
	}
	inst.prune(rc.now)
	if limit := st.limits[quotas.ConcurrentActiveTasks]; inst.activeCount(chTask) >= limit {
		return nil, errf(codeServiceQuotaExceeded, "The service quota has been exceeded: concurrent active tasks per instance ("+strconv.Itoa(limit)+").")
	}
	prev := deref(in.PreviousContactId)
	if prev != "" {
		if limit := st.limits[quotas.TasksPerPreviousContactID]; inst.tasksByPrev[prev] >= limit {
			return nil, errf(codeServiceQuotaExceeded, "The service quota has been exceeded: "+strconv.Itoa(limit)+" tasks already reference PreviousContactId "+clip(prev)+".")
		}
	}
	id := st.newID()
	d := max(st.taskDur.Sample(st.rng), time.Millisecond)
	inst.addContact(&contact{id: id, ch: chTask, start: rc.now, end: rc.now.Add(d), attrs: copyStrings(in.Attributes), prev: prev}, st.maxCtc)
	s.stats.contactsStarted.Add(1)
	st.remember(rc.tokenKey, id, rc.now)
	return contactIDOut{ContactId: &id}, nil
}
