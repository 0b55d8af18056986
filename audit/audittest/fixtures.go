package audittest

import (
	"testing"
)

// Want is one expected finding: its rule and a string its Resource
// contains.
type Want struct {
	Rule     string
	Resource string
}

// Tags on the pollers: 600 GetCurrentMetricData calls per run, far more
// than half of 5/s allows once a minute.
var pollerTags = map[string]string{"tollgate:calls-per-invocation": "600", "tollgate:operations": "GetCurrentMetricData"}

// BadAccount plants each rule's fault once and returns the findings that
// must come out, and nothing else:
//
//   - dlq-missing (opted in by tag, no Connect policy): its queue has no
//     RedrivePolicy;
//   - vis-short: timeout 30 s, queue VisibilityTimeout 60 s (< 180);
//   - no-maxconc: mapping without ScalingConfig;
//   - oversized: MaximumConcurrency 50 against StartOutboundVoiceContact's 2/s;
//   - async-nodest: async (EventBridge pattern rule), no on-failure destination;
//   - async-unbounded: async, MaximumEventAgeInSeconds 21600;
//   - poller-rate: Scheduler rate(1 minute), 600 calls a run;
//   - poller-cron: EventBridge cron(* * * * ? *), 600 calls a run;
//   - plain: every fault, but no Connect permission and no tag: ignored;
//   - the simulator's instance: CONTACTFLOW_LOGS false; no CloudTrail trail.
func BadAccount(t testing.TB, a *Account) []Want {
	t.Helper()
	caller := a.Role(t, "caller", "connect:StartOutboundVoiceContact", "connect:Describe*")
	plainRole := a.Role(t, "plain", "sqs:ReceiveMessage", "sqs:DeleteMessage")
	pollerRole := a.Role(t, "poller")
	a.AttachManaged(t, "poller", "metrics-read", "connect:GetCurrentMetricData")
	dest := a.Queue(t, "async-failures", 30, "")

	a.Function(t, "dlq-missing", plainRole, 10, map[string]string{"tollgate:audit": "true"})
	a.Mapping(t, "dlq-missing", a.Queue(t, "q-nodlq", 60, ""), 2)

	a.Function(t, "vis-short", caller, 30, nil)
	a.Mapping(t, "vis-short", a.Queue(t, "q-vis", 60, "q-vis-dlq"), 2)

	a.Function(t, "no-maxconc", caller, 10, nil)
	a.Mapping(t, "no-maxconc", a.Queue(t, "q-nomax", 60, "q-nomax-dlq"), 0)

	a.Function(t, "oversized", caller, 10, nil)
	a.Mapping(t, "oversized", a.Queue(t, "q-over", 60, "q-over-dlq"), 50)

	fn := a.Function(t, "async-nodest", caller, 10, nil)
	a.Rule(t, "s3-events-nodest", "", fn)
	a.AsyncConfig(t, "async-nodest", 1, 3600, "")

	fn = a.Function(t, "async-unbounded", caller, 10, nil)
	a.Rule(t, "s3-events-unbounded", "", fn)
	a.AsyncConfig(t, "async-unbounded", 1, 21600, dest)

	fn = a.Function(t, "poller-rate", pollerRole, 30, pollerTags)
	a.Schedule(t, "poller-rate", "rate(1 minute)", fn, pollerRole)
	a.AsyncConfig(t, "poller-rate", 1, 3600, dest)

	fn = a.Function(t, "poller-cron", pollerRole, 30, pollerTags)
	a.Rule(t, "poller-cron", "cron(* * * * ? *)", fn)
	a.AsyncConfig(t, "poller-cron", 1, 3600, dest)

	fn = a.Function(t, "plain", plainRole, 60, nil)
	a.Mapping(t, "plain", a.Queue(t, "q-plain", 10, ""), 0)
	a.Schedule(t, "plain-fast", "rate(1 minute)", fn, plainRole)

	a.FlowLogs(t, false)
	return []Want{
		{"SQS_NO_DLQ", ":q-nodlq"},
		{"SQS_VISIBILITY_TIMEOUT", ":q-vis"},
		{"ESM_NO_MAX_CONCURRENCY", "(no-maxconc)"},
		{"ESM_OVERSIZED", "(oversized)"},
		{"ASYNC_NO_FAILURE_DESTINATION", "function:async-nodest"},
		{"ASYNC_UNBOUNDED_RETRY", "function:async-unbounded"},
		{"POLLER_TOO_FAST", "scheduler schedule default/poller-rate"},
		{"POLLER_TOO_FAST", "events rule poller-cron"},
		{"CONNECT_FLOW_LOGS_OFF", a.InstanceID},
		{"CLOUDTRAIL_NO_MANAGEMENT_TRAIL", "cloudtrail"},
	}
}

// GoodAccount builds the same shapes with every setting right; it must
// produce no findings.
func GoodAccount(t testing.TB, a *Account) []Want {
	t.Helper()
	caller := a.Role(t, "caller", "connect:StartOutboundVoiceContact", "connect:Describe*")
	plainRole := a.Role(t, "plain")
	pollerRole := a.Role(t, "poller")
	a.AttachManaged(t, "poller", "metrics-read", "connect:GetCurrentMetricData")
	dest := a.Queue(t, "async-failures", 30, "")

	a.Function(t, "opted-in", plainRole, 10, map[string]string{"tollgate:audit": "true"})
	a.Mapping(t, "opted-in", a.Queue(t, "q-opted", 60, "q-opted-dlq"), 2)

	a.Function(t, "consumer", caller, 30, nil)
	a.Mapping(t, "consumer", a.Queue(t, "q-consumer", 180, "q-consumer-dlq"), 2)

	fn := a.Function(t, "async", caller, 10, nil)
	a.Rule(t, "s3-events", "", fn)
	a.AsyncConfig(t, "async", 1, 3600, dest)

	fn = a.Function(t, "poller", pollerRole, 30, map[string]string{"tollgate:calls-per-invocation": "600", "tollgate:operations": "GetCurrentMetricData"})
	a.Schedule(t, "poller", "rate(4 minutes)", fn, pollerRole)
	a.AsyncConfig(t, "poller", 1, 3600, dest)

	fn = a.Function(t, "poller-cron", pollerRole, 30, pollerTags)
	a.Rule(t, "poller-cron", "cron(0/5 * * * ? *)", fn)
	a.AsyncConfig(t, "poller-cron", 1, 3600, dest)

	a.Trail(t, "management")
	a.FlowLogs(t, true)
	return nil
}
