package sim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/smithy-go"

	"github.com/tollgatehq/tollgate/quotas"
)

// asErr asserts that err is (or wraps) the SDK's typed error T.
func asErr[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if err == nil {
		t.Fatalf("got no error, want %T", target)
	}
	if !errors.As(err, &target) {
		t.Fatalf("error %v is not %T", err, target)
	}
	return target
}

// genericCode asserts that err is an unmodeled (generic) API error and
// returns its code: what the SDK sees for an error an operation does not
// model, e.g. ThrottlingException on StartOutboundVoiceContact.
func genericCode(t *testing.T, err error) string {
	t.Helper()
	var g *smithy.GenericAPIError
	if !errors.As(err, &g) {
		t.Fatalf("error %v is not a *smithy.GenericAPIError", err)
	}
	return g.ErrorCode()
}

func httpStatus(t *testing.T, err error) int {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no HTTP response", err)
	}
	return re.HTTPStatusCode()
}

var (
	ctx  = context.Background()
	inst = aws.String(DefaultInstanceID)
)

func TestDirectoryOperations(t *testing.T) {
	s := newServer(t, Options{})
	c := newClient(t, s)

	t.Run("DescribeUser", func(t *testing.T) {
		out, err := c.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String(DefaultUserID)})
		if err != nil {
			t.Fatal(err)
		}
		u := out.User
		if *u.Username != "admin" || *u.RoutingProfileId != DefaultRoutingProfileID || len(u.SecurityProfileIds) != 1 || u.PhoneConfig.PhoneType != types.PhoneTypeSoftPhone || u.LastModifiedTime == nil || *u.IdentityInfo.FirstName != "Ada" {
			t.Fatalf("unexpected user %+v", u)
		}
		_, err = c.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String("nope")})
		asErr[*types.ResourceNotFoundException](t, err)
		_, err = c.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: aws.String("no-such-instance"), UserId: aws.String(DefaultUserID)})
		asErr[*types.ResourceNotFoundException](t, err)
	})

	t.Run("ListUsers", func(t *testing.T) {
		var names []string
		p := connect.NewListUsersPaginator(c, &connect.ListUsersInput{InstanceId: inst, MaxResults: aws.Int32(4)})
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, u := range out.UserSummaryList {
				names = append(names, *u.Username)
				if u.LastModifiedTime == nil || *u.LastModifiedRegion != "us-east-1" {
					t.Fatalf("summary lacks fields: %+v", u)
				}
			}
		}
		if len(names) != 6 || pages != 2 {
			t.Fatalf("got %d users in %d pages: %v", len(names), pages, names)
		}
		_, err := c.ListUsers(ctx, &connect.ListUsersInput{InstanceId: inst, MaxResults: aws.Int32(5000)})
		e := asErr[*types.InvalidParameterException](t, err)
		if !strings.Contains(e.ErrorMessage(), "maxResults") {
			t.Fatalf("message does not name the field: %q", e.ErrorMessage())
		}
		_, err = c.ListUsers(ctx, &connect.ListUsersInput{InstanceId: inst, NextToken: aws.String("garbage")})
		asErr[*types.InvalidParameterException](t, err)
	})

	t.Run("ListQueues", func(t *testing.T) {
		out, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst, QueueTypes: []types.QueueType{types.QueueTypeStandard}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.QueueSummaryList) != 3 || *out.QueueSummaryList[0].Id != DefaultQueueID || out.QueueSummaryList[0].QueueType != types.QueueTypeStandard {
			t.Fatalf("unexpected queues %+v", out.QueueSummaryList)
		}
		_, err = c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst, QueueTypes: []types.QueueType{"STANDARD", "AGENT", "STANDARD"}})
		asErr[*types.InvalidParameterException](t, err)
		_, err = c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String("missing")})
		asErr[*types.ResourceNotFoundException](t, err)
	})

	t.Run("ListContactFlows", func(t *testing.T) {
		out, err := c.ListContactFlows(ctx, &connect.ListContactFlowsInput{InstanceId: inst, ContactFlowTypes: []types.ContactFlowType{types.ContactFlowTypeContactFlow}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ContactFlowSummaryList) != 2 || *out.ContactFlowSummaryList[0].Id != DefaultContactFlowID || out.ContactFlowSummaryList[0].ContactFlowState != types.ContactFlowStateActive {
			t.Fatalf("unexpected flows %+v", out.ContactFlowSummaryList)
		}
		_, err = c.ListContactFlows(ctx, &connect.ListContactFlowsInput{InstanceId: inst, ContactFlowTypes: []types.ContactFlowType{"BOGUS"}})
		asErr[*types.InvalidParameterException](t, err)
	})

	t.Run("ListAgentStatuses", func(t *testing.T) {
		out, err := c.ListAgentStatuses(ctx, &connect.ListAgentStatusesInput{InstanceId: inst, AgentStatusTypes: []types.AgentStatusType{types.AgentStatusTypeCustom}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.AgentStatusSummaryList) != 2 || out.AgentStatusSummaryList[0].Type != types.AgentStatusTypeCustom {
			t.Fatalf("unexpected statuses %+v", out.AgentStatusSummaryList)
		}
		_, err = c.ListAgentStatuses(ctx, &connect.ListAgentStatusesInput{InstanceId: inst, MaxResults: aws.Int32(0)})
		asErr[*types.InvalidParameterException](t, err)
	})

	t.Run("SearchUsers", func(t *testing.T) {
		out, err := c.SearchUsers(ctx, &connect.SearchUsersInput{InstanceId: inst, SearchCriteria: &types.UserSearchCriteria{
			StringCondition: &types.StringCondition{FieldName: aws.String("Username"), Value: aws.String("agent"), ComparisonType: types.StringComparisonTypeStartsWith},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Users) != 5 || *out.ApproximateTotalCount != 5 || *out.Users[0].Username != "agent1" {
			t.Fatalf("unexpected search result %+v", out.Users)
		}
		_, err = c.SearchUsers(ctx, &connect.SearchUsersInput{InstanceId: inst, MaxResults: aws.Int32(501)})
		asErr[*types.InvalidParameterException](t, err)
	})

	t.Run("CreateUser", func(t *testing.T) {
		in := &connect.CreateUserInput{InstanceId: inst, Username: aws.String("new.agent@example.com"), RoutingProfileId: aws.String(DefaultRoutingProfileID),
			SecurityProfileIds: []string{DefaultSecurityProfileID}, PhoneConfig: &types.UserPhoneConfig{PhoneType: types.PhoneTypeDeskPhone, DeskPhoneNumber: aws.String("+12025550111")},
			IdentityInfo: &types.UserIdentityInfo{FirstName: aws.String("New")}}
		out, err := c.CreateUser(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: out.UserId})
		if err != nil || *d.User.Arn != *out.UserArn || d.User.PhoneConfig.PhoneType != types.PhoneTypeDeskPhone {
			t.Fatalf("created user not found or wrong: %v %+v", err, d)
		}
		_, err = c.CreateUser(ctx, in)
		asErr[*types.DuplicateResourceException](t, err)
		in.Username = aws.String("bad name!")
		_, err = c.CreateUser(ctx, in)
		asErr[*types.InvalidParameterException](t, err)
		in.Username, in.RoutingProfileId = aws.String("other"), aws.String("no-such-profile")
		_, err = c.CreateUser(ctx, in)
		asErr[*types.ResourceNotFoundException](t, err)
		in.RoutingProfileId = aws.String(DefaultRoutingProfileID)
		if err := s.SetResourceQuota(quotas.UsersPerInstance, 7); err != nil {
			t.Fatal(err)
		}
		_, err = c.CreateUser(ctx, in)
		e := asErr[*types.LimitExceededException](t, err)
		if httpStatus(t, err) != 429 || !strings.Contains(e.ErrorMessage(), "users per instance") {
			t.Fatalf("got %d %q", httpStatus(t, err), e.ErrorMessage())
		}
	})
	mustInvariants(t, s)
}

func TestInstanceAndPhoneOperations(t *testing.T) {
	s := newServer(t, Options{RateScale: 100}) // CreateInstance is 0.1/s burst 1
	c := newClient(t, s)

	d, err := c.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: inst})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Instance.Id != DefaultInstanceID || d.Instance.InstanceStatus != types.InstanceStatusActive || !*d.Instance.OutboundCallsEnabled || d.Instance.CreatedTime == nil {
		t.Fatalf("unexpected instance %+v", d.Instance)
	}
	// An instance ARN works wherever an id does.
	if _, err := c.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: d.Instance.Arn}); err != nil {
		t.Fatalf("by ARN: %v", err)
	}
	_, err = c.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: aws.String("missing")})
	asErr[*types.ResourceNotFoundException](t, err)

	created, err := c.CreateInstance(ctx, &connect.CreateInstanceInput{IdentityManagementType: types.DirectoryTypeConnectManaged,
		InboundCallsEnabled: aws.Bool(true), OutboundCallsEnabled: aws.Bool(false), InstanceAlias: aws.String("second"), ClientToken: aws.String("ct-1")})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateInstance(ctx, &connect.CreateInstanceInput{IdentityManagementType: types.DirectoryTypeConnectManaged,
		InboundCallsEnabled: aws.Bool(true), OutboundCallsEnabled: aws.Bool(false), InstanceAlias: aws.String("second"), ClientToken: aws.String("ct-1")})
	if err != nil || *again.Id != *created.Id {
		t.Fatalf("same ClientToken: got %v %v, want id %s", again, err, *created.Id)
	}
	_, err = c.CreateInstance(ctx, &connect.CreateInstanceInput{IdentityManagementType: types.DirectoryTypeConnectManaged,
		InboundCallsEnabled: aws.Bool(true), OutboundCallsEnabled: aws.Bool(true), InstanceAlias: aws.String("third")})
	e := asErr[*types.ServiceQuotaExceededException](t, err)
	if httpStatus(t, err) != 402 || !strings.Contains(e.ErrorMessage(), "instances per account") {
		t.Fatalf("got %d %q", httpStatus(t, err), e.ErrorMessage())
	}
	_, err = c.CreateInstance(ctx, &connect.CreateInstanceInput{IdentityManagementType: types.DirectoryTypeConnectManaged,
		InboundCallsEnabled: aws.Bool(true), OutboundCallsEnabled: aws.Bool(true), InstanceAlias: aws.String("d-bad")})
	asErr[*types.InvalidRequestException](t, err)

	// The new instance has outbound calls off.
	_, err = c.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{InstanceId: created.Id, ContactFlowId: aws.String("x"), DestinationPhoneNumber: aws.String("+14155550100")})
	asErr[*types.ResourceNotFoundException](t, err) // its flows have fresh ids

	list, err := c.ListInstances(ctx, &connect.ListInstancesInput{})
	if err != nil || len(list.InstanceSummaryList) != 2 || *list.InstanceSummaryList[1].Id != *created.Id {
		t.Fatalf("ListInstances: %v %+v", err, list)
	}
	_, err = c.ListInstances(ctx, &connect.ListInstancesInput{MaxResults: aws.Int32(11)})
	asErr[*types.InvalidRequestException](t, err)

	claim, err := c.ClaimPhoneNumber(ctx, &connect.ClaimPhoneNumberInput{InstanceId: inst, PhoneNumber: aws.String("+442071838750"), ClientToken: aws.String("p-1")})
	if err != nil || claim.PhoneNumberId == nil || !strings.Contains(*claim.PhoneNumberArn, "phone-number/") {
		t.Fatalf("ClaimPhoneNumber: %v %+v", err, claim)
	}
	dup, err := c.ClaimPhoneNumber(ctx, &connect.ClaimPhoneNumberInput{InstanceId: inst, PhoneNumber: aws.String("+442071838750"), ClientToken: aws.String("p-1")})
	if err != nil || *dup.PhoneNumberId != *claim.PhoneNumberId {
		t.Fatalf("same ClientToken: %v %+v", err, dup)
	}
	_, err = c.ClaimPhoneNumber(ctx, &connect.ClaimPhoneNumberInput{InstanceId: inst, PhoneNumber: aws.String("+442071838750"), ClientToken: aws.String("p-2")})
	asErr[*types.InvalidParameterException](t, err)
	_, err = c.ClaimPhoneNumber(ctx, &connect.ClaimPhoneNumberInput{InstanceId: inst, PhoneNumber: aws.String("0044")})
	asErr[*types.InvalidParameterException](t, err)
	for i := 0; i < 3; i++ { // 1 seeded + 1 claimed + 3 = 5, the default quota
		if _, err := c.ClaimPhoneNumber(ctx, &connect.ClaimPhoneNumberInput{InstanceId: inst, PhoneNumber: aws.String("+1206555010" + string(rune('1'+i)))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.ClaimPhoneNumber(ctx, &connect.ClaimPhoneNumberInput{InstanceId: inst, PhoneNumber: aws.String("+12065550109")})
	if code := genericCode(t, err); code != "ServiceQuotaExceededException" || httpStatus(t, err) != 402 {
		t.Fatalf("got %s %d, want unmodeled ServiceQuotaExceededException 402", code, httpStatus(t, err))
	}

	phones, err := c.ListPhoneNumbersV2(ctx, &connect.ListPhoneNumbersV2Input{InstanceId: inst, PhoneNumberCountryCodes: []types.PhoneNumberCountryCode{"GB"}})
	if err != nil || len(phones.ListPhoneNumbersSummaryList) != 1 || phones.ListPhoneNumbersSummaryList[0].PhoneNumberType != types.PhoneNumberTypeDid || *phones.ListPhoneNumbersSummaryList[0].TargetArn != *d.Instance.Arn {
		t.Fatalf("ListPhoneNumbersV2: %v %+v", err, phones)
	}
	all, err := c.ListPhoneNumbersV2(ctx, &connect.ListPhoneNumbersV2Input{})
	if err != nil || len(all.ListPhoneNumbersSummaryList) != 5 {
		t.Fatalf("ListPhoneNumbersV2 (account): %v %d", err, len(all.ListPhoneNumbersSummaryList))
	}
	_, err = c.ListPhoneNumbersV2(ctx, &connect.ListPhoneNumbersV2Input{PhoneNumberPrefix: aws.String("abc")})
	asErr[*types.InvalidParameterException](t, err)
	_, err = c.ListPhoneNumbersV2(ctx, &connect.ListPhoneNumbersV2Input{InstanceId: aws.String("missing")})
	asErr[*types.ResourceNotFoundException](t, err)
	mustInvariants(t, s)
}

func TestContactOperations(t *testing.T) {
	s := newServer(t, Options{})
	c := newClient(t, s)
	sovc := func(dest, token string) (*connect.StartOutboundVoiceContactOutput, error) {
		in := &connect.StartOutboundVoiceContactInput{InstanceId: inst, ContactFlowId: aws.String(DefaultContactFlowID),
			DestinationPhoneNumber: aws.String(dest), QueueId: aws.String(DefaultQueueID), Attributes: map[string]string{"k": "v"}}
		if token != "" {
			in.ClientToken = aws.String(token)
		}
		return c.StartOutboundVoiceContact(ctx, in)
	}

	first, err := sovc("+14155550100", "tok-1")
	if err != nil || first.ContactId == nil {
		t.Fatalf("SOVC: %v", err)
	}
	dup, err := sovc("+14155550100", "tok-1")
	if err != nil || *dup.ContactId != *first.ContactId {
		t.Fatalf("same ClientToken returned %v, %v; want %s", dup, err, *first.ContactId)
	}
	if st := s.Stats(); st.ContactsStarted != 1 || st.DuplicateClientTokens != 1 || st.Active[DefaultInstanceID].Calls != 1 {
		t.Fatalf("stats after duplicate: started %d dup %d active %+v", st.ContactsStarted, st.DuplicateClientTokens, st.Active)
	}
	_, err = sovc("+15550001234", "")
	e := asErr[*types.DestinationNotAllowedException](t, err)
	if httpStatus(t, err) != 403 || e.ErrorMessage() == "" {
		t.Fatalf("got %d %q", httpStatus(t, err), e.ErrorMessage())
	}
	_, err = c.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{InstanceId: inst, ContactFlowId: aws.String(DefaultContactFlowID),
		DestinationPhoneNumber: aws.String("+14155550100"), RingTimeoutInSeconds: aws.Int32(5)})
	asErr[*types.InvalidParameterException](t, err)
	_, err = c.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{InstanceId: inst, ContactFlowId: aws.String("missing"),
		DestinationPhoneNumber: aws.String("+14155550100")})
	asErr[*types.ResourceNotFoundException](t, err)

	_, err = c.UpdateContactAttributes(ctx, &connect.UpdateContactAttributesInput{InstanceId: inst, InitialContactId: first.ContactId, Attributes: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateContactAttributes(ctx, &connect.UpdateContactAttributesInput{InstanceId: inst, InitialContactId: aws.String("missing"), Attributes: map[string]string{"a": "b"}})
	asErr[*types.ResourceNotFoundException](t, err)
	_, err = c.UpdateContactAttributes(ctx, &connect.UpdateContactAttributesInput{InstanceId: inst, InitialContactId: first.ContactId, Attributes: map[string]string{"big": strings.Repeat("x", 32768)}})
	asErr[*types.InvalidParameterException](t, err)

	if _, err := c.StopContact(ctx, &connect.StopContactInput{InstanceId: inst, ContactId: first.ContactId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.StopContact(ctx, &connect.StopContactInput{InstanceId: inst, ContactId: first.ContactId})
	if asErr[*types.ContactNotFoundException](t, err); httpStatus(t, err) != 410 {
		t.Fatalf("status %d, want 410", httpStatus(t, err))
	}
	if st := s.Stats(); st.Active[DefaultInstanceID].Calls != 0 {
		t.Fatalf("active calls after stop: %+v", st.Active)
	}

	chat, err := c.StartChatContact(ctx, &connect.StartChatContactInput{InstanceId: inst, ContactFlowId: aws.String(DefaultContactFlowID),
		ParticipantDetails: &types.ParticipantDetails{DisplayName: aws.String("Customer")}, ClientToken: aws.String("chat-1")})
	if err != nil || chat.ParticipantToken == nil || chat.ParticipantId == nil {
		t.Fatalf("StartChatContact: %v %+v", err, chat)
	}
	chat2, err := c.StartChatContact(ctx, &connect.StartChatContactInput{InstanceId: inst, ContactFlowId: aws.String(DefaultContactFlowID),
		ParticipantDetails: &types.ParticipantDetails{DisplayName: aws.String("Customer")}, ClientToken: aws.String("chat-1")})
	if err != nil || *chat2.ContactId != *chat.ContactId || *chat2.ParticipantToken != *chat.ParticipantToken {
		t.Fatalf("chat ClientToken: %v %+v", err, chat2)
	}
	_, err = c.StartChatContact(ctx, &connect.StartChatContactInput{InstanceId: inst, ContactFlowId: aws.String(DefaultContactFlowID),
		ParticipantDetails: &types.ParticipantDetails{DisplayName: aws.String("C")}, ChatDurationInMinutes: aws.Int32(10)})
	asErr[*types.InvalidParameterException](t, err)
	if err := s.SetResourceQuota(quotas.ConcurrentActiveChats, 1); err != nil {
		t.Fatal(err)
	}
	_, err = c.StartChatContact(ctx, &connect.StartChatContactInput{InstanceId: inst, ContactFlowId: aws.String(DefaultContactFlowID),
		ParticipantDetails: &types.ParticipantDetails{DisplayName: aws.String("Customer")}})
	if asErr[*types.LimitExceededException](t, err); httpStatus(t, err) != 429 {
		t.Fatalf("status %d", httpStatus(t, err))
	}

	task, err := c.StartTaskContact(ctx, &connect.StartTaskContactInput{InstanceId: inst, Name: aws.String("follow up"), ContactFlowId: aws.String(DefaultContactFlowID), PreviousContactId: first.ContactId})
	if err != nil || task.ContactId == nil {
		t.Fatalf("StartTaskContact: %v", err)
	}
	_, err = c.StartTaskContact(ctx, &connect.StartTaskContactInput{InstanceId: inst, Name: aws.String("no flow")})
	asErr[*types.InvalidRequestException](t, err)
	if err := s.SetResourceQuota(quotas.ConcurrentActiveTasks, 1); err != nil {
		t.Fatal(err)
	}
	_, err = c.StartTaskContact(ctx, &connect.StartTaskContactInput{InstanceId: inst, Name: aws.String("t2"), ContactFlowId: aws.String(DefaultContactFlowID)})
	if asErr[*types.ServiceQuotaExceededException](t, err); httpStatus(t, err) != 402 {
		t.Fatalf("status %d", httpStatus(t, err))
	}
	mustInvariants(t, s)
}

// TestConcurrentCalls: beyond the concurrent-active-calls quota real Connect
// still answers 200 and the contact hears a reorder tone; the simulator
// counts it as rejected_reorder, or answers 429 LimitExceededException in
// CallLimitError mode. Calls end after their (seeded) duration.
func TestConcurrentCalls(t *testing.T) {
	for _, mode := range []string{CallLimitReorder, CallLimitError} {
		t.Run(mode, func(t *testing.T) {
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			q := quotas.Default()
			if err := q.SetResource(quotas.Resource{Name: quotas.ConcurrentActiveCalls, Default: 2}); err != nil {
				t.Fatal(err)
			}
			s := newServer(t, Options{Quotas: q, CallLimit: mode, Now: func() time.Time { return now }, RateScale: 100,
				CallDuration: Distribution{Kind: DistFixed, Min: time.Minute}})
			c := newClient(t, s)
			call := func() error {
				_, err := c.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{InstanceId: inst,
					ContactFlowId: aws.String(DefaultContactFlowID), DestinationPhoneNumber: aws.String("+14155550100")})
				return err
			}
			for i := 0; i < 2; i++ {
				if err := call(); err != nil {
					t.Fatal(err)
				}
			}
			err := call()
			st := s.Stats()
			if mode == CallLimitReorder {
				if err != nil || st.RejectedReorder != 1 || st.ContactsStarted != 2 {
					t.Fatalf("reorder: err %v, rejected %d, started %d", err, st.RejectedReorder, st.ContactsStarted)
				}
			} else {
				asErr[*types.LimitExceededException](t, err)
			}
			now = now.Add(61 * time.Second) // the two calls end
			if err := call(); err != nil {
				t.Fatalf("after the calls ended: %v", err)
			}
			if st := s.Stats(); st.Active[DefaultInstanceID].Calls != 1 {
				t.Fatalf("active calls %d, want 1", st.Active[DefaultInstanceID].Calls)
			}
			mustInvariants(t, s)
		})
	}
}

func TestMetricOperations(t *testing.T) {
	s := newServer(t, Options{})
	c := newClient(t, s)
	if _, err := c.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{InstanceId: inst,
		ContactFlowId: aws.String(DefaultContactFlowID), DestinationPhoneNumber: aws.String("+14155550100")}); err != nil {
		t.Fatal(err)
	}

	cur, err := c.GetCurrentMetricData(ctx, &connect.GetCurrentMetricDataInput{InstanceId: inst,
		Filters:        &types.Filters{Queues: []string{DefaultQueueID}, Channels: []types.Channel{types.ChannelVoice}},
		Groupings:      []types.Grouping{types.GroupingQueue},
		CurrentMetrics: []types.CurrentMetric{{Name: types.CurrentMetricNameAgentsOnline, Unit: types.UnitCount}, {Name: types.CurrentMetricNameAgentsOnCall}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cur.MetricResults) != 1 || *cur.MetricResults[0].Dimensions.Queue.Id != DefaultQueueID || cur.DataSnapshotTime == nil {
		t.Fatalf("unexpected current metrics %+v", cur.MetricResults)
	}
	if got := *cur.MetricResults[0].Collections[0].Value; got != 6 {
		t.Fatalf("AGENTS_ONLINE = %v, want 6", got)
	}
	if got := *cur.MetricResults[0].Collections[1].Value; got != 1 {
		t.Fatalf("AGENTS_ON_CALL = %v, want 1", got)
	}
	_, err = c.GetCurrentMetricData(ctx, &connect.GetCurrentMetricDataInput{InstanceId: inst, Filters: &types.Filters{Queues: []string{DefaultQueueID}},
		CurrentMetrics: []types.CurrentMetric{{Name: "NOT_A_METRIC"}}})
	asErr[*types.InvalidParameterException](t, err)

	now := time.Now()
	hist, err := c.GetMetricData(ctx, &connect.GetMetricDataInput{InstanceId: inst, StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Minute)),
		Filters:           &types.Filters{Queues: []string{DefaultQueueID}, Channels: []types.Channel{types.ChannelVoice}},
		Groupings:         []types.Grouping{types.GroupingChannel},
		HistoricalMetrics: []types.HistoricalMetric{{Name: types.HistoricalMetricNameContactsHandled, Statistic: types.StatisticSum, Unit: types.UnitCount}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.MetricResults) != 1 || hist.MetricResults[0].Dimensions.Channel != types.ChannelVoice || *hist.MetricResults[0].Collections[0].Value != 1 {
		t.Fatalf("unexpected historical metrics %+v", hist.MetricResults)
	}
	_, err = c.GetMetricData(ctx, &connect.GetMetricDataInput{InstanceId: inst, StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Hour)),
		Filters: &types.Filters{Queues: []string{DefaultQueueID}}, HistoricalMetrics: []types.HistoricalMetric{{Name: types.HistoricalMetricNameContactsHandled}}})
	asErr[*types.InvalidParameterException](t, err)

	instARN := "arn:aws:connect:us-east-1:123456789012:instance/" + DefaultInstanceID
	v2, err := c.GetMetricDataV2(ctx, &connect.GetMetricDataV2Input{ResourceArn: aws.String(instARN), StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Minute)),
		Filters:   []types.FilterV2{{FilterKey: aws.String("QUEUE"), FilterValues: []string{DefaultQueueID}}},
		Groupings: []string{"CHANNEL"}, Interval: &types.IntervalDetails{IntervalPeriod: types.IntervalPeriodHour},
		Metrics: []types.MetricV2{{Name: aws.String("CONTACTS_HANDLED")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(v2.MetricResults) != 3 || v2.MetricResults[0].Dimensions["CHANNEL"] != "VOICE" || *v2.MetricResults[0].Collections[0].Value != 1 || v2.MetricResults[0].MetricInterval.Interval != types.IntervalPeriodHour {
		t.Fatalf("unexpected V2 metrics %+v", v2.MetricResults)
	}
	_, err = c.GetMetricDataV2(ctx, &connect.GetMetricDataV2Input{ResourceArn: aws.String(instARN), StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
		Filters: make([]types.FilterV2, 6), Metrics: []types.MetricV2{{Name: aws.String("CONTACTS_HANDLED")}}})
	asErr[*types.InvalidParameterException](t, err)
	_, err = c.GetMetricDataV2(ctx, &connect.GetMetricDataV2Input{ResourceArn: aws.String("arn:aws:connect:us-east-1:123456789012:instance/missing"), StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
		Filters: []types.FilterV2{{FilterKey: aws.String("QUEUE"), FilterValues: []string{"q"}}}, Metrics: []types.MetricV2{{Name: aws.String("CONTACTS_HANDLED")}}})
	asErr[*types.ResourceNotFoundException](t, err)

	ud, err := c.GetCurrentUserData(ctx, &connect.GetCurrentUserDataInput{InstanceId: inst, Filters: &types.UserDataFilters{Agents: []string{DefaultUserID}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ud.UserDataList) != 1 || *ud.UserDataList[0].User.Id != DefaultUserID || *ud.UserDataList[0].Status.StatusName != "Available" || ud.UserDataList[0].MaxSlotsByChannel["VOICE"] != 1 {
		t.Fatalf("unexpected user data %+v", ud.UserDataList)
	}
	_, err = c.GetCurrentUserData(ctx, &connect.GetCurrentUserDataInput{InstanceId: inst, Filters: &types.UserDataFilters{}})
	asErr[*types.InvalidParameterException](t, err)
}

// TestThrottleErrors: every operation's rate throttle reaches the SDK as
// its typed error where the operation models it, and as a generic API
// error with the same code where it does not.
func TestThrottleErrors(t *testing.T) {
	s := newServer(t, Options{RetryAfter: true})
	for _, op := range Operations() {
		if op == "PutDialRequestBatch" {
			continue // tested with raw HTTP (no connectcampaigns SDK in go.mod)
		}
		if err := s.SetQuota(op, 0.001, 1); err != nil {
			t.Fatal(err)
		}
	}
	c := newClient(t, s)
	call := map[string]func() error{
		"DescribeUser": func() error {
			_, err := c.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String(DefaultUserID)})
			return err
		},
		"ListUsers":  func() error { _, err := c.ListUsers(ctx, &connect.ListUsersInput{InstanceId: inst}); return err },
		"ListQueues": func() error { _, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst}); return err },
		"ListContactFlows": func() error {
			_, err := c.ListContactFlows(ctx, &connect.ListContactFlowsInput{InstanceId: inst})
			return err
		},
		"ListAgentStatuses": func() error {
			_, err := c.ListAgentStatuses(ctx, &connect.ListAgentStatusesInput{InstanceId: inst})
			return err
		},
		"StartChatContact": func() error {
			_, err := c.StartChatContact(ctx, &connect.StartChatContactInput{InstanceId: inst, ContactFlowId: aws.String(DefaultContactFlowID), ParticipantDetails: &types.ParticipantDetails{DisplayName: aws.String("c")}})
			return err
		},
		"StartOutboundVoiceContact": func() error {
			_, err := c.StartOutboundVoiceContact(ctx, &connect.StartOutboundVoiceContactInput{InstanceId: inst, ContactFlowId: aws.String(DefaultContactFlowID), DestinationPhoneNumber: aws.String("+14155550100")})
			return err
		},
		"DescribeInstance": func() error {
			_, err := c.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: inst})
			return err
		},
		"SearchUsers": func() error { _, err := c.SearchUsers(ctx, &connect.SearchUsersInput{InstanceId: inst}); return err },
		"CreateInstance": func() error {
			_, err := c.CreateInstance(ctx, &connect.CreateInstanceInput{IdentityManagementType: types.DirectoryTypeConnectManaged, InboundCallsEnabled: aws.Bool(true), OutboundCallsEnabled: aws.Bool(true), InstanceAlias: aws.String("x")})
			return err
		},
		"StartTaskContact": func() error {
			_, err := c.StartTaskContact(ctx, &connect.StartTaskContactInput{InstanceId: inst, Name: aws.String("t"), ContactFlowId: aws.String(DefaultContactFlowID)})
			return err
		},
		"GetCurrentUserData": func() error {
			_, err := c.GetCurrentUserData(ctx, &connect.GetCurrentUserDataInput{InstanceId: inst, Filters: &types.UserDataFilters{Agents: []string{DefaultUserID}}})
			return err
		},
	}
	for op, f := range call {
		if err := f(); err != nil {
			t.Fatalf("%s first call (burst 1): %v", op, err)
		}
		err := f()
		if httpStatus(t, err) != 429 {
			t.Fatalf("%s: status %d", op, httpStatus(t, err))
		}
		var re *awshttp.ResponseError
		errors.As(err, &re)
		if ra := re.Response.Header.Get("x-amz-retry-after"); ra == "" || re.RequestID == "" {
			t.Fatalf("%s: retry-after %q, request id %q", op, ra, re.RequestID)
		}
		switch op {
		case "StartChatContact":
			if code := genericCode(t, err); code != "TooManyRequestsException" {
				t.Fatalf("%s: code %s", op, code)
			}
		case "StartOutboundVoiceContact", "DescribeInstance":
			if code := genericCode(t, err); code != "ThrottlingException" {
				t.Fatalf("%s: code %s", op, code)
			}
		default:
			asErr[*types.ThrottlingException](t, err)
		}
	}
	st := s.Stats()
	if st.Callers[testAccessKey].Throttled != int64(len(call)) || st.Totals.Throttled != int64(len(call)) {
		t.Fatalf("caller stats %+v totals %+v", st.Callers[testAccessKey], st.Totals)
	}
	if st.Operations["StartChatContact"].ThrottledByCode["TooManyRequestsException"] != 1 {
		t.Fatalf("per-op throttle codes: %+v", st.Operations["StartChatContact"])
	}
}

