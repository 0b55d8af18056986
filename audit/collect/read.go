package collect

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	ctypes "github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/tollgatehq/tollgate/audit"
)

type fnInfo struct {
	name, arn, role string
	timeout         int32
	dlq             string
}

type ruleInfo struct {
	name, expr, state string
	targets           []string // function ARNs, unqualified
}

type schedInfo struct {
	name, group, target string
}

func (c *collector) identity(ctx context.Context) {
	out, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		c.fail("sts", "GetCallerIdentity", "the account id", err)
		return
	}
	c.mu.Lock()
	c.inv.Account = aws.ToString(out.Account)
	c.mu.Unlock()
}

func (c *collector) functions(ctx context.Context) []fnInfo {
	var out []fnInfo
	p := lambda.NewListFunctionsPaginator(c.lambda, &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.fail("lambda", "ListFunctions", "Lambda functions", err)
			return nil
		}
		for _, f := range page.Functions {
			fi := fnInfo{name: aws.ToString(f.FunctionName), arn: aws.ToString(f.FunctionArn), role: aws.ToString(f.Role), timeout: aws.ToInt32(f.Timeout)}
			if f.DeadLetterConfig != nil {
				fi.dlq = aws.ToString(f.DeadLetterConfig.TargetArn)
			}
			out = append(out, fi)
		}
	}
	c.checked(audit.CheckFunctions)
	return out
}

// roles reads every role's inline and attached policy documents in one
// paginated call.
func (c *collector) roles(ctx context.Context) {
	docs := map[string][]audit.PolicyDocument{}
	managed := map[string]audit.PolicyDocument{}
	attached := map[string][]string{}
	p := iam.NewGetAccountAuthorizationDetailsPaginator(c.iam, &iam.GetAccountAuthorizationDetailsInput{
		Filter: []iamtypes.EntityType{iamtypes.EntityTypeRole, iamtypes.EntityTypeLocalManagedPolicy, iamtypes.EntityTypeAWSManagedPolicy},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.fail("iam", "GetAccountAuthorizationDetails", "execution role policies (which functions may call Connect)", err)
			return
		}
		for _, r := range page.RoleDetailList {
			arn := aws.ToString(r.Arn)
			for _, rp := range r.RolePolicyList {
				if d, err := audit.ParsePolicy(aws.ToString(rp.PolicyDocument)); err == nil {
					docs[arn] = append(docs[arn], d)
				}
			}
			for _, ap := range r.AttachedManagedPolicies {
				attached[arn] = append(attached[arn], aws.ToString(ap.PolicyArn))
			}
		}
		for _, mp := range page.Policies {
			for _, v := range mp.PolicyVersionList {
				if v.IsDefaultVersion {
					if d, err := audit.ParsePolicy(aws.ToString(v.Document)); err == nil {
						managed[aws.ToString(mp.Arn)] = d
					}
				}
			}
		}
	}
	for role, arns := range attached {
		for _, a := range arns {
			if d, ok := managed[a]; ok {
				docs[role] = append(docs[role], d)
			}
		}
	}
	c.mu.Lock()
	c.roleDocs = docs
	c.inv.Checked[audit.CheckRoles] = true
	c.mu.Unlock()
}

func (c *collector) mappings(ctx context.Context) []audit.Mapping {
	var out []audit.Mapping
	p := lambda.NewListEventSourceMappingsPaginator(c.lambda, &lambda.ListEventSourceMappingsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.fail("lambda", "ListEventSourceMappings", "event source mappings", err)
			return nil
		}
		for _, m := range page.EventSourceMappings {
			am := audit.Mapping{
				UUID: aws.ToString(m.UUID), SourceARN: aws.ToString(m.EventSourceArn), State: aws.ToString(m.State),
				BatchSize: aws.ToInt32(m.BatchSize), Function: unqualified(aws.ToString(m.FunctionArn)),
			}
			if m.ScalingConfig != nil && m.ScalingConfig.MaximumConcurrency != nil {
				v := *m.ScalingConfig.MaximumConcurrency
				am.MaxConcurrency = &v
			}
			out = append(out, am)
		}
	}
	c.checked(audit.CheckMappings)
	return out
}

