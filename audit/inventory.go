package audit

// Inventory is what was read from one account and Region.
type Inventory struct {
	Region  string
	Account string

	Functions []Function        // every function read; Caller marks the checked ones
	Queues    map[string]Queue  // SQS queues feeding callers, by ARN
	Schedules []Schedule        // EventBridge rules and Scheduler schedules targeting callers
	Instances []Instance        // Connect instances
	Trails    []Trail           // CloudTrail trails
	Checked   map[string]bool   // Check* keys of the parts that were read completely
	Gaps      []Gap             // what could not be read
	Endpoints map[string]string // service → endpoint URL the audit used ("" = AWS default); fix commands use it too
}

// Keys of Inventory.Checked.
const (
	CheckFunctions = "functions"
	CheckRoles     = "roles"
	CheckMappings  = "mappings"
	CheckQueues    = "queues"
	CheckAsync     = "async"
	CheckRules     = "rules"
	CheckSchedules = "schedules"
	CheckInstances = "instances"
	CheckTrails    = "trails"
)

// Gap is a part of the account that could not be read, e.g. for lack of a
// permission. It becomes a low-severity finding and makes the report
// partial.
type Gap struct {
	Service string // e.g. "scheduler"
	What    string // what could not be checked, e.g. "Scheduler schedules"
	Action  string // the IAM action that was refused, e.g. "scheduler:ListSchedules"
	Err     string // the error, as the SDK reported it
	Denied  bool   // the error was a refused permission
}

// Function is one Lambda function.
type Function struct {
	Name    string
	ARN     string
	Role    string // execution role ARN
	Timeout int32  // seconds
	// ReservedConcurrency is the function's reserved concurrency; nil when
	// none is set.
	ReservedConcurrency *int32
	Tags                map[string]string
	DeadLetterTarget    string // DeadLetterConfig.TargetArn

	// ConnectOps are the Connect operations the role may call, sorted.
	ConnectOps []string
	// ExactOps are the operations granted by name (no wildcard).
	ExactOps []string
	// Caller is true when the function may call Connect or is opted in.
	Caller bool

	Mappings []Mapping // event source mappings
	// AsyncSources name what invokes the function asynchronously: an
	// EventBridge rule, a Scheduler schedule or a service principal in the
	// function's resource policy (s3.amazonaws.com, sns.amazonaws.com, …).
	AsyncSources []string
	// Async is the function's event invoke configuration; nil when none.
	Async *AsyncConfig
}

// AsyncConfig is a function's event invoke configuration.
type AsyncConfig struct {
	MaxRetries  *int32 // MaximumRetryAttempts; nil: not set (Lambda uses 2)
	MaxEventAge *int32 // MaximumEventAgeInSeconds; nil: not set (Lambda uses 21600)
	OnFailure   string // DestinationConfig.OnFailure.Destination
	OnSuccess   string
}

// Mapping is one event source mapping.
type Mapping struct {
	UUID           string
	SourceARN      string
	State          string
	BatchSize      int32
	MaxConcurrency *int32 // ScalingConfig.MaximumConcurrency; nil when not set
	Function       string // the function ARN, unqualified
}

// Queue is one SQS queue.
type Queue struct {
	ARN               string
	URL               string
	Name              string
	VisibilityTimeout int    // seconds
	RedriveTarget     string // RedrivePolicy.deadLetterTargetArn; "" when none
	MaxReceiveCount   int
	FIFO              bool
}

// Schedule kinds.
const (
	KindRule     = "eventbridge-rule"
	KindSchedule = "scheduler-schedule"
)

// Schedule is an EventBridge scheduled rule or an EventBridge Scheduler
// schedule with a Lambda target.
type Schedule struct {
	Kind       string // KindRule or KindSchedule
	Name       string
	Group      string // Scheduler group
	Expression string // rate(…), cron(…) or at(…)
	State      string
	TargetARN  string // the function ARN, unqualified
	RoleARN    string // Scheduler target role
	Input      string // Scheduler target input
	FlexMode   string // Scheduler FlexibleTimeWindow.Mode
	FlexWindow int32  // Scheduler FlexibleTimeWindow.MaximumWindowInMinutes
}

// Instance is one Amazon Connect instance.
type Instance struct {
	ID       string
	ARN      string
	Alias    string
	FlowLogs *bool // CONTACTFLOW_LOGS; nil when it could not be read
}

// Trail is one CloudTrail trail.
type Trail struct {
	Name        string
	ARN         string
	HomeRegion  string
	MultiRegion bool
	Logging     bool
	// ManagementEvents says whether the trail's selectors record management
	// events; ReadWrite is the recorded kind: "All", "ReadOnly" or
	// "WriteOnly".
	ManagementEvents bool
	ReadWrite        string
}
