package audit

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
)

// Tags read from Lambda functions.
const (
	// TagOptIn set to "true" makes a function a Connect caller whatever its
	// role says (e.g. it calls Connect through another account's role).
	TagOptIn = "tollgate:audit"
	// TagOperations lists the Connect operations the function calls,
	// comma-separated; sizing rules use the slowest of them.
	TagOperations = "tollgate:operations"
	// TagCallsPerInvocation is how many Connect calls one invocation makes.
	TagCallsPerInvocation = "tollgate:calls-per-invocation"
)

// Rule ids.
const (
	RuleSQSNoDLQ             = "SQS_NO_DLQ"
	RuleSQSVisibility        = "SQS_VISIBILITY_TIMEOUT"
	RuleESMNoMaxConcurrency  = "ESM_NO_MAX_CONCURRENCY"
	RuleESMOversized         = "ESM_OVERSIZED"
	RuleESMAboveReserved     = "ESM_ABOVE_RESERVED_CONCURRENCY"
	RuleAsyncNoFailureDest   = "ASYNC_NO_FAILURE_DESTINATION"
	RuleAsyncUnbounded       = "ASYNC_UNBOUNDED_RETRY"
	RulePollerTooFast        = "POLLER_TOO_FAST"
	RuleConnectFlowLogsOff   = "CONNECT_FLOW_LOGS_OFF"
	RuleNoManagementTrail    = "CLOUDTRAIL_NO_MANAGEMENT_TRAIL"
	RuleIncomplete           = "AUDIT_INCOMPLETE"
	maxVisibilityTimeout     = 43200
	maxMaximumConcurrency    = 1000
	minMaximumConcurrency    = 2
	defaultLambdaEventAgeMax = 21600
)

// Options tune the rules. The zero value means every default.
type Options struct {
	// Table gives each Connect operation's rate; nil means quotas.Default().
	Table *quotas.Table
	// VisibilityFactor: a queue's VisibilityTimeout must be at least this
	// many times its consumer's timeout. 0 means 6.
	VisibilityFactor int
	// MaxEventAge is the longest an async event may wait for a retry, in
	// seconds. 0 means 3600.
	MaxEventAge int32
	// PollerShare is the share of an operation's rate one scheduled poller
	// may use, leaving the rest for agent-facing callers. 0 means 0.5.
	PollerShare float64
	// MaxReceiveCount is the receive count the DLQ fix sets. 0 means 5.
	MaxReceiveCount int
}

func (o Options) withDefaults() Options {
	if o.Table == nil {
		o.Table = quotas.Default()
	}
	if o.VisibilityFactor == 0 {
		o.VisibilityFactor = 6
	}
	if o.MaxEventAge == 0 {
		o.MaxEventAge = 3600
	}
	if o.PollerShare == 0 {
		o.PollerShare = 0.5
	}
	if o.MaxReceiveCount == 0 {
		o.MaxReceiveCount = 5
	}
	return o
}

// Check runs every rule over inv and returns the report, findings worst
// first.
func Check(inv *Inventory, o Options) *Report {
	o = o.withDefaults()
	c := &checker{inv: inv, o: o}
	for i := range inv.Functions {
		f := &inv.Functions[i]
		if !f.Caller {
			continue
		}
		c.rep.Summary.Callers++
		c.mappings(f)
		c.async(f)
	}
	c.pollers()
	c.instances()
	c.trails()
	c.gaps()
	r := &c.rep
	r.Region, r.Account = inv.Region, inv.Account
	r.Summary.Functions = len(inv.Functions)
	r.Summary.Queues = len(inv.Queues)
	r.Summary.Schedules = len(inv.Schedules)
	r.Summary.Instances = len(inv.Instances)
	r.Summary.Trails = len(inv.Trails)
	for i := range r.Findings {
		fx := &r.Findings[i].Fix
		for _, cmd := range fx.Commands {
			fx.CLI = append(fx.CLI, CommandLine(cmd, inv.Region, inv.Endpoints))
		}
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Resource < b.Resource
	})
	return r
}

