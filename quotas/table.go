package quotas

// defaultAPIs is the published per-operation rate table (connect-api.md §5).
// Burst values marked BurstVerified are from the admin guide; the others are
// inferred: 5 for 2/s operations (the "all other operations" rule), equal to
// the rate for faster ones.
var defaultAPIs = []API{
	// Runtime: contacts.
	{Op: "StartOutboundVoiceContact", Rate: 2, Burst: 5, Code: "L-4E9BCC96", Adjustable: true, BurstVerified: true},
	{Op: "StopContact", Rate: 10, Burst: 10, Code: "L-650BD10F", Adjustable: true},
	{Op: "StartChatContact", Rate: 5, Burst: 8, Code: "L-AA48CD49", Adjustable: true, BurstVerified: true},
	{Op: "StartTaskContact", Rate: 2, Burst: 5, Code: "L-E704D621", Adjustable: true},
	{Op: "StartContactStreaming", Rate: 5, Burst: 8, Adjustable: true, BurstVerified: true},
	{Op: "StopContactStreaming", Rate: 5, Burst: 8, Adjustable: true, BurstVerified: true},
	{Op: "UpdateContactAttributes", Rate: 10, Burst: 10, Code: "L-F001E5ED", Adjustable: true},
	{Op: "GetContactAttributes", Rate: 10, Burst: 10, Adjustable: true},
	{Op: "DescribeContact", Rate: 10, Burst: 10, Adjustable: true},
	{Op: "UpdateContact", Rate: 10, Burst: 10, Adjustable: true},
	{Op: "BatchPutContact", Rate: 10, Burst: 10, Adjustable: true},
	{Op: "TagContact", Rate: 20, Burst: 20, Adjustable: true},
	{Op: "UntagContact", Rate: 20, Burst: 20, Adjustable: true},
	{Op: "CreateParticipant", Rate: 5, Burst: 5, Adjustable: true},

	// Metrics. The rate of GetMetricData and GetCurrentMetricData cannot be increased.
	{Op: "GetCurrentMetricData", Rate: 5, Burst: 8, Code: "L-ED2B0490", Adjustable: false, BurstVerified: true},
	{Op: "GetMetricData", Rate: 5, Burst: 8, Code: "L-52794498", Adjustable: false, BurstVerified: true},
	{Op: "GetMetricDataV2", Rate: 10, Burst: 10, Code: "L-2E719449", Adjustable: true},
	{Op: "GetCurrentUserData", Rate: 2, Burst: 5, Code: "L-9E54B88B", Adjustable: true},

	// Reads.
	{Op: "ListUsers", Rate: 10, Burst: 10, Code: "L-CCC38177", Adjustable: true},
	{Op: "DescribeUser", Rate: 10, Burst: 10, Code: "L-EE6F0D82", Adjustable: true},
	{Op: "ListQueues", Rate: 10, Burst: 10, Code: "L-C56E3A3C", Adjustable: true},
	{Op: "ListContactFlows", Rate: 2, Burst: 5, Code: "L-4641705A", Adjustable: true},
	{Op: "ListAgentStatuses", Rate: 10, Burst: 10, Code: "L-D6D4A2DA", Adjustable: true},
	{Op: "SearchUsers", Rate: 2, Burst: 5, Code: "L-E2C35CCE", Adjustable: true},
	{Op: "DescribeInstance", Rate: 2, Burst: 5, Code: "L-D14CF86E", Adjustable: true},
	{Op: "ListInstances", Rate: 2, Burst: 5, Code: "L-98C95556", Adjustable: true},
	{Op: "ListPhoneNumbersV2", Rate: 2, Burst: 5, Code: "L-B07B2C56", Adjustable: true},
	{Op: "ListIntegrationAssociations", Rate: 50, Burst: 50, Adjustable: true},

	// Provisioning.
	{Op: "CreateInstance", Rate: 0.1, Burst: 1, Code: "L-2AADC77E", Adjustable: true},
	{Op: "DeleteInstance", Rate: 0.1, Burst: 1, Code: "L-B9220F3B", Adjustable: true},
	{Op: "ClaimPhoneNumber", Rate: 2, Burst: 5, Code: "L-21385E28", Adjustable: true},
	{Op: "CreateUser", Rate: 2, Burst: 5, Code: "L-CBDEE3E4", Adjustable: true},

	// Contact Lens.
	{Op: "ListRealtimeContactAnalysisSegments", Rate: 1, Burst: 2, Adjustable: true, BurstVerified: true},

	// Participant Service (per instance).
	{Op: "CreateParticipantConnection", Rate: 6, Burst: 9, Adjustable: true, BurstVerified: true, Scope: ScopeInstance, Service: "connectparticipant"},
	{Op: "DisconnectParticipant", Rate: 3, Burst: 5, Adjustable: true, BurstVerified: true, Scope: ScopeInstance, Service: "connectparticipant"},
	{Op: "GetTranscript", Rate: 8, Burst: 12, Adjustable: true, BurstVerified: true, Scope: ScopeInstance, Service: "connectparticipant"},
	{Op: "SendEvent", Rate: 10, Burst: 15, Adjustable: true, BurstVerified: true, Scope: ScopeInstance, Service: "connectparticipant"},
	{Op: "SendMessage", Rate: 10, Burst: 15, Adjustable: true, BurstVerified: true, Scope: ScopeInstance, Service: "connectparticipant"},

	// Outbound Campaigns. The TPS of PutDialRequestBatch is not published;
	// the campaigns default of 2/s burst 5 is used.
	{Op: "PutDialRequestBatch", Rate: 2, Burst: 5, Adjustable: true, Service: "connect-campaigns"},
}

