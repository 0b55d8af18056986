package triagegen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/internal/uuid"
	"github.com/tollgatehq/tollgate/triage"
)

// User agents of the callers in generated data.
const (
	uaGoSDK     = "aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/connect#1.175.2 m/E,e"
	uaNodeLamda = "aws-sdk-js/3.632.0 ua/2.1 os/linux#5.10.226-235.891.amzn2.x86_64 lang/js md/nodejs#20.18.0 api/connect#3.632.0 exec-env/AWS_Lambda_nodejs20.x m/N,E,e"
	uaBrowser   = "aws-sdk-js/3.632.0 ua/2.1 os/Windows#NT-10.0 lang/js md/browser#Chrome_131.0.0.0 api/connect#3.632.0 m/N,E,e"
	uaBoto3     = "Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux#5.10.226-235.891.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#standard Botocore/1.35.36"
	uaTerraform = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.74.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.3 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/connect#1.119.0"
)

// gen holds one generation run's state shared by the scenarios.
type gen struct {
	s        *sim
	rng      *rand.Rand // content randomness (IDs, names), separate from the simulation's
	account  string
	region   string
	instance string // instance ID
	flows    []string
	queues   []string
	start    int64 // Unix ms
	end      int64
	owner    map[string]string // operation → cause of the scenario that drives it
	class    map[string]string // operation → expected class
	culprit  map[string]string // operation → the principal the scenario makes responsible ("" when many)
}

func (g *gen) ms(d time.Duration) int64 { return g.start + d.Milliseconds() }

func (g *gen) own(cause, class, culprit string, ops ...string) {
	for _, op := range ops {
		g.owner[op] = cause
		g.class[op] = class
		g.culprit[op] = culprit
	}
}

// uuid returns a random version-4 UUID from the content generator.
func (g *gen) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return uuid.V4(b)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func (g *gen) token(n int, chars string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[g.rng.IntN(len(chars))]
	}
	return string(b)
}