type checker struct {
	inv *Inventory
	o   Options
	rep Report
}

func (c *checker) add(f Finding) { c.rep.Findings = append(c.rep.Findings, f) }

// budget is the Connect rate a function's calls must fit in, the
// operation it comes from, the calls per invocation, and what was assumed.
func (c *checker) budget(f *Function) (rate float64, op string, calls int, assumed []string) {
	calls = 1
	if v, ok := f.Tags[TagCallsPerInvocation]; ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			calls = n
		}
	} else {
		assumed = append(assumed, fmt.Sprintf("one Connect call per invocation (tag %s not set)", TagCallsPerInvocation))
	}
	var ops []string
	if v, ok := f.Tags[TagOperations]; ok {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				ops = append(ops, s)
			}
		}
	}
	if len(ops) == 0 {
		ops = f.ExactOps
		if len(ops) > 0 {
			assumed = append(assumed, fmt.Sprintf("the function calls every operation its role grants by name (%s; tag %s not set)", strings.Join(ops, ", "), TagOperations))
		}
	}
	if len(ops) == 0 {
		assumed = append(assumed, fmt.Sprintf("the function calls an operation at the default Connect rate of %g/s (role grants only wildcards; tag %s not set)", quotas.DefaultRate, TagOperations))
		return quotas.DefaultRate, "(default)", calls, assumed
	}
	rate = math.Inf(1)
	for _, name := range ops {
		a, _ := c.o.Table.API(name)
		if a.Rate < rate {
			rate, op = a.Rate, name
		}
	}
	return rate, op, calls, assumed
}