// Resource quota names used across Tollgate.
const (
	InstancesPerAccount       = "instances-per-account"
	ConcurrentActiveCalls     = "concurrent-active-calls"
	ConcurrentActiveChats     = "concurrent-active-chats"
	ConcurrentActiveTasks     = "concurrent-active-tasks"
	ConcurrentCampaignCalls   = "concurrent-campaign-calls"
	UsersPerInstance          = "users-per-instance"
	PhoneNumbersPerInstance   = "phone-numbers-per-instance"
	QueuesPerInstance         = "queues-per-instance"
	RoutingProfilesPerInst    = "routing-profiles-per-instance"
	ContactFlowsPerInstance   = "contact-flows-per-instance"
	HoursOfOperationPerInst   = "hours-of-operation-per-instance"
	QuickConnectsPerInstance  = "quick-connects-per-instance"
	SecurityProfilesPerInst   = "security-profiles-per-instance"
	CampaignsPerInstance      = "campaigns-per-instance"
	TasksPerPreviousContactID = "tasks-per-previous-contact"
)

var defaultResources = []Resource{
	{Name: InstancesPerAccount, Title: "Amazon Connect instances per account", Code: "L-AA17A6B9", Default: 2, Scope: ScopeAccount, Adjustable: true},
	{Name: ConcurrentActiveCalls, Title: "Concurrent active calls per instance", Code: "L-12AB7C57", Default: 10, Scope: ScopeInstance, Adjustable: true,
		Note: "beyond it real Connect plays a reorder (fast-busy) tone to the contact; it is not an API error"},
	{Name: ConcurrentActiveChats, Title: "Concurrent active chats per instance", Code: "L-D4BA6F6E", Default: 500, Scope: ScopeInstance, Adjustable: true,
		Note: "StartChatContact fails with LimitExceededException (429)"},
	{Name: ConcurrentActiveTasks, Title: "Concurrent active tasks per instance", Code: "L-60553137", Default: 2500, Scope: ScopeInstance, Adjustable: true,
		Note: "StartTaskContact fails with ServiceQuotaExceededException (402)"},
	{Name: ConcurrentCampaignCalls, Title: "Concurrent campaign active calls per instance", Code: "L-E908C3A1", Default: 0, Scope: ScopeInstance, Adjustable: true},
	{Name: UsersPerInstance, Title: "Users per instance", Code: "L-9A46857E", Default: 500, Scope: ScopeInstance, Adjustable: true},
	{Name: PhoneNumbersPerInstance, Title: "Phone numbers per instance", Code: "L-8F812903", Default: 5, Scope: ScopeInstance, Adjustable: true},
	{Name: QueuesPerInstance, Title: "Queues per instance", Code: "L-19A87C94", Default: 50, Scope: ScopeInstance, Adjustable: true},
	{Name: RoutingProfilesPerInst, Title: "Routing profiles per instance", Code: "L-D3E7BE26", Default: 500, Scope: ScopeInstance, Adjustable: true},
	{Name: ContactFlowsPerInstance, Title: "Contact flows per instance", Code: "L-22922690", Default: 100, Scope: ScopeInstance, Adjustable: true},
	{Name: HoursOfOperationPerInst, Title: "Hours of operation per instance", Default: 100, Scope: ScopeInstance, Adjustable: true},
	{Name: QuickConnectsPerInstance, Title: "Quick connects per instance", Default: 100, Scope: ScopeInstance, Adjustable: true},
	{Name: SecurityProfilesPerInst, Title: "Security profiles per instance", Default: 100, Scope: ScopeInstance, Adjustable: true},
	{Name: CampaignsPerInstance, Title: "Amazon Connect campaigns", Code: "L-7F7B4C39", Default: 25, Scope: ScopeInstance, Adjustable: true},
	{Name: TasksPerPreviousContactID, Title: "Tasks referencing the same PreviousContactId", Default: 12, Scope: ScopeInstance, Adjustable: false},
}
