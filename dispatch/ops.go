package dispatch

import (
	"context"
	"reflect"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/connect"
)

// OpPutDialRequestBatch is the Outbound Campaigns operation dial-request jobs
// are delivered through. A job with this Op carries one dial request (see
// DialRequest); the dispatcher batches up to Options.MaxBatch of them, of the
// same campaign, into one call.
const OpPutDialRequestBatch = "PutDialRequestBatch"

// opSpec is one supported Connect operation: how to make its SDK input value
// and how to call it.
type opSpec struct {
	name     string
	newInput func() any                                                        // a pointer to a zero SDK input struct
	call     func(ctx context.Context, c *connect.Client, in any) (any, error) // the client method
	token    bool                                                              // the input has a ClientToken member
}

// op builds an opSpec from a connect.Client method expression, e.g.
// op("StopContact", (*connect.Client).StopContact).
func op[In, Out any](name string, m func(*connect.Client, context.Context, *In, ...func(*connect.Options)) (*Out, error)) opSpec {
	var zero In
	f, ok := reflect.TypeOf(zero).FieldByName("ClientToken")
	return opSpec{
		name:     name,
		newInput: func() any { return new(In) },
		call: func(ctx context.Context, c *connect.Client, in any) (any, error) {
			return m(c, ctx, in.(*In))
		},
		token: ok && f.Type == reflect.TypeFor[*string](),
	}
}

// connectOps is the table of Connect operations a job may name. It holds
// every operation of the reference table (the simulator's set) and the other
// calls contact-centre integrations commonly queue: contact control,
// recording, users, queues, routing, phone numbers and search.
var connectOps = map[string]opSpec{}