func (c *checker) mappings(f *Function) {
	for _, m := range f.Mappings {
		if !strings.HasPrefix(m.SourceARN, "arn:aws:sqs:") && !strings.Contains(m.SourceARN, ":sqs:") {
			continue
		}
		c.rep.Summary.Mappings++
		if q, ok := c.inv.Queues[m.SourceARN]; ok {
			c.queue(f, q)
		}
		rate, op, calls, assumed := c.budget(f)
		allowed := int(math.Floor(rate/float64(calls) + 1e-9))
		target := min(max(allowed, minMaximumConcurrency), maxMaximumConcurrency)
		assumption := strings.Join(append(assumed, "each invocation lasts at least 1 s, so Connect calls/s ≤ MaximumConcurrency × calls per invocation"), "; ")
		fix := Fix{
			Commands:       []Command{{"lambda", []string{"update-event-source-mapping", "--uuid", m.UUID, "--scaling-config", fmt.Sprintf("MaximumConcurrency=%d", target)}}},
			CloudFormation: "AWS::Lambda::EventSourceMapping ScalingConfig.MaximumConcurrency",
			Terraform:      "aws_lambda_event_source_mapping.scaling_config.maximum_concurrency",
		}
		if allowed < minMaximumConcurrency {
			fix.Note = fmt.Sprintf("%s allows %.3g calls/s, below what 2 concurrent invocations (the least MaximumConcurrency) make; pace the calls inside the function (tollgate's governor) or lower %s", op, rate, TagCallsPerInvocation)
		}
		switch {
		case m.MaxConcurrency == nil:
			c.add(Finding{
				Rule: RuleESMNoMaxConcurrency, Severity: High, Resource: "event-source-mapping:" + m.UUID + " (" + f.Name + ")",
				Reason:     "Without a concurrency cap the SQS poller scales the consumer up to the account's Lambda concurrency, and every extra invocation is another Connect caller draining the same bucket and retrying into it.",
				Evidence:   Evidence{"ScalingConfig.MaximumConcurrency", "not set", fmt.Sprintf("≤ %d (%s %.3g/s ÷ %d call(s) per invocation)", max(allowed, minMaximumConcurrency), op, rate, calls)},
				Assumption: assumption, Fix: fix,
			})
		case int(*m.MaxConcurrency) > max(allowed, minMaximumConcurrency):
			c.add(Finding{
				Rule: RuleESMOversized, Severity: High, Resource: "event-source-mapping:" + m.UUID + " (" + f.Name + ")",
				Reason:     "A concurrency cap above the operation's quota lets the consumers call Connect faster than the bucket refills, so the surplus turns into throttles and retries instead of work.",
				Evidence:   Evidence{"ScalingConfig.MaximumConcurrency", fmt.Sprintf("%d (%d × %d call(s) = %d calls/s)", *m.MaxConcurrency, *m.MaxConcurrency, calls, int(*m.MaxConcurrency)*calls), fmt.Sprintf("≤ %d (%s allows %.3g/s)", max(allowed, minMaximumConcurrency), op, rate)},
				Assumption: assumption, Fix: fix,
			})
		}
		if m.MaxConcurrency != nil && f.ReservedConcurrency != nil && *m.MaxConcurrency > *f.ReservedConcurrency {
			c.add(Finding{
				Rule: RuleESMAboveReserved, Severity: Medium, Resource: "event-source-mapping:" + m.UUID + " (" + f.Name + ")",
				Reason:   "When the mapping may run more copies than the function's reserved concurrency, Lambda throttles the poller's invocations and messages bounce back to the queue and towards the DLQ without ever reaching Connect.",
				Evidence: Evidence{"ScalingConfig.MaximumConcurrency", fmt.Sprintf("%d (reserved concurrency %d)", *m.MaxConcurrency, *f.ReservedConcurrency), fmt.Sprintf("≤ %d", *f.ReservedConcurrency)},
				Fix: Fix{
					Commands:       []Command{{"lambda", []string{"update-event-source-mapping", "--uuid", m.UUID, "--scaling-config", fmt.Sprintf("MaximumConcurrency=%d", max(*f.ReservedConcurrency, minMaximumConcurrency))}}},
					CloudFormation: "AWS::Lambda::EventSourceMapping ScalingConfig.MaximumConcurrency (or AWS::Lambda::Function ReservedConcurrentExecutions)",
					Terraform:      "aws_lambda_event_source_mapping.scaling_config.maximum_concurrency (or aws_lambda_function.reserved_concurrent_executions)",
				},
			})
		}
	}
}

func (c *checker) queue(f *Function, q Queue) {
	if q.RedriveTarget == "" {
		dlqName := trimName(q.Name, ".fifo", "-dlq")
		attrs := []string{"--queue-name", dlqName, "--attributes"}
		if q.FIFO {
			attrs = append(attrs, "FifoQueue=true,MessageRetentionPeriod=1209600")
		} else {
			attrs = append(attrs, "MessageRetentionPeriod=1209600")
		}
		dlqARN := strings.TrimSuffix(q.ARN, q.Name) + dlqName
		redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": dlqARN, "maxReceiveCount": strconv.Itoa(c.o.MaxReceiveCount)})
		attrJSON, _ := json.Marshal(map[string]string{"RedrivePolicy": string(redrive)})
		c.add(Finding{
			Rule: RuleSQSNoDLQ, Severity: High, Resource: q.ARN,
			Reason:   "A message that keeps failing because Connect keeps throttling or a quota is exhausted must end somewhere it can be inspected and redriven, not vanish when the retention period runs out.",
			Evidence: Evidence{"RedrivePolicy", "not set (queue feeds " + f.Name + ")", fmt.Sprintf("deadLetterTargetArn set, maxReceiveCount %d", c.o.MaxReceiveCount)},
			Fix: Fix{
				Commands: []Command{
					{"sqs", append([]string{"create-queue"}, attrs...)},
					{"sqs", []string{"set-queue-attributes", "--queue-url", q.URL, "--attributes", string(attrJSON)}},
				},
				CloudFormation: "AWS::SQS::Queue RedrivePolicy (deadLetterTargetArn, maxReceiveCount)",
				Terraform:      "aws_sqs_queue.redrive_policy",
			},
		})
	}
	want := c.o.VisibilityFactor * int(f.Timeout)
	if q.VisibilityTimeout < want {
		set := min(want, maxVisibilityTimeout)
		c.add(Finding{
			Rule: RuleSQSVisibility, Severity: High, Resource: q.ARN,
			Reason:   "A consumer slowed down by throttling retries can still be running when the message becomes visible again, so a second consumer repeats the same Connect call (a second outbound call to the same customer).",
			Evidence: Evidence{"VisibilityTimeout", fmt.Sprintf("%d s (consumer %s timeout %d s)", q.VisibilityTimeout, f.Name, f.Timeout), fmt.Sprintf("≥ %d s (%d × %d s)", want, c.o.VisibilityFactor, f.Timeout)},
			Fix: Fix{
				Commands:       []Command{{"sqs", []string{"set-queue-attributes", "--queue-url", q.URL, "--attributes", fmt.Sprintf("VisibilityTimeout=%d", set)}}},
				CloudFormation: "AWS::SQS::Queue VisibilityTimeout",
				Terraform:      "aws_sqs_queue.visibility_timeout_seconds",
			},
		})
	}
}