// queueURLs maps queue ARNs to URLs from ListQueues (a URL ends in the
// account id and the queue name).
func (c *collector) queueURLs(ctx context.Context) map[string]string {
	out := map[string]string{}
	p := sqs.NewListQueuesPaginator(c.sqs, &sqs.ListQueuesInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.fail("sqs", "ListQueues", "SQS queues", err)
			return nil
		}
		for _, u := range page.QueueUrls {
			parts := strings.Split(strings.TrimRight(u, "/"), "/")
			if len(parts) >= 2 {
				out[parts[len(parts)-2]+":"+parts[len(parts)-1]] = u
			}
		}
	}
	return out
}

func (c *collector) rules(ctx context.Context) []ruleInfo {
	var rules []ruleInfo
	var next *string
	for {
		page, err := c.events.ListRules(ctx, &eventbridge.ListRulesInput{NextToken: next})
		if err != nil {
			c.fail("eventbridge", "ListRules", "EventBridge rules", err)
			return nil
		}
		for _, r := range page.Rules {
			rules = append(rules, ruleInfo{name: aws.ToString(r.Name), expr: aws.ToString(r.ScheduleExpression), state: string(r.State)})
		}
		if next = page.NextToken; aws.ToString(next) == "" {
			break
		}
	}
	var mu sync.Mutex
	failed := false
	forEach(c.o.Concurrency, indexes(len(rules)), func(i int) {
		var next *string
		for {
			page, err := c.events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(rules[i].name), NextToken: next})
			if err != nil {
				c.fail("eventbridge", "ListTargetsByRule", "EventBridge rule targets", err)
				mu.Lock()
				failed = true
				mu.Unlock()
				return
			}
			for _, t := range page.Targets {
				if a := aws.ToString(t.Arn); strings.Contains(a, ":lambda:") {
					rules[i].targets = append(rules[i].targets, unqualified(a))
				}
			}
			if next = page.NextToken; aws.ToString(next) == "" {
				break
			}
		}
	})
	if !failed {
		c.checked(audit.CheckRules)
	}
	return rules
}

func (c *collector) schedules(ctx context.Context) []schedInfo {
	var out []schedInfo
	p := scheduler.NewListSchedulesPaginator(c.scheduler, &scheduler.ListSchedulesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.fail("scheduler", "ListSchedules", "EventBridge Scheduler schedules", err)
			return nil
		}
		for _, s := range page.Schedules {
			if s.Target == nil || !strings.Contains(aws.ToString(s.Target.Arn), ":lambda:") {
				continue
			}
			out = append(out, schedInfo{name: aws.ToString(s.Name), group: aws.ToString(s.GroupName), target: unqualified(aws.ToString(s.Target.Arn))})
		}
	}
	return out
}

func (c *collector) instances(ctx context.Context) {
	ids := map[string][2]string{} // id → arn, alias
	if c.o.InstanceID != "" {
		ids[c.o.InstanceID] = [2]string{}
	} else {
		p := connect.NewListInstancesPaginator(c.connect, &connect.ListInstancesInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				c.fail("connect", "ListInstances", "Amazon Connect instances", err)
				return
			}
			for _, in := range page.InstanceSummaryList {
				ids[aws.ToString(in.Id)] = [2]string{aws.ToString(in.Arn), aws.ToString(in.InstanceAlias)}
			}
		}
	}
	var list []string
	for id := range ids {
		list = append(list, id)
	}
	res := make([]audit.Instance, len(list))
	forEach(c.o.Concurrency, indexes(len(list)), func(i int) {
		id := list[i]
		in := audit.Instance{ID: id, ARN: ids[id][0], Alias: ids[id][1]}
		out, err := c.connect.DescribeInstanceAttribute(ctx, &connect.DescribeInstanceAttributeInput{InstanceId: aws.String(id), AttributeType: ctypes.InstanceAttributeTypeContactflowLogs})
		if err != nil {
			c.fail("connect", "DescribeInstanceAttribute", "contact flow logs of Connect instance "+id, err)
		} else if out.Attribute != nil {
			v := strings.EqualFold(aws.ToString(out.Attribute.Value), "true")
			in.FlowLogs = &v
		}
		res[i] = in
	})
	c.mu.Lock()
	c.inv.Instances = res
	c.inv.Checked[audit.CheckInstances] = true
	c.mu.Unlock()
}

