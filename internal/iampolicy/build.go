package iampolicy

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"reflect"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/audit/collect"
	"github.com/tollgatehq/tollgate/contactevents"
	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/queue/sqs"
	"github.com/tollgatehq/tollgate/usage"
)

// Options narrow a policy. The zero value builds the widest policy each
// command may need, on "*" resources.
type Options struct {
	// InstanceARN scopes Connect actions that name an instance to it
	// (arn:aws:connect:REGION:ACCOUNT:instance/ID) and what it holds.
	InstanceARN string
	// Serve is serve's configuration (nil: the defaults).
	Serve *config.Config
	// Operations narrows the Connect operations a command may forward or
	// queue (serve's jobs, the gateway's and the extension's callers); nil
	// means every operation the command's code can call.
	Operations []string
	// Callers is the gateway's callers file; the union of the callers'
	// operations is granted ("*" grants every operation the gateway knows).
	Callers *gateway.Callers
}

// instance is a parsed Connect instance ARN.
type instance struct{ partition, region, account, arn string }

func parseInstance(s string) (instance, error) {
	p := strings.Split(s, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "connect" || p[3] == "" || len(p[4]) != 12 || !strings.HasPrefix(p[5], "instance/") || strings.Count(p[5], "/") != 1 || len(p[5]) == len("instance/") {
		return instance{}, fmt.Errorf("instance ARN %q: want arn:aws:connect:REGION:ACCOUNT:instance/ID", s)
	}
	return instance{partition: p[1], region: p[3], account: p[4], arn: s}, nil
}

// builder accumulates grants.
type builder struct {
	inst   *instance
	grants map[string]*Grant
	notes  []string
}

func (b *builder) add(action, source string, resource []string, scope string) {
	if g, ok := b.grants[action]; ok {
		if !strings.Contains(g.Source, source) {
			g.Source += "; " + source
		}
		return
	}
	if len(resource) == 0 {
		resource = []string{"*"}
	}
	b.grants[action] = &Grant{Action: action, Resource: resource, Source: source, Scope: scope}
}

// For builds the policy of command (one of Commands).
func For(command string, o Options) (Policy, error) {
	b := &builder{grants: map[string]*Grant{}}
	if o.InstanceARN != "" {
		in, err := parseInstance(o.InstanceARN)
		if err != nil {
			return Policy{}, err
		}
		b.inst = &in
	} else {
		b.notes = append(b.notes, "no --instance-arn: Connect actions are granted on every instance (\"*\"); pass the instance ARN to scope them")
	}
	switch command {
	case Serve:
		if err := b.serve(o); err != nil {
			return Policy{}, err
		}
	case Gateway:
		b.forwarded(o, "gateway")
	case Extension:
		b.forwarded(o, "extension")
		b.notes = append(b.notes, "the extension signs with the function's own role: attach this policy to the function's execution role; it needs nothing else from IAM (Redis is reached over the network, not through AWS APIs)")
	case Audit:
		for svc, ops := range collect.Calls {
			for _, op := range ops {
				act := collect.Action(svc, op)
				if svc == "connect" {
					b.connect(op, "audit/collect.Calls")
					continue
				}
				b.add(act, "audit/collect.Calls", nil, "read-only listing across the account: the audit reads every function, queue, rule, schedule and trail")
			}
		}
		b.notes = append(b.notes, "sts:GetCallerIdentity needs no permission (AWS always allows it); it is listed because the audit calls it")
	case Quota:
		for _, it := range []struct {
			t   reflect.Type
			src string
		}{
			{reflect.TypeFor[usage.QuotaReader](), "usage.QuotaReader (quota status, request, sync)"},
			{reflect.TypeFor[usage.InstanceQuotaReader](), "usage.InstanceQuotaReader (quota status --instance)"},
			{reflect.TypeFor[usage.ConnectReader](), "usage.ConnectReader (quota status --instance)"},
			{reflect.TypeFor[usage.MetricReader](), "usage.MetricReader (quota status, request)"},
			{reflect.TypeFor[usage.AlarmAPI](), "usage.AlarmAPI (quota alarms)"},
			{reflect.TypeFor[usage.HistoryAPI](), "usage.HistoryAPI (quota request --status)"},
			{reflect.TypeFor[usage.SubmitAPI](), "usage.SubmitAPI (quota request --submit)"},
		} {
			b.iface(it.t, it.src, nil)
		}
	case Triage:
		b.notes = append(b.notes, "tollgate triage reads files and standard input and calls no AWS API; the grants below are for fetching its inputs (aws s3 cp of the CloudTrail bucket, aws logs filter-log-events), and can be scoped to the trail bucket and log groups")
		for _, a := range []string{"s3:GetObject", "s3:ListBucket", "logs:FilterLogEvents"} {
			b.add(a, "inputs of triage (fetched with the AWS CLI, not by tollgate)", nil, "the bucket and log groups are yours to name")
		}
	default:
		return Policy{}, fmt.Errorf("%w %q: want one of %s", ErrCommand, command, strings.Join(Commands(), ", "))
	}
	p := Policy{Command: command, Notes: b.notes}
	for _, g := range b.grants {
		p.Grants = append(p.Grants, *g)
	}
	sort.Slice(p.Grants, func(i, j int) bool { return p.Grants[i].Action < p.Grants[j].Action })
	return p, nil
}

// serve grants the job operations, the configured poll queries, the queue
// backend and quota sync.
func (b *builder) serve(o Options) error {
	cfg := config.Default()
	if o.Serve != nil {
		cfg = *o.Serve
	}
	ops := dispatch.Ops()
	if o.Operations != nil {
		for _, op := range o.Operations {
			if !dispatch.Supported(op) {
				return fmt.Errorf("--operations: %q is not an operation serve's jobs may name (see dispatch.Ops)", op)
			}
		}
		ops = o.Operations
	} else {
		b.notes = append(b.notes, "every operation a job may name (dispatch.Ops) is granted; pass --operations with the ones you submit to narrow it")
	}
	for _, op := range ops {
		if op == dispatch.OpPutDialRequestBatch {
			b.campaigns(op, "dispatch.Ops (jobs)")
			continue
		}
		b.connect(op, "dispatch.Ops (jobs)")
	}
	for _, q := range cfg.Poll.EffectiveQueries() {
		b.connect(q.Op, "poll query "+q.Name+" (configuration)")
	}
	if cfg.Queue.Backend == "sqs" {
		res := b.queueARNs(cfg.Queue.SQS)
		provisioned := strings.Contains(cfg.Queue.SQS.QueueURL, "://") && strings.Contains(cfg.Queue.SQS.DLQURL, "://")
		skip := map[string]bool{}
		if provisioned {
			skip["CreateQueue"], skip["SetQueueAttributes"] = true, true
			b.notes = append(b.notes, "both queues are given by URL: serve creates and changes no queue, so sqs:CreateQueue and sqs:SetQueueAttributes are left out")
		}
		b.ifaceSkip(reflect.TypeFor[sqs.API](), "queue/sqs.API (queue.backend: sqs)", res, skip)
	}
	if v := cfg.Dispatch.Voice; v.CallPacing && v.ContactEventsQueue != "" {
		var res []string
		if arns := b.queueARNs(config.SQS{QueueURL: v.ContactEventsQueue, DLQURL: v.ContactEventsQueue}); len(arns) > 0 {
			res = arns[:1]
		}
		// serve only reads the queue an EventBridge rule fills; it
		// creates nothing and sends nothing (contactevents.ResolveQueue
		// with create false).
		b.ifaceSkip(reflect.TypeFor[contactevents.API](), "contactevents.API (dispatch.contact_events_queue)", res,
			map[string]bool{"CreateQueue": true, "SendMessageBatch": true, "GetQueueUrl": strings.Contains(v.ContactEventsQueue, "://")})
	}
	if cfg.Limits.QuotaSync > 0 {
		b.iface(reflect.TypeFor[usage.QuotaReader](), "usage.QuotaReader (limits.quota_sync)", nil)
		if cfg.Dispatch.Voice.CallPacing {
			// Each instance's concurrent-active-calls quota sets its call
			// budget (internal/app callquota.go): DescribeInstance for the
			// ARN, then the instance's applied and default values.
			b.iface(reflect.TypeFor[usage.InstanceQuotaReader](), "usage.InstanceQuotaReader (limits.quota_sync with call pacing)", nil)
			b.connect("DescribeInstance", "the instance ARN of the call budget's quota (limits.quota_sync with call pacing)")
		}
	}
	b.pools(cfg.Pools)
	return nil
}

// pools grants sts:AssumeRole on every pool's role. The Connect grants
// above are what each pool's principal needs in its own account (the
// assumed role, the profile's or the access key's user); the policy is
// printed for serve's own principal.
func (b *builder) pools(pools []config.Pool) {
	if len(pools) == 0 {
		return
	}
	var roles []string
	for _, p := range pools {
		if p.Credentials.RoleARN != "" {
			roles = append(roles, p.Credentials.RoleARN)
		}
	}
	if len(roles) > 0 {
		sort.Strings(roles)
		b.add("sts:AssumeRole", "pools[].credentials.role_arn (assumed at start)", roles, "")
	}
	b.notes = append(b.notes, fmt.Sprintf("with %d quota pools: every pool's principal (its assumed role, profile or access key) needs the Connect actions above (and the Service Quotas ones, with limits.quota_sync) in its own account", len(pools)))
}

// forwarded grants what a gateway or an extension may forward: the
// callers' operations, o.Operations, or every operation the gateway knows.
func (b *builder) forwarded(o Options, who string) {
	known := gateway.Operations()
	ops := o.Operations
	src := who + ": --operations"
	if ops == nil && o.Callers != nil {
		src = who + ": callers file"
		set := map[string]bool{}
		for _, c := range o.Callers.List() {
			for _, op := range c.Operations {
				if op == "*" {
					for k := range known {
						set[k] = true
					}
					b.notes = append(b.notes, "caller "+c.Principal+` is allowed "*": it may also send operations the gateway does not recognise, which this policy does not grant`)
					continue
				}
				set[op] = true
			}
		}
		for op := range set {
			ops = append(ops, op)
		}
	}
	if ops == nil {
		src = who + ": gateway.Operations (every operation the gateway recognises)"
		for k := range known {
			ops = append(ops, k)
		}
	}
	sort.Strings(ops)
	for _, op := range ops {
		if known[op] == gateway.ServiceCampaigns {
			b.campaigns(op, src)
			continue
		}
		b.connect(op, src)
	}
}

// connect grants connect:op, scoped to the instance when op's request
// names one.
func (b *builder) connect(op, source string) {
	if b.inst == nil {
		b.add("connect:"+op, source, nil, "no instance ARN given")
		return
	}
	if takesInstance(op) {
		b.add("connect:"+op, source, []string{b.inst.arn, b.inst.arn + "/*"}, "")
		return
	}
	b.add("connect:"+op, source, nil, "the request names no instance (account-level operation)")
}

// campaigns grants connect-campaigns:op.
func (b *builder) campaigns(op, source string) {
	b.add("connect-campaigns:"+op, source, nil, "campaign ARNs are not under the instance; scope to arn:aws:connect-campaigns:REGION:ACCOUNT:campaign/ID by hand if you know them")
}

// takesInstance reports whether Connect operation op's input has an
// InstanceId or ResourceArn member (read from the SDK's input type).
func takesInstance(op string) bool {
	m, ok := reflect.TypeFor[*connect.Client]().MethodByName(op)
	if !ok || m.Type.NumIn() < 3 {
		return false
	}
	in := m.Type.In(2)
	if in.Kind() == reflect.Pointer {
		in = in.Elem()
	}
	for _, f := range []string{"InstanceId", "ResourceArn"} {
		if _, ok := in.FieldByName(f); ok {
			return true
		}
	}
	return false
}

func (b *builder) iface(t reflect.Type, source string, res []string) {
	b.ifaceSkip(t, source, res, nil)
}

// ifaceSkip grants every method of the client interface t, as an action of
// the AWS service whose SDK package defines the method's input.
func (b *builder) ifaceSkip(t reflect.Type, source string, res []string, skip map[string]bool) {
	ctxT := reflect.TypeFor[context.Context]()
	for i := range t.NumMethod() {
		m := t.Method(i)
		if skip[m.Name] || m.Type.NumIn() < 2 || m.Type.In(0) != ctxT {
			continue
		}
		in := m.Type.In(1)
		if in.Kind() == reflect.Pointer {
			in = in.Elem()
		}
		svc := path.Base(in.PkgPath())
		if svc == "connect" {
			b.connect(m.Name, source)
			continue
		}
		scope := ""
		if len(res) == 0 {
			scope = "the API takes no resource-level permission here, or the resource is not known in advance"
		}
		b.add(Action(svc, m.Name), source, res, scope)
	}
}

// Action returns the IAM action that authorizes an API operation of an
// SDK service package: mostly prefix:Operation, but the SQS batch calls are
// authorized by their single-message actions (sqs:SendMessage for
// SendMessageBatch, sqs:DeleteMessage, sqs:ChangeMessageVisibility), as IAM
// has no …Batch action for them.
func Action(svc, op string) string {
	if svc == "sqs" {
		op = strings.TrimSuffix(op, "Batch")
	}
	return iamPrefix(svc) + ":" + op
}

// iamPrefix maps an SDK package name to its IAM service prefix.
func iamPrefix(pkg string) string {
	switch pkg {
	case "eventbridge":
		return "events"
	}
	return pkg
}

// queueARNs returns the ARNs of serve's work and dead-letter queues, or
// nil when they cannot be known (then "*").
func (b *builder) queueARNs(q config.SQS) []string {
	region, account := "*", "*"
	if b.inst != nil {
		region, account = b.inst.region, b.inst.account
	}
	work := q.QueueURL
	if work == "" {
		return nil
	}
	arn := func(s string) string {
		if u, err := url.Parse(s); err == nil && u.Scheme != "" {
			parts := strings.Split(strings.Trim(u.Path, "/"), "/")
			if len(parts) == 2 {
				r := region
				if h := strings.Split(u.Host, "."); len(h) >= 3 && h[0] == "sqs" {
					r = h[1]
				}
				return "arn:aws:sqs:" + r + ":" + parts[0] + ":" + parts[1]
			}
			return ""
		}
		return "arn:aws:sqs:" + region + ":" + account + ":" + s
	}
	dlq := q.DLQURL
	if dlq == "" {
		base := work
		if i := strings.LastIndex(base, "/"); i >= 0 {
			base = base[i+1:]
		}
		dlq = base + "-dlq"
	}
	w, d := arn(work), arn(dlq)
	if w == "" || d == "" {
		return nil
	}
	if !strings.Contains(dlq, "://") && strings.Contains(work, "://") {
		d = w[:strings.LastIndex(w, ":")+1] + dlq
	}
	return []string{w, d}
}