// trimName derives a resource name: base without suffix, plus add, plus
// suffix again, within SQS's 80-character limit.
func trimName(name, suffix, add string) string {
	base := name
	keep := ""
	if strings.HasSuffix(base, suffix) {
		base, keep = strings.TrimSuffix(base, suffix), suffix
	}
	if n := 80 - len(add) - len(keep); len(base) > n {
		base = base[:n]
	}
	return base + add + keep
}

func (c *checker) async(f *Function) {
	if len(f.AsyncSources) == 0 {
		return
	}
	sources := strings.Join(f.AsyncSources, ", ")
	roleName := f.Role[strings.LastIndex(f.Role, "/")+1:]
	failName := trimName(f.Name, "", "-async-failures")
	failARN := "arn:aws:sqs:" + c.inv.Region + ":" + c.inv.Account + ":" + failName
	if parts := strings.Split(f.ARN, ":"); len(parts) > 4 {
		failARN = "arn:aws:sqs:" + parts[3] + ":" + parts[4] + ":" + failName
	}
	retries := int32(2)
	if f.Async != nil && f.Async.MaxRetries != nil {
		retries = *f.Async.MaxRetries
	}
	age := c.o.MaxEventAge
	if f.Async != nil && f.Async.MaxEventAge != nil && *f.Async.MaxEventAge <= c.o.MaxEventAge {
		age = *f.Async.MaxEventAge
	}
	dest := ""
	if f.Async != nil {
		dest = f.Async.OnFailure
	}
	noDest := dest == "" && f.DeadLetterTarget == ""
	if noDest {
		dest = failARN
	}
	destCfg := map[string]map[string]string{}
	if dest != "" {
		destCfg["OnFailure"] = map[string]string{"Destination": dest}
	}
	if f.Async != nil && f.Async.OnSuccess != "" {
		destCfg["OnSuccess"] = map[string]string{"Destination": f.Async.OnSuccess}
	}
	destJSON, _ := json.Marshal(destCfg)
	sendPolicy, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": failARN}}})
	// Both async rules write the same complete configuration (put replaces
	// the whole of it, keeping what was right), so the plan runs it once
	// whichever rules fired.
	put := []string{"put-function-event-invoke-config", "--function-name", f.Name,
		"--maximum-retry-attempts", strconv.Itoa(int(retries)), "--maximum-event-age-in-seconds", strconv.Itoa(int(age))}
	if len(destCfg) > 0 {
		put = append(put, "--destination-config", string(destJSON))
	}
	var cmds []Command
	if noDest {
		cmds = []Command{
			{"sqs", []string{"create-queue", "--queue-name", failName, "--attributes", "MessageRetentionPeriod=1209600"}},
			{"iam", []string{"put-role-policy", "--role-name", roleName, "--policy-name", "tollgate-async-failures", "--policy-document", string(sendPolicy)}},
		}
	}
	cmds = append(cmds, Command{"lambda", put})
	if noDest {
		c.add(Finding{
			Rule: RuleAsyncNoFailureDest, Severity: High, Resource: f.ARN,
			Reason:   "An asynchronous event whose retries are all throttled is dropped silently unless an on-failure destination or dead-letter queue keeps it for replay.",
			Evidence: Evidence{"DestinationConfig.OnFailure / DeadLetterConfig", "neither set (invoked asynchronously by " + sources + ")", "an SQS, SNS, Lambda or EventBridge on-failure destination"},
			Fix: Fix{
				Commands:       cmds,
				CloudFormation: "AWS::Lambda::EventInvokeConfig DestinationConfig.OnFailure.Destination (or AWS::Lambda::Function DeadLetterConfig.TargetArn)",
				Terraform:      "aws_lambda_function_event_invoke_config.destination_config.on_failure.destination (or aws_lambda_function.dead_letter_config.target_arn)",
			},
		})
	}
	var found []string
	switch {
	case f.Async == nil:
		found = append(found, "no event invoke configuration (Lambda defaults: 2 retries, events kept 6 h)")
	default:
		if f.Async.MaxRetries == nil {
			found = append(found, "MaximumRetryAttempts not set (2)")
		}
		if f.Async.MaxEventAge == nil {
			found = append(found, fmt.Sprintf("MaximumEventAgeInSeconds not set (%d)", defaultLambdaEventAgeMax))
		} else if *f.Async.MaxEventAge > c.o.MaxEventAge {
			found = append(found, fmt.Sprintf("MaximumEventAgeInSeconds %d", *f.Async.MaxEventAge))
		}
	}
	if len(found) == 0 {
		return
	}
	c.add(Finding{
		Rule: RuleAsyncUnbounded, Severity: Medium, Resource: f.ARN,
		Reason:   "Retries left at Lambda's defaults keep replaying a throttled event for hours, each replay spending the same Connect quota the live traffic needs, so the retry count and event age must be set on purpose.",
		Evidence: Evidence{"MaximumRetryAttempts / MaximumEventAgeInSeconds", strings.Join(found, "; ") + " (invoked asynchronously by " + sources + ")", fmt.Sprintf("both set, MaximumEventAgeInSeconds ≤ %d", c.o.MaxEventAge)},
		Fix: Fix{
			Commands:       cmds,
			CloudFormation: "AWS::Lambda::EventInvokeConfig MaximumRetryAttempts, MaximumEventAgeInSeconds",
			Terraform:      "aws_lambda_function_event_invoke_config.maximum_retry_attempts, .maximum_event_age_in_seconds",
		},
	})
}

