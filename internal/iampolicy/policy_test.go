package iampolicy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/internal/config"
)

func TestForRefusesBadInput(t *testing.T) {
	steps := []struct {
		cmd  string
		o    Options
		want string
	}{
		{"deploy", Options{}, "unknown command"},
		{Serve, Options{InstanceARN: "arn:aws:connect:us-east-1:1234:instance/x"}, "instance ARN"},
		{Serve, Options{InstanceARN: "instance/x"}, "instance ARN"},
		{Serve, Options{Operations: []string{"StartOutbondVoiceContact"}}, "StartOutbondVoiceContact"},
	}
	for i, st := range steps {
		_, err := For(st.cmd, st.o)
		if err == nil || !strings.Contains(err.Error(), st.want) {
			t.Errorf("step %d: got %v want an error naming %q", i, err, st.want)
		}
	}
	if _, err := For("deploy", Options{}); !errors.Is(err, ErrCommand) {
		t.Errorf("unknown command: %v does not match ErrCommand", err)
	}
}

func TestServeScopesQueuesAndInstance(t *testing.T) {
	cfg := config.Default()
	cfg.Queue.Backend = "sqs"
	cfg.Queue.SQS.QueueURL = "https://sqs.eu-west-2.amazonaws.com/123456789012/dialer"
	cfg.Queue.SQS.DLQURL = "https://sqs.eu-west-2.amazonaws.com/123456789012/dialer-dead"
	arn := "arn:aws:connect:eu-west-2:123456789012:instance/abc"
	p, err := For(Serve, Options{Serve: &cfg, InstanceARN: arn, Operations: []string{"StartOutboundVoiceContact", "ListInstances"}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		action string
		want   string // first resource; "" means not granted
	}{
		{"connect:StartOutboundVoiceContact", arn},
		{"connect:ListInstances", "*"},
		{"sqs:SendMessageBatch", "arn:aws:sqs:eu-west-2:123456789012:dialer"},
		{"sqs:CreateQueue", ""}, // both queues given by URL: nothing is created
		{"sqs:SetQueueAttributes", ""},
		{"connect:CreateUser", ""},
	}
	for i, st := range steps {
		g, ok := p.Grant(st.action)
		switch {
		case st.want == "" && ok:
			t.Errorf("step %d: %s granted, want not", i, st.action)
		case st.want != "" && (!ok || g.Resource[0] != st.want):
			t.Errorf("step %d: %s: got %v %v want %s", i, st.action, ok, g.Resource, st.want)
		}
	}
	if g, _ := p.Grant("sqs:SendMessageBatch"); len(g.Resource) != 2 || g.Resource[1] != "arn:aws:sqs:eu-west-2:123456789012:dialer-dead" {
		t.Errorf("queue resources %v", g.Resource)
	}
}

// TestSQSBatchActions: IAM authorizes SQS batch calls with the
// single-message actions, so the policy names those (sqs:SendMessage, not
// sqs:SendMessageBatch, which IAM does not know) and Grant finds them by
// either name.
func TestSQSBatchActions(t *testing.T) {
	cfg := config.Default()
	cfg.Queue.Backend = "sqs"
	cfg.Queue.SQS.QueueURL = "https://sqs.eu-west-2.amazonaws.com/123456789012/dialer"
	p, err := For(Serve, Options{Serve: &cfg, Operations: []string{"StartOutboundVoiceContact"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range p.Grants {
		if strings.HasPrefix(g.Action, "sqs:") && strings.HasSuffix(g.Action, "Batch") {
			t.Errorf("policy names %s, which IAM does not know", g.Action)
		}
	}
	for _, a := range []string{"sqs:SendMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessageBatch"} {
		if _, ok := p.Grant(a); !ok {
			t.Errorf("%s not granted", a)
		}
	}
}

// TestServeContactEventsQueue: with contact events configured, serve may
// read and delete messages of that queue (and look up its URL when given a
// name), and may not send to it or create it.
func TestServeContactEventsQueue(t *testing.T) {
	cfg := config.Default()
	cfg.Dispatch.ContactEventsQueue = "https://sqs.eu-west-2.amazonaws.com/123456789012/connect-events"
	p, err := For(Serve, Options{Serve: &cfg, Operations: []string{"StartOutboundVoiceContact"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "arn:aws:sqs:eu-west-2:123456789012:connect-events"
	for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage"} {
		if g, ok := p.Grant(a); !ok || len(g.Resource) != 1 || g.Resource[0] != want {
			t.Errorf("%s: got %v %v want %s", a, ok, g.Resource, want)
		}
	}
	for _, a := range []string{"sqs:SendMessage", "sqs:CreateQueue", "sqs:GetQueueUrl"} {
		if _, ok := p.Grant(a); ok {
			t.Errorf("%s granted, want not", a)
		}
	}
	cfg.Dispatch.ContactEventsQueue = "connect-events"
	if p, err = For(Serve, Options{Serve: &cfg, Operations: []string{"StartOutboundVoiceContact"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Grant("sqs:GetQueueUrl"); !ok {
		t.Error("a queue given by name needs sqs:GetQueueUrl")
	}
}

// TestServeQuotaSyncAndPools: quota sync with call pacing reads each
// instance's quota (servicequotas:GetServiceQuota, connect:DescribeInstance);
// quota pools assume their roles (sts:AssumeRole on exactly those ARNs).
func TestServeQuotaSyncAndPools(t *testing.T) {
	cfg := config.Default()
	cfg.Limits.QuotaSync = time.Minute
	p, err := For(Serve, Options{Serve: &cfg, Operations: []string{"StartOutboundVoiceContact"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"servicequotas:ListServiceQuotas", "servicequotas:GetServiceQuota", "servicequotas:GetAWSDefaultServiceQuota", "connect:DescribeInstance"} {
		if _, ok := p.Grant(a); !ok {
			t.Errorf("%s not granted with quota sync and call pacing", a)
		}
	}
	if _, ok := p.Grant("sts:AssumeRole"); ok {
		t.Error("sts:AssumeRole granted without pools")
	}
	cfg = config.Default()
	role := "arn:aws:iam::111111111111:role/tollgate"
	cfg.Pools = config.Pools{
		{Name: "east", Account: "111111111111", Region: "us-east-1", InstanceID: "i-1", Credentials: config.PoolCredentials{RoleARN: role}},
		{Name: "west", Account: "222222222222", Region: "us-west-2", InstanceID: "i-2", Credentials: config.PoolCredentials{Profile: "west"}},
	}
	if p, err = For(Serve, Options{Serve: &cfg, Operations: []string{"StartOutboundVoiceContact"}}); err != nil {
		t.Fatal(err)
	}
	if g, ok := p.Grant("sts:AssumeRole"); !ok || len(g.Resource) != 1 || g.Resource[0] != role {
		t.Errorf("sts:AssumeRole: %v %v, want on %s only", ok, g.Resource, role)
	}
}