func (g *gen) publicIP() string {
	return fmt.Sprintf("%d.%d.%d.%d", []int{3, 18, 34, 44, 52, 54}[g.rng.IntN(6)], g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
}

// role returns an assumed-role identity.
func (g *gen) role(role, session, agent, ip string) *identity {
	roleID := "AROA" + g.token(17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
	return &identity{
		typ:         "AssumedRole",
		arn:         fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", g.account, role, session),
		roleArn:     fmt.Sprintf("arn:aws:iam::%s:role/%s", g.account, role),
		roleName:    role,
		principalID: roleID + ":" + session,
		accessKey:   "ASIA" + g.token(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
		agent:       agent,
		ip:          ip,
		created:     time.UnixMilli(g.start - int64(g.rng.IntN(3000))*1000).UTC().Format("2006-01-02T15:04:05Z"),
	}
}

func (g *gen) params(kv ...any) []byte {
	m := map[string]any{"InstanceId": g.instance}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return b
}

func respIDs(keys ...string) func(g *gen) []byte {
	return func(g *gen) []byte {
		m := map[string]string{}
		for _, k := range keys {
			m[k] = g.uuid()
		}
		b, _ := json.Marshal(m)
		return b
	}
}

// req builds a request.
func (g *gen) req(op string, id *identity, retry retryPolicy, params []byte, readOnly bool, resp func(*gen) []byte) *request {
	r := &request{op: op, id: id, params: params, retry: retry, readOnly: readOnly}
	if resp != nil {
		r.resp = func(*rand.Rand) []byte { return resp(g) }
	}
	return r
}

// background adds benign traffic at rate calls/s, spread over operations
// that no scenario touches, each at most 40% of its quota.
func (g *gen) background(rate float64) {
	if rate <= 0 {
		return
	}
	lambda := g.role("ContactFlowLambdaRole", "cf-contact-attributes", uaNodeLamda, g.publicIP())
	tagger := g.role("ContactFlowLambdaRole", "cf-contact-tagger", uaNodeLamda, g.publicIP())
	report := g.role("ReportingRole", "contact-export", uaBoto3, g.publicIP())
	admin := g.role("ConnectAdminRole", "admin-portal", uaGoSDK, g.publicIP())
	type bg struct {
		op     string
		id     *identity
		weight float64
		read   bool
		mk     func() []byte
	}
	contact := func(k string) func() []byte { return func() []byte { return g.params(k, g.uuid()) } }
	ops := []bg{
		{"GetContactAttributes", lambda, 3, true, contact("InitialContactId")},
		{"UpdateContactAttributes", lambda, 2, false, func() []byte {
			return g.params("InitialContactId", g.uuid(), "Attributes", "HIDDEN_DUE_TO_SECURITY_REASONS")
		}},
		{"DescribeContact", report, 1.5, true, contact("ContactId")},
		{"UpdateContact", lambda, 0.5, false, contact("ContactId")},
		{"TagContact", tagger, 1, false, func() []byte { return g.params("ContactId", g.uuid(), "Tags", map[string]string{"line": "sales"}) }},
		{"StopContact", lambda, 0.3, false, contact("ContactId")},
		{"ListAgentStatuses", admin, 0.2, true, func() []byte { return g.params("MaxResults", 100) }},
		{"GetMetricDataV2", report, 0.3, true, func() []byte {
			return g.params("ResourceArn", "arn:aws:connect:"+g.region+":"+g.account+":instance/"+g.instance, "Metrics", []map[string]string{{"Name": "CONTACTS_HANDLED"}})
		}},
		{"ListIntegrationAssociations", admin, 0.2, true, func() []byte { return g.params("IntegrationType", "LAMBDA") }},
		{"UntagContact", tagger, 0.2, false, func() []byte { return g.params("ContactId", g.uuid(), "TagKeys", []string{"line"}) }},
		{"BatchPutContact", lambda, 0.1, false, func() []byte {
			return g.params("ClientToken", g.uuid(), "ContactDataRequestList", "HIDDEN_DUE_TO_SECURITY_REASONS")
		}},
	}
	var total float64
	for _, o := range ops {
		total += o.weight
	}
	for _, o := range ops {
		q, _ := g.s.quotas.API(o.op)
		r := min(rate*o.weight/total, 0.4*q.Rate)
		o := o
		g.s.poisson(g.start, g.end, r, func(now int64) {
			retry := goSDKRetry
			if o.id.agent == uaNodeLamda {
				retry = jsSDKRetry
			}
			g.s.call(now, g.req(o.op, o.id, retry, o.mk(), o.read, nil))
		})
	}
}

// spike: a dialer's burst of StartOutboundVoiceContact above its 2/s quota.
func (g *gen) spike() {
	dialer := g.role("OutboundDialerRole", "campaign-dialer", uaGoSDK, g.publicIP())
	g.own(triage.CauseSpike, "rate-throttle", dialer.arn, "StartOutboundVoiceContact")
	call := func(id *identity, retry retryPolicy) func(now int64) {
		return func(now int64) {
			p := g.params("ContactFlowId", g.flows[0], "DestinationPhoneNumber", "HIDDEN_DUE_TO_SECURITY_REASONS",
				"ClientToken", g.uuid(), "Attributes", "HIDDEN_DUE_TO_SECURITY_REASONS", "QueueId", g.queues[0])
			g.s.call(now, g.req("StartOutboundVoiceContact", id, retry, p, false, respIDs("ContactId")))
		}
	}
	g.s.poisson(g.start, g.end, 0.5, call(dialer, goSDKRetry))
	g.s.poisson(g.ms(4*time.Minute), g.ms(7*time.Minute), 6, call(dialer, goSDKRetry))
	for i := 1; i <= 6; i++ {
		agent := g.role("AgentDesktopRole", fmt.Sprintf("agent-%02d", i), uaBrowser, g.publicIP())
		g.s.poisson(g.start, g.end, 0.02, call(agent, jsSDKRetry))
	}

	// A marketing e-mail sends customers to web chat: the chat backend
	// starts chats faster than they end until the instance's concurrent
	// chats quota (500) is full.
	chat := g.role("ChatWidgetBackendRole", "web-chat-backend", uaBoto3, g.publicIP())
	g.own(triage.CauseSpike, "concurrency-quota", chat.arn, "StartChatContact")
	// Chats already running at the start end over the next 12 minutes; the
	// steady 0.4/s of new chats keeps about 200 active.
	conc := &concurrency{limit: 500, active: 220}
	g.s.conc["StartChatContact"] = conc
	for i := 0; i < conc.active; i++ {
		g.s.at(g.start+int64(g.s.rng.IntN(720_000)), func(int64) { conc.active-- })
	}
	startChat := func(now int64) {
		p := g.params("ContactFlowId", g.flows[0], "ParticipantDetails", map[string]string{"DisplayName": "HIDDEN_DUE_TO_SECURITY_REASONS"},
			"ClientToken", g.uuid(), "ChatDurationInMinutes", 60)
		r := g.req("StartChatContact", chat, pySDKRetry, p, false, respIDs("ContactId", "ParticipantId", "ParticipantToken"))
		r.hold = int64(360_000 + g.s.rng.IntN(360_000)) // 6–12 minutes
		g.s.call(now, r)
	}
	g.s.poisson(g.start, g.end, 0.4, startChat)
	g.s.poisson(g.ms(3*time.Minute), g.ms(7*time.Minute), 2, startChat)
}

// provisioning: a Terraform run creating users at parallelism 10, then a
// script claiming more phone numbers than the instance may hold.
func (g *gen) provisioning() {
	tf := g.role("ConnectProvisioner", "terraform-onboarding", uaTerraform, g.publicIP())
	g.own(triage.CauseProvisioning, "rate-throttle", tf.arn, "CreateUser")
	items := 420
	next := 0
	var work func(now int64)
	work = func(now int64) {
		if next >= items {
			return
		}
		next++
		user := fmt.Sprintf("agent.%04d", next)
		p := g.params("Username", user, "PhoneConfig", map[string]any{"PhoneType": "SOFT_PHONE", "AutoAccept": false},
			"SecurityProfileIds", []string{g.uuid()}, "RoutingProfileId", g.uuid(), "IdentityInfo", "HIDDEN_DUE_TO_SECURITY_REASONS",
			"Password", "HIDDEN_DUE_TO_SECURITY_REASONS")
		r := g.req("CreateUser", tf, terraformRetry, p, false, respIDs("UserId", "UserArn"))
		r.done = func(now int64, _ bool) { g.s.at(now+80+int64(g.s.rng.IntN(120)), work) }
		g.s.call(now, r)
	}
	for w := 0; w < 10; w++ {
		g.s.at(g.ms(3*time.Minute)+int64(w*15), work)
	}
	// Phone numbers: the instance has room for 2 more.
	script := g.role("ConnectProvisioner", "claim-numbers", uaBoto3, g.publicIP())
	g.own(triage.CauseProvisioning, "hard-quota", script.arn, "ClaimPhoneNumber")
	g.s.limits["ClaimPhoneNumber"] = 2
	claims := 0
	var claim func(now int64)
	claim = func(now int64) {
		if claims >= 16 {
			return
		}
		claims++
		p := g.params("TargetArn", "arn:aws:connect:"+g.region+":"+g.account+":instance/"+g.instance,
			"PhoneNumber", "HIDDEN_DUE_TO_SECURITY_REASONS", "ClientToken", g.uuid())
		r := g.req("ClaimPhoneNumber", script, pySDKRetry, p, false, respIDs("PhoneNumberId", "PhoneNumberArn"))
		r.done = func(now int64, _ bool) { g.s.at(now+1500+int64(g.s.rng.IntN(1000)), claim) }
		g.s.call(now, r)
	}
	g.s.at(g.ms(8*time.Minute), claim)
}

// polling: a wallboard polling GetCurrentMetricData every 250 ms next to a
// dozen supervisor dashboards, together above the 5/s quota.
func (g *gen) polling() {
	poller := g.role("WallboardRole", "wallboard-poller", uaNodeLamda, g.publicIP())
	g.own(triage.CausePolling, "rate-throttle", poller.arn, "GetCurrentMetricData")
	params := g.params("Filters", map[string]any{"Queues": g.queues, "Channels": []string{"VOICE", "CHAT"}},
		"Groupings", []string{"QUEUE"}, "CurrentMetrics", []map[string]string{
			{"Name": "AGENTS_ONLINE", "Unit": "COUNT"}, {"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}, {"Name": "OLDEST_CONTACT_AGE", "Unit": "SECONDS"}})
	g.s.periodic(g.start+int64(g.s.rng.IntN(250)), g.end, 250*time.Millisecond, 30*time.Millisecond, func(now int64) {
		g.s.call(now, g.req("GetCurrentMetricData", poller, noRetry, params, true, nil))
	})
	for i := 1; i <= 12; i++ {
		sup := g.role("SupervisorDashboardRole", fmt.Sprintf("supervisor-%02d", i), uaBrowser, g.publicIP())
		p := g.params("Filters", map[string]any{"Queues": g.queues[:1+i%len(g.queues)], "Channels": []string{"VOICE"}},
			"CurrentMetrics", []map[string]string{{"Name": "AGENTS_AVAILABLE", "Unit": "COUNT"}})
		g.s.periodic(g.start+int64(g.s.rng.IntN(5000)), g.end, 5*time.Second, time.Second, func(now int64) {
			g.s.call(now, g.req("GetCurrentMetricData", sup, jsSDKRetry, p, true, nil))
		})
	}
}

// synchronizedStart: 300 agent desktops restart together at a shift change
// and each loads its user, queues and routing-profile queues.
func (g *gen) synchronizedStart() {
	ops := []string{"DescribeUser", "ListQueues", "ListRoutingProfileQueues"}
	g.own(triage.CauseSynchronizedStart, "rate-throttle", "", ops...)
	load := func(id *identity, at int64, user string) {
		step := 0
		var next func(now int64)
		next = func(now int64) {
			if step >= len(ops) {
				return
			}
			op := ops[step]
			step++
			var p []byte
			switch op {
			case "DescribeUser":
				p = g.params("UserId", user)
			case "ListQueues":
				p = g.params("QueueTypes", []string{"STANDARD"}, "MaxResults", 100)
			default:
				p = g.params("RoutingProfileId", g.queues[0], "MaxResults", 100)
			}
			r := g.req(op, id, jsSDKRetry, p, true, nil)
			r.done = func(now int64, _ bool) { g.s.at(now+40+int64(g.s.rng.IntN(80)), next) }
			g.s.call(now, r)
		}
		g.s.at(at, next)
	}
	// A few early-shift agents reload now and then.
	for i := 1; i <= 6; i++ {
		id := g.role("AgentDesktopRole", fmt.Sprintf("early-%02d", i), uaBrowser, g.publicIP())
		user := g.uuid()
		g.s.periodic(g.start+int64(g.s.rng.IntN(60000)), g.end, 45*time.Second, 10*time.Second, func(now int64) { load(id, now, user) })
	}
	shift := g.ms(5 * time.Minute)
	for i := 1; i <= 300; i++ {
		id := g.role("AgentDesktopRole", fmt.Sprintf("agent-%04d", i), uaBrowser, fmt.Sprintf("198.51.%d.%d", 100+i/250, 1+i%250))
		load(id, shift+int64(g.s.rng.IntN(4000)), g.uuid())
	}
}

// retryStorm: a task-sync worker retries refused StartTaskContact calls
// every 60 ms, starving a CRM integration that uses the same quota.
func (g *gen) retryStorm() {
	crm := g.role("CrmIntegrationRole", "crm-task-creator", uaGoSDK, g.publicIP())
	storm := g.role("TaskSyncRole", "task-sync-worker", uaGoSDK, g.publicIP())
	g.own(triage.CauseRetryStorm, "rate-throttle", storm.arn, "StartTaskContact")
	task := func(name string) []byte {
		return g.params("ContactFlowId", g.flows[1], "Name", name, "ClientToken", g.uuid(),
			"References", "HIDDEN_DUE_TO_SECURITY_REASONS", "Attributes", "HIDDEN_DUE_TO_SECURITY_REASONS")
	}
	g.s.poisson(g.start, g.end, 0.6, func(now int64) {
		g.s.call(now, g.req("StartTaskContact", crm, goSDKRetry, task(fmt.Sprintf("Case %06d", g.rng.IntN(1000000))), false, respIDs("ContactId")))
	})
	stop := g.ms(7 * time.Minute)
	bad := retryPolicy{maxAttempts: 40, fixed: 60 * time.Millisecond}
	n := 0
	var work func(now int64)
	work = func(now int64) {
		if now >= stop {
			return
		}
		n++
		r := g.req("StartTaskContact", storm, bad, task(fmt.Sprintf("Sync %06d", n)), false, respIDs("ContactId"))
		r.done = func(now int64, _ bool) { g.s.at(now+20, work) }
		g.s.call(now, r)
	}
	for w := 0; w < 2; w++ {
		g.s.at(g.ms(4*time.Minute)+int64(w*30), work)
	}
}

// dialerRetryStorm: an outbound dialer places calls a little faster than
// the 2/s StartOutboundVoiceContact quota for three minutes and re-sends
// each refused call at once, up to four more times, with the same
// ClientToken about 30 ms apart: about 8 attempts/s against 2/s.
func (g *gen) dialerRetryStorm() {
	dialer := g.role("OutboundDialerRole", "predictive-dialer", uaGoSDK, g.publicIP())
	g.own(triage.CauseRetryStorm, "rate-throttle", dialer.arn, "StartOutboundVoiceContact")
	immediate := retryPolicy{maxAttempts: 4, fixed: 30 * time.Millisecond}
	g.s.poisson(g.ms(3*time.Minute), g.ms(6*time.Minute), 3, func(now int64) {
		p := g.params("ContactFlowId", g.flows[0], "DestinationPhoneNumber", "HIDDEN_DUE_TO_SECURITY_REASONS",
			"ClientToken", g.uuid(), "Attributes", "HIDDEN_DUE_TO_SECURITY_REASONS", "QueueId", g.queues[0])
		g.s.call(now, g.req("StartOutboundVoiceContact", dialer, immediate, p, false, respIDs("ContactId")))
	})
}

// scenarios maps each cause to what it sets up.
var scenarios = map[string]func(*gen){
	triage.CauseSpike:             (*gen).spike,
	triage.CauseProvisioning:      (*gen).provisioning,
	triage.CausePolling:           (*gen).polling,
	triage.CauseSynchronizedStart: (*gen).synchronizedStart,
	triage.CauseRetryStorm:        (*gen).retryStorm,
	DialerRetryStorm:              (*gen).dialerRetryStorm,
	"mixed": func(g *gen) {
		g.spike()
		g.provisioning()
		g.polling()
		g.synchronizedStart()
		g.retryStorm()
	},
}

// DialerRetryStorm names the scenario of an outbound dialer that re-sends
// each refused StartOutboundVoiceContact at once with the same ClientToken
// (a retry storm that is also a sustained overload, not a spike).
const DialerRetryStorm = "dialer-retry-storm"

// Causes lists the generator's scenarios in a stable order.
func Causes() []string {
	return []string{triage.CauseSpike, triage.CauseProvisioning, triage.CausePolling, triage.CauseSynchronizedStart, triage.CauseRetryStorm, DialerRetryStorm, "mixed"}
}

func causeList() string { return strings.Join(Causes(), ", ") }
