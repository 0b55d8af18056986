package collect

import (
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// ServiceQuota is the admission budget of one service's control-plane
// calls: an account-wide bucket shared by its operations and, optionally,
// per-operation buckets inside it.
type ServiceQuota struct {
	Service string             // SDK service id: lambda, iam, sqs, …
	Account ratelimit.Limit    // all operations together; zero: unlimited
	Ops     map[string]float64 // per-operation rate (burst = rate); nil: none
	Source  string             // where the numbers come from
}

// ControlPlane is the quota table the audit's calls are admitted by. AWS
// publishes some of these rates and not others; the ones marked assumed are
// conservative guesses (the audit only reads, so a low budget costs
// seconds, never correctness). Bursts are not published for any of them and
// are taken equal to the rate.
var ControlPlane = []ServiceQuota{
	// Lambda quotas page: "GetFunction API requests 100/s", "GetPolicy API
	// requests 15/s", "remainder of the control plane API requests
	// (excludes invocation, GetFunction and GetPolicy) 15/s". GetFunction
	// and GetPolicy go through their own client (service "lambda-get").
	{Service: "lambda", Account: ratelimit.Limit{Rate: 15, Burst: 15}, Source: "Lambda quotas: remainder of the control plane 15/s"},
	{Service: "lambda-get", Ops: map[string]float64{"GetFunction": 100, "GetPolicy": 15}, Source: "Lambda quotas: GetFunction 100/s, GetPolicy 15/s"},
	// IAM publishes no per-operation rates; assumed 10/s for the account.
	{Service: "iam", Account: ratelimit.Limit{Rate: 10, Burst: 10}, Source: "assumed (IAM publishes no rate)"},
	// SQS publishes no control-plane rate; assumed 100/s.
	{Service: "sqs", Account: ratelimit.Limit{Rate: 100, Burst: 100}, Source: "assumed (SQS publishes no control-plane rate)"},
	// EventBridge and Scheduler control-plane rates: assumed 20/s and 20/s
	// (their quota pages list PutEvents and schedule CRUD, not List calls).
	{Service: "eventbridge", Account: ratelimit.Limit{Rate: 20, Burst: 20}, Source: "assumed"},
	{Service: "scheduler", Account: ratelimit.Limit{Rate: 20, Burst: 20}, Source: "assumed"},
	// CloudTrail: assumed 5/s for Describe/Get calls.
	{Service: "cloudtrail", Account: ratelimit.Limit{Rate: 5, Burst: 5}, Source: "assumed"},
	{Service: "sts", Account: ratelimit.Limit{Rate: 10, Burst: 10}, Source: "assumed"},
	// Connect: the published per-operation table (package quotas); the
	// attribute calls get its "all other operations" 2/s, burst 5.
	{Service: "connect", Source: "package quotas (published Connect table)"},
}

// Calls lists, per governed client, the operations the audit calls. The
// read-only policy is built from it, and each operation gets its bucket.
var Calls = map[string][]string{
	"lambda":      {"ListFunctions", "ListEventSourceMappings", "GetFunctionEventInvokeConfig"},
	"lambda-get":  {"GetFunction", "GetPolicy"},
	"iam":         {"GetAccountAuthorizationDetails"},
	"sqs":         {"ListQueues", "GetQueueAttributes", "GetQueueUrl"},
	"eventbridge": {"ListRules", "ListTargetsByRule"},
	"scheduler":   {"ListSchedules", "GetSchedule"},
	"cloudtrail":  {"DescribeTrails", "GetTrailStatus", "GetEventSelectors"},
	"sts":         {"GetCallerIdentity"},
	"connect":     {"ListInstances", "DescribeInstanceAttribute"},
}

// iamPrefix maps a governed client to its IAM action prefix.
var iamPrefix = map[string]string{"lambda-get": "lambda", "eventbridge": "events"}

// Action returns the IAM action of operation op on client service.
func Action(service, op string) string {
	p := service
	if x, ok := iamPrefix[service]; ok {
		p = x
	}
	return p + ":" + op
}

// newGovernor returns a governor admitting calls by q. Connect uses the
// quotas table; other services list their operations in Ops, and every
// operation not listed is unlimited except for the account bucket.
func newGovernor(q ServiceQuota, table *quotas.Table, o governor.Options) *governor.Governor {
	h := ratelimit.HierarchyOptions{Account: q.Account}
	if q.Service == "connect" {
		h.Table = table
	} else {
		h.Table = &quotas.Table{}
		h.Ops = map[string]ratelimit.Limit{}
		for _, op := range Calls[q.Service] {
			h.Ops[op] = ratelimit.Limit{} // unlimited inside the account bucket
		}
		for op, r := range q.Ops {
			h.Ops[op] = ratelimit.Limit{Rate: r, Burst: r}
		}
	}
	return governor.New(ratelimit.NewHierarchy(h), o)
}