func (c *collector) trails(ctx context.Context) {
	out, err := c.cloudtrail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	if err != nil {
		c.fail("cloudtrail", "DescribeTrails", "CloudTrail trails", err)
		return
	}
	trails := make([]audit.Trail, len(out.TrailList))
	var bad atomic.Bool
	forEach(c.o.Concurrency, indexes(len(out.TrailList)), func(i int) {
		t := out.TrailList[i]
		at := audit.Trail{Name: aws.ToString(t.Name), ARN: aws.ToString(t.TrailARN), HomeRegion: aws.ToString(t.HomeRegion), MultiRegion: aws.ToBool(t.IsMultiRegionTrail)}
		name := aws.String(at.ARN)
		if at.ARN == "" {
			name = t.Name
		}
		st, err := c.cloudtrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: name})
		if err != nil {
			c.fail("cloudtrail", "GetTrailStatus", "CloudTrail trail status", err)
			bad.Store(true)
			return
		}
		at.Logging = aws.ToBool(st.IsLogging)
		sel, err := c.cloudtrail.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: name})
		if err != nil {
			c.fail("cloudtrail", "GetEventSelectors", "CloudTrail event selectors", err)
			bad.Store(true)
			return
		}
		at.ManagementEvents, at.ReadWrite = managementEvents(sel)
		trails[i] = at
	})
	c.mu.Lock()
	c.inv.Trails = trails
	if !bad.Load() {
		c.inv.Checked[audit.CheckTrails] = true
	}
	c.mu.Unlock()
}

// managementEvents reads a trail's selectors. A trail with neither basic
// nor advanced selectors records all management events (the AWS default
// for a trail created without selectors).
func managementEvents(sel *cloudtrail.GetEventSelectorsOutput) (bool, string) {
	if len(sel.EventSelectors) == 0 && len(sel.AdvancedEventSelectors) == 0 {
		return true, "All"
	}
	read, write := false, false
	for _, s := range sel.EventSelectors {
		if s.IncludeManagementEvents == nil || *s.IncludeManagementEvents {
			switch s.ReadWriteType {
			case "ReadOnly":
				read = true
			case "WriteOnly":
				write = true
			default:
				read, write = true, true
			}
		}
	}
	for _, a := range sel.AdvancedEventSelectors {
		mgmt, ro, hasRO := false, false, false
		for _, f := range a.FieldSelectors {
			switch aws.ToString(f.Field) {
			case "eventCategory":
				for _, v := range f.Equals {
					if v == "Management" {
						mgmt = true
					}
				}
			case "readOnly":
				hasRO = len(f.Equals) == 1
				ro = hasRO && f.Equals[0] == "true"
			}
		}
		if mgmt {
			switch {
			case !hasRO:
				read, write = true, true
			case ro:
				read = true
			default:
				write = true
			}
		}
	}
	switch {
	case read && write:
		return true, "All"
	case read:
		return true, "ReadOnly"
	case write:
		return true, "WriteOnly"
	}
	return false, ""
}