func TestFaults(t *testing.T) {
	s := newServer(t, Options{})
	c := newClient(t, s)
	describe := func(cl *connect.Client) error {
		_, err := cl.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String(DefaultUserID)})
		return err
	}
	if err := s.SetFault("DescribeUser", Fault{ErrorRate: 1}); err != nil {
		t.Fatal(err)
	}
	if err := describe(c); httpStatus(t, err) != 500 {
		t.Fatalf("status %d", httpStatus(t, err))
	} else {
		asErr[*types.InternalServiceException](t, err)
	}
	if err := s.SetFault("DescribeUser", Fault{UnavailableRate: 1}); err != nil {
		t.Fatal(err)
	}
	err := describe(c)
	if httpStatus(t, err) != 503 || !strings.Contains(err.Error(), "deserialization failed") {
		t.Fatalf("503 HTML: %v", err)
	}
	if err := s.SetFault("DescribeUser", Fault{ResetRate: 1}); err != nil {
		t.Fatal(err)
	}
	if err := describe(c); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("reset: %v", err)
	}
	if err := s.SetFault("DescribeUser", Fault{SlowRate: 1, SlowDelay: Duration(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = c.DescribeUser(tctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String(DefaultUserID)})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow: %v", err)
	}
	if err := s.SetFault("*", Fault{Latency: Distribution{Kind: DistFixed, Min: 20 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFault("DescribeUser", Fault{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("latency fault: took %v", d)
	}
	st := s.Stats()
	codes := st.Operations["DescribeUser"].ErrorsByCode
	for _, code := range []string{"InternalServiceException", "ServiceUnavailable", "ConnectionReset", "ClientClosedRequest"} {
		if codes[code] != 1 {
			t.Fatalf("stats lack %s: %+v", code, codes)
		}
	}
	_ = http.StatusOK
}