func init() {
	for _, s := range []opSpec{
		// Contacts.
		op("StartOutboundVoiceContact", (*connect.Client).StartOutboundVoiceContact),
		op("StartChatContact", (*connect.Client).StartChatContact),
		op("StartTaskContact", (*connect.Client).StartTaskContact),
		op("StartOutboundChatContact", (*connect.Client).StartOutboundChatContact),
		op("StartEmailContact", (*connect.Client).StartEmailContact),
		op("StartWebRTCContact", (*connect.Client).StartWebRTCContact),
		op("StopContact", (*connect.Client).StopContact),
		op("TransferContact", (*connect.Client).TransferContact),
		op("MonitorContact", (*connect.Client).MonitorContact),
		op("CreateParticipant", (*connect.Client).CreateParticipant),
		op("DescribeContact", (*connect.Client).DescribeContact),
		op("GetContactAttributes", (*connect.Client).GetContactAttributes),
		op("UpdateContact", (*connect.Client).UpdateContact),
		op("UpdateContactAttributes", (*connect.Client).UpdateContactAttributes),
		op("UpdateContactSchedule", (*connect.Client).UpdateContactSchedule),
		op("BatchPutContact", (*connect.Client).BatchPutContact),
		op("TagContact", (*connect.Client).TagContact),
		op("UntagContact", (*connect.Client).UntagContact),
		op("ListContactReferences", (*connect.Client).ListContactReferences),
		op("SearchContacts", (*connect.Client).SearchContacts),
		op("DismissUserContact", (*connect.Client).DismissUserContact),
		op("StartContactStreaming", (*connect.Client).StartContactStreaming),
		op("StopContactStreaming", (*connect.Client).StopContactStreaming),
		op("StartContactRecording", (*connect.Client).StartContactRecording),
		op("StopContactRecording", (*connect.Client).StopContactRecording),
		op("SuspendContactRecording", (*connect.Client).SuspendContactRecording),
		op("ResumeContactRecording", (*connect.Client).ResumeContactRecording),
		op("ListRealtimeContactAnalysisSegmentsV2", (*connect.Client).ListRealtimeContactAnalysisSegmentsV2),
		// Metrics.
		op("GetCurrentMetricData", (*connect.Client).GetCurrentMetricData),
		op("GetCurrentUserData", (*connect.Client).GetCurrentUserData),
		op("GetMetricData", (*connect.Client).GetMetricData),
		op("GetMetricDataV2", (*connect.Client).GetMetricDataV2),
		// Users and agents.
		op("ListUsers", (*connect.Client).ListUsers),
		op("DescribeUser", (*connect.Client).DescribeUser),
		op("CreateUser", (*connect.Client).CreateUser),
		op("DeleteUser", (*connect.Client).DeleteUser),
		op("SearchUsers", (*connect.Client).SearchUsers),
		op("PutUserStatus", (*connect.Client).PutUserStatus),
		op("UpdateUserRoutingProfile", (*connect.Client).UpdateUserRoutingProfile),
		op("UpdateUserSecurityProfiles", (*connect.Client).UpdateUserSecurityProfiles),
		op("UpdateUserIdentityInfo", (*connect.Client).UpdateUserIdentityInfo),
		op("UpdateUserPhoneConfig", (*connect.Client).UpdateUserPhoneConfig),
		op("ListUserHierarchyGroups", (*connect.Client).ListUserHierarchyGroups),
		op("ListAgentStatuses", (*connect.Client).ListAgentStatuses),
		op("DescribeAgentStatus", (*connect.Client).DescribeAgentStatus),
		// Queues, routing, flows, hours, quick connects, task templates.
		op("ListQueues", (*connect.Client).ListQueues),
		op("DescribeQueue", (*connect.Client).DescribeQueue),
		op("CreateQueue", (*connect.Client).CreateQueue),
		op("UpdateQueueStatus", (*connect.Client).UpdateQueueStatus),
		op("SearchQueues", (*connect.Client).SearchQueues),
		op("ListRoutingProfiles", (*connect.Client).ListRoutingProfiles),
		op("DescribeRoutingProfile", (*connect.Client).DescribeRoutingProfile),
		op("ListContactFlows", (*connect.Client).ListContactFlows),
		op("DescribeContactFlow", (*connect.Client).DescribeContactFlow),
		op("CreateContactFlow", (*connect.Client).CreateContactFlow),
		op("ListHoursOfOperations", (*connect.Client).ListHoursOfOperations),
		op("DescribeHoursOfOperation", (*connect.Client).DescribeHoursOfOperation),
		op("ListQuickConnects", (*connect.Client).ListQuickConnects),
		op("ListSecurityProfiles", (*connect.Client).ListSecurityProfiles),
		op("ListTaskTemplates", (*connect.Client).ListTaskTemplates),
		op("GetTaskTemplate", (*connect.Client).GetTaskTemplate),
		// Instances and phone numbers.
		op("DescribeInstance", (*connect.Client).DescribeInstance),
		op("ListInstances", (*connect.Client).ListInstances),
		op("CreateInstance", (*connect.Client).CreateInstance),
		op("ClaimPhoneNumber", (*connect.Client).ClaimPhoneNumber),
		op("ReleasePhoneNumber", (*connect.Client).ReleasePhoneNumber),
		op("DescribePhoneNumber", (*connect.Client).DescribePhoneNumber),
		op("ListPhoneNumbers", (*connect.Client).ListPhoneNumbers),
		op("ListPhoneNumbersV2", (*connect.Client).ListPhoneNumbersV2),
	} {
		connectOps[s.name] = s
	}
}

// Ops returns the names of every operation a job may name, sorted: the
// Connect operations of the table and PutDialRequestBatch.
func Ops() []string {
	out := make([]string, 0, len(connectOps)+1)
	for name := range connectOps {
		out = append(out, name)
	}
	out = append(out, OpPutDialRequestBatch)
	sort.Strings(out)
	return out
}

// Supported reports whether op may be named by a job.
func Supported(op string) bool {
	if op == OpPutDialRequestBatch {
		return true
	}
	_, ok := connectOps[op]
	return ok
}