// assemble joins what was read: tags and reserved concurrency of every
// function, callers, their queues, schedules, resource policies and async
// configurations.
func (c *collector) assemble(ctx context.Context, fns []fnInfo, mappings []audit.Mapping, queueURLs map[string]string, rules []ruleInfo, scheds []schedInfo) {
	funcs := make([]audit.Function, len(fns))
	forEach(c.o.Concurrency, indexes(len(fns)), func(i int) {
		fi := fns[i]
		f := audit.Function{Name: fi.name, ARN: fi.arn, Role: fi.role, Timeout: fi.timeout, DeadLetterTarget: fi.dlq}
		out, err := c.lambdaGet.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fi.arn)})
		if err != nil {
			c.fail("lambda-get", "GetFunction", "function tags and reserved concurrency", err)
		} else {
			f.Tags = out.Tags
			if out.Concurrency != nil && out.Concurrency.ReservedConcurrentExecutions != nil {
				v := *out.Concurrency.ReservedConcurrentExecutions
				f.ReservedConcurrency = &v
			}
		}
		f.ConnectOps, f.ExactOps = audit.ConnectOps(c.roleDocs[fi.role], c.o.Table)
		f.Caller = len(f.ConnectOps) > 0 || strings.EqualFold(f.Tags[audit.TagOptIn], "true")
		funcs[i] = f
	})
	if c.fatal != nil {
		return
	}
	byARN := map[string]*audit.Function{}
	for i := range funcs {
		byARN[funcs[i].ARN] = &funcs[i]
	}
	// Mappings and their queues.
	var queueARNs []string
	seenQ := map[string]bool{}
	for _, m := range mappings {
		f := byARN[m.Function]
		if f == nil || !f.Caller {
			continue
		}
		f.Mappings = append(f.Mappings, m)
		if strings.Contains(m.SourceARN, ":sqs:") && !seenQ[m.SourceARN] {
			seenQ[m.SourceARN] = true
			queueARNs = append(queueARNs, m.SourceARN)
		}
	}
	queues := make([]*audit.Queue, len(queueARNs))
	var qbad atomic.Bool
	forEach(c.o.Concurrency, indexes(len(queueARNs)), func(i int) {
		q, err := c.queue(ctx, queueARNs[i], queueURLs)
		if err != nil {
			c.fail("sqs", "GetQueueAttributes", "SQS queue attributes", err)
			qbad.Store(true)
			return
		}
		queues[i] = q
	})
	for _, q := range queues {
		if q != nil {
			c.inv.Queues[q.ARN] = *q
		}
	}
	if !qbad.Load() {
		c.checked(audit.CheckQueues)
	}
	// Schedules and async sources.
	for _, r := range rules {
		for _, t := range r.targets {
			f := byARN[t]
			if f == nil || !f.Caller {
				continue
			}
			f.AsyncSources = append(f.AsyncSources, "eventbridge rule "+r.name)
			if r.expr != "" {
				c.inv.Schedules = append(c.inv.Schedules, audit.Schedule{Kind: audit.KindRule, Name: r.name, Expression: r.expr, State: r.state, TargetARN: t})
			}
		}
	}
	var wanted []schedInfo
	for _, s := range scheds {
		if f := byARN[s.target]; f != nil && f.Caller {
			f.AsyncSources = append(f.AsyncSources, "scheduler schedule "+s.group+"/"+s.name)
			wanted = append(wanted, s)
		}
	}
	got := make([]*audit.Schedule, len(wanted))
	forEach(c.o.Concurrency, indexes(len(wanted)), func(i int) {
		s := wanted[i]
		out, err := c.scheduler.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String(s.name), GroupName: aws.String(s.group)})
		if err != nil {
			c.fail("scheduler", "GetSchedule", "EventBridge Scheduler schedules", err)
			return
		}
		as := &audit.Schedule{Kind: audit.KindSchedule, Name: s.name, Group: s.group, Expression: aws.ToString(out.ScheduleExpression), State: string(out.State), TargetARN: s.target}
		if out.Target != nil {
			as.RoleARN, as.Input = aws.ToString(out.Target.RoleArn), aws.ToString(out.Target.Input)
		}
		if out.FlexibleTimeWindow != nil {
			as.FlexMode, as.FlexWindow = string(out.FlexibleTimeWindow.Mode), aws.ToInt32(out.FlexibleTimeWindow.MaximumWindowInMinutes)
		}
		got[i] = as
	})
	for _, s := range got {
		if s != nil {
			c.inv.Schedules = append(c.inv.Schedules, *s)
		}
	}
	// Resource policies (S3, SNS, … invoke asynchronously) of callers not
	// fed by SQS, then the async configuration of every async-invoked caller.
	var callers []*audit.Function
	for i := range funcs {
		if funcs[i].Caller {
			callers = append(callers, &funcs[i])
		}
	}
	forEach(c.o.Concurrency, callers, func(f *audit.Function) {
		if len(f.Mappings) > 0 {
			return
		}
		out, err := c.lambdaGet.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(f.ARN)})
		if err != nil {
			if !notFound(err) {
				c.fail("lambda-get", "GetPolicy", "function resource policies (S3/SNS triggers)", err)
			}
			return
		}
		f.AsyncSources = append(f.AsyncSources, asyncPrincipals(aws.ToString(out.Policy))...)
	})
	forEach(c.o.Concurrency, callers, func(f *audit.Function) {
		if len(f.AsyncSources) == 0 {
			return
		}
		out, err := c.lambda.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(f.ARN)})
		if err != nil {
			if !notFound(err) {
				c.fail("lambda", "GetFunctionEventInvokeConfig", "async invoke configurations", err)
			}
			return
		}
		ac := &audit.AsyncConfig{MaxRetries: out.MaximumRetryAttempts, MaxEventAge: out.MaximumEventAgeInSeconds}
		if d := out.DestinationConfig; d != nil {
			if d.OnFailure != nil {
				ac.OnFailure = aws.ToString(d.OnFailure.Destination)
			}
			if d.OnSuccess != nil {
				ac.OnSuccess = aws.ToString(d.OnSuccess.Destination)
			}
		}
		f.Async = ac
	})
	c.inv.Functions = funcs
	c.checked(audit.CheckAsync)
}