func (c *checker) pollers() {
	byARN := map[string]*Function{}
	for i := range c.inv.Functions {
		byARN[c.inv.Functions[i].ARN] = &c.inv.Functions[i]
	}
	for _, s := range c.inv.Schedules {
		f := byARN[s.TargetARN]
		if f == nil || !f.Caller || strings.EqualFold(s.State, "DISABLED") {
			continue
		}
		every, ok, err := Interval(s.Expression)
		if err != nil || !ok {
			continue
		}
		rate, op, calls, assumed := c.budget(f)
		allowedRate := rate * c.o.PollerShare
		callRate := float64(calls) / every.Seconds()
		if callRate <= allowedRate+1e-9 && every >= time.Minute {
			continue
		}
		need := time.Duration(math.Ceil(float64(calls)/allowedRate)) * time.Second
		expr := rateExpr(max(need, time.Minute))
		var cmd Command
		res := s.Name
		switch s.Kind {
		case KindRule:
			res = "events rule " + s.Name
			cmd = Command{"events", []string{"put-rule", "--name", s.Name, "--schedule-expression", expr, "--state", "ENABLED"}}
		default:
			res = "scheduler schedule " + s.Group + "/" + s.Name
			target := map[string]string{"Arn": s.TargetARN, "RoleArn": s.RoleARN}
			if s.Input != "" {
				target["Input"] = s.Input
			}
			tj, _ := json.Marshal(target)
			flex := "Mode=OFF"
			if s.FlexMode == "FLEXIBLE" {
				flex = fmt.Sprintf("Mode=FLEXIBLE,MaximumWindowInMinutes=%d", s.FlexWindow)
			}
			cmd = Command{"scheduler", []string{"update-schedule", "--name", s.Name, "--group-name", s.Group, "--schedule-expression", expr, "--flexible-time-window", flex, "--target", string(tj)}}
		}
		c.add(Finding{
			Rule: RulePollerTooFast, Severity: High, Resource: res,
			Reason: "A scheduled poller that fires more often than its operation's quota allows crowds out the callers that serve live contacts, so it must run no faster than its share of the bucket.",
			Evidence: Evidence{"ScheduleExpression", fmt.Sprintf("%s (every %s → %d call(s) to %s per run = %.3g calls/s)", s.Expression, every, calls, op, callRate),
				fmt.Sprintf("%s or slower (≤ %.3g calls/s: %.0f%% of %s's %.3g/s; AWS schedules run at most once a minute)", expr, allowedRate, c.o.PollerShare*100, op, rate)},
			Assumption: strings.Join(append(assumed, fmt.Sprintf("a poller may use %.0f%% of the operation's rate", c.o.PollerShare*100)), "; "),
			Fix: Fix{
				Commands:       []Command{cmd},
				CloudFormation: map[string]string{KindRule: "AWS::Events::Rule ScheduleExpression", KindSchedule: "AWS::Scheduler::Schedule ScheduleExpression"}[s.Kind],
				Terraform:      map[string]string{KindRule: "aws_cloudwatch_event_rule.schedule_expression", KindSchedule: "aws_scheduler_schedule.schedule_expression"}[s.Kind],
			},
		})
	}
}

func (c *checker) instances() {
	for _, in := range c.inv.Instances {
		if in.FlowLogs == nil || *in.FlowLogs {
			continue
		}
		name := in.ID
		if in.Alias != "" {
			name = in.Alias + " (" + in.ID + ")"
		}
		c.add(Finding{
			Rule: RuleConnectFlowLogsOff, Severity: Medium, Resource: "connect instance " + name,
			Reason:   "Without contact flow logs in CloudWatch there is no record of which flow blocks and Lambda calls failed during a throttling incident, so it cannot be diagnosed afterwards.",
			Evidence: Evidence{"CONTACTFLOW_LOGS", "false", "true"},
			Fix: Fix{
				Commands:       []Command{{"connect", []string{"update-instance-attribute", "--instance-id", in.ID, "--attribute-type", "CONTACTFLOW_LOGS", "--value", "true"}}},
				CloudFormation: "AWS::Connect::Instance Attributes.ContactflowLogs",
				Terraform:      "aws_connect_instance.contact_flow_logs_enabled",
			},
		})
	}
}

// coversRegion reports whether t records management events in region.
func (t Trail) coversRegion(region string) bool {
	return t.MultiRegion || t.HomeRegion == "" || t.HomeRegion == region
}

func (c *checker) trails() {
	if !c.inv.Checked[CheckTrails] {
		return
	}
	var states []string
	var candidate *Trail
	for i, t := range c.inv.Trails {
		if !t.coversRegion(c.inv.Region) {
			continue
		}
		if t.Logging && t.ManagementEvents && (t.ReadWrite == "All" || t.ReadWrite == "") {
			return
		}
		states = append(states, fmt.Sprintf("%s: logging=%v, management events=%v, %s", t.Name, t.Logging, t.ManagementEvents, t.ReadWrite))
		if candidate == nil {
			candidate = &c.inv.Trails[i]
		}
	}
	fix := Fix{
		CloudFormation: "AWS::CloudTrail::Trail IsLogging, EventSelectors[].IncludeManagementEvents, ReadWriteType: All",
		Terraform:      "aws_cloudtrail.enable_logging, event_selector.include_management_events, event_selector.read_write_type",
	}
	found := "no trail covers " + c.inv.Region
	if candidate != nil {
		found = strings.Join(states, "; ")
		if !candidate.ManagementEvents || (candidate.ReadWrite != "All" && candidate.ReadWrite != "") {
			fix.Commands = append(fix.Commands, Command{"cloudtrail", []string{"put-event-selectors", "--trail-name", candidate.Name, "--event-selectors", `[{"ReadWriteType":"All","IncludeManagementEvents":true}]`}})
		}
		if !candidate.Logging {
			fix.Commands = append(fix.Commands, Command{"cloudtrail", []string{"start-logging", "--name", candidate.Name}})
		}
	} else {
		account := c.inv.Account
		bucket := "tollgate-trail-" + account + "-" + c.inv.Region
		policy, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{
			{"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": map[string]string{"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::" + bucket},
			{"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": map[string]string{"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::" + bucket + "/AWSLogs/" + account + "/*", "Condition": map[string]any{"StringEquals": map[string]string{"s3:x-amz-acl": "bucket-owner-full-control"}}},
		}})
		create := []string{"create-bucket", "--bucket", bucket}
		if c.inv.Region != "us-east-1" {
			create = append(create, "--create-bucket-configuration", "LocationConstraint="+c.inv.Region)
		}
		fix.Commands = []Command{
			{"s3api", create},
			{"s3api", []string{"put-bucket-policy", "--bucket", bucket, "--policy", string(policy)}},
			{"cloudtrail", []string{"create-trail", "--name", "tollgate-management-events", "--s3-bucket-name", bucket, "--is-multi-region-trail"}},
			{"cloudtrail", []string{"start-logging", "--name", "tollgate-management-events"}},
		}
		fix.Note = "a new multi-Region trail delivering to a new S3 bucket; the first copy of management events in each Region is free, S3 storage is not"
	}
	c.add(Finding{
		Rule: RuleNoManagementTrail, Severity: Medium, Resource: "cloudtrail (" + c.inv.Region + ")",
		Reason:   "Throttled Connect calls show up only in CloudTrail management events, so without a logging trail that records them nobody can tell afterwards which caller drained which bucket.",
		Evidence: Evidence{"trails logging read and write management events", found, "at least one logging trail covering " + c.inv.Region + " with IncludeManagementEvents and ReadWriteType All"},
		Fix:      fix,
	})
}

func (c *checker) gaps() {
	for _, g := range c.inv.Gaps {
		c.rep.Partial = true
		reason := fmt.Sprintf("could not check %s (needs %s)", g.What, g.Action)
		if !g.Denied {
			reason = fmt.Sprintf("could not check %s (%s failed)", g.What, g.Action)
		}
		c.add(Finding{
			Rule: RuleIncomplete, Severity: Low, Resource: g.Service,
			Reason:   reason,
			Evidence: Evidence{"permission", g.Err, g.Action},
			Fix: Fix{
				CloudFormation: "AWS::IAM::ManagedPolicy PolicyDocument (add " + g.Action + ")",
				Terraform:      "aws_iam_policy.policy (add " + g.Action + ")",
				Note:           "grant the audit's read-only policy: tollgate audit --print-policy",
			},
		})
	}
}