// queue reads one queue's attributes; its URL comes from ListQueues or,
// failing that, GetQueueUrl.
func (c *collector) queue(ctx context.Context, arn string, urls map[string]string) (*audit.Queue, error) {
	parts := strings.Split(arn, ":")
	if len(parts) < 6 {
		return nil, errors.New("bad queue ARN " + arn)
	}
	account, name := parts[4], parts[5]
	url := urls[account+":"+name]
	if url == "" {
		out, err := c.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name), QueueOwnerAWSAccountId: aws.String(account)})
		if err != nil {
			return nil, err
		}
		url = aws.ToString(out.QueueUrl)
	}
	out, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		return nil, err
	}
	a := out.Attributes
	q := &audit.Queue{ARN: arn, URL: url, Name: name, FIFO: a["FifoQueue"] == "true"}
	q.VisibilityTimeout, _ = strconv.Atoi(a["VisibilityTimeout"])
	if rp := a["RedrivePolicy"]; rp != "" {
		var r struct {
			DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
			MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
		}
		if json.Unmarshal([]byte(rp), &r) == nil {
			q.RedriveTarget = r.DeadLetterTargetArn
			q.MaxReceiveCount, _ = strconv.Atoi(strings.Trim(string(r.MaxReceiveCount), `"`))
		}
	}
	return q, nil
}

// asyncPrincipals returns the service principals in a function's resource
// policy that invoke it asynchronously.
func asyncPrincipals(policy string) []string {
	var doc struct {
		Statement []struct {
			Effect    string
			Principal json.RawMessage
		}
	}
	if json.Unmarshal([]byte(policy), &doc) != nil {
		return nil
	}
	async := map[string]bool{"s3.amazonaws.com": true, "sns.amazonaws.com": true, "events.amazonaws.com": true, "scheduler.amazonaws.com": true,
		"ses.amazonaws.com": true, "logs.amazonaws.com": true, "iot.amazonaws.com": true, "config.amazonaws.com": true, "codecommit.amazonaws.com": true}
	var out []string
	for _, s := range doc.Statement {
		if s.Effect != "Allow" {
			continue
		}
		var p struct{ Service json.RawMessage }
		if json.Unmarshal(s.Principal, &p) != nil {
			continue
		}
		var svcs []string
		if json.Unmarshal(p.Service, &svcs) != nil {
			var one string
			if json.Unmarshal(p.Service, &one) == nil {
				svcs = []string{one}
			}
		}
		for _, sv := range svcs {
			if async[sv] {
				out = append(out, "principal "+sv)
			}
		}
	}
	return out
}

func notFound(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "ResourceNotFoundException" || api.ErrorCode() == "ResourceNotFound")
}

// unqualified strips a version or alias qualifier from a function ARN.
func unqualified(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) == 8 && parts[5] == "function" {
		return strings.Join(parts[:7], ":")
	}
	return arn
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
