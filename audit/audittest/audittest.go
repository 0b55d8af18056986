package audittest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	ctypes "github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	evtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tollgatehq/tollgate/internal/testenv/moto"
	"github.com/tollgatehq/tollgate/sim"
)

// Account is a running moto_server plus simulator and SDK clients for them.
type Account struct {
	Moto       *moto.Server
	Sim        *sim.Server
	SimURL     string
	InstanceID string // the simulator's Connect instance
	Region     string
	ID         string // account id

	Lambda     *lambda.Client
	IAM        *iam.Client
	SQS        *sqs.Client
	Events     *eventbridge.Client
	Scheduler  *scheduler.Client
	CloudTrail *cloudtrail.Client
	Connect    *connect.Client

	zip []byte
}

// Start starts moto_server (skipping, or failing with CI=true, when it is
// missing) and a simulator, and returns clients for both.
func Start(t testing.TB) *Account {
	t.Helper()
	m := moto.Start(t)
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"DescribeInstanceAttribute", "ListInstanceAttributes", "UpdateInstanceAttribute", "ListInstances"} {
		if err := s.SetQuota(op, 1000, 1000); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	cfg := m.AWSConfig()
	ccfg := cfg.Copy()
	ccfg.BaseEndpoint = aws.String(hs.URL)
	a := &Account{
		Moto: m, Sim: s, SimURL: hs.URL, InstanceID: sim.DefaultInstanceID, Region: moto.Region, ID: moto.AccountID,
		Lambda: lambda.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg), SQS: sqs.NewFromConfig(cfg),
		Events: eventbridge.NewFromConfig(cfg), Scheduler: scheduler.NewFromConfig(cfg),
		CloudTrail: cloudtrail.NewFromConfig(cfg), Connect: connect.NewFromConfig(ccfg),
		zip: handlerZip(t),
	}
	return a
}

// Env sets, for the rest of t, the environment a real run would have:
// dummy credentials, the Region, AWS_ENDPOINT_URL at moto and
// AWS_ENDPOINT_URL_CONNECT at the simulator, and no shared config files or
// instance metadata.
func (a *Account) Env(t testing.TB) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": moto.AccessKey, "AWS_SECRET_ACCESS_KEY": moto.SecretKey, "AWS_SESSION_TOKEN": "",
		"AWS_REGION": a.Region, "AWS_DEFAULT_REGION": a.Region, "AWS_PROFILE": "",
		"AWS_ENDPOINT_URL": a.Moto.URL, "AWS_ENDPOINT_URL_CONNECT": a.SimURL,
		"AWS_CONFIG_FILE": "/nonexistent/tollgate-audit-config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/tollgate-audit-credentials",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
	} {
		t.Setenv(k, v) // restored when t ends
		if v == "" {
			os.Unsetenv(k) // the aws CLI rejects an empty AWS_PROFILE
		}
	}
}

// handlerZip is a deployment package with one Python handler; moto stores
// functions without running them.
func handlerZip(t testing.TB) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, err := z.Create("handler.py")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w, "def handler(event, context):\n    return {'ok': True}")
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("fixture: %s: %v", what, err)
	}
}

var ctx = context.Background()

// Role creates an execution role with an inline policy allowing actions
// (none: no inline policy) and returns its ARN.
func (a *Account) Role(t testing.TB, name string, actions ...string) string {
	t.Helper()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	out, err := a.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	must(t, "CreateRole "+name, err)
	if len(actions) > 0 {
		_, err = a.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("inline"), PolicyDocument: aws.String(allow(actions...))})
		must(t, "PutRolePolicy", err)
	}
	return aws.ToString(out.Role.Arn)
}

// AttachManaged attaches a new customer-managed policy allowing actions.
func (a *Account) AttachManaged(t testing.TB, role, name string, actions ...string) {
	t.Helper()
	p, err := a.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(allow(actions...))})
	must(t, "CreatePolicy", err)
	_, err = a.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: p.Policy.Arn})
	must(t, "AttachRolePolicy", err)
}

func allow(actions ...string) string {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{{"Effect": "Allow", "Action": actions, "Resource": "*"}}})
	return string(b)
}

// Function creates a function and returns its ARN.
func (a *Account) Function(t testing.TB, name, role string, timeout int32, tags map[string]string) string {
	t.Helper()
	out, err := a.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String(role), Runtime: ltypes.RuntimePython312, Handler: aws.String("handler.handler"),
		Code: &ltypes.FunctionCode{ZipFile: a.zip}, Timeout: aws.Int32(timeout), Tags: tags,
	})
	must(t, "CreateFunction "+name, err)
	return aws.ToString(out.FunctionArn)
}

// Queue creates a queue with the visibility timeout and, when dlq is not
// empty, a redrive policy to a new queue of that name. It returns the ARN.
func (a *Account) Queue(t testing.TB, name string, visibility int, dlq string) string {
	t.Helper()
	attrs := map[string]string{"VisibilityTimeout": strconv.Itoa(visibility)}
	if dlq != "" {
		attrs["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":"%s","maxReceiveCount":"5"}`, a.Queue(t, dlq, 30, ""))
	}
	_, err := a.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	must(t, "CreateQueue "+name, err)
	return "arn:aws:sqs:" + a.Region + ":" + a.ID + ":" + name
}

// Mapping maps an SQS queue to a function; maxConcurrency 0 sets no
// ScalingConfig.
func (a *Account) Mapping(t testing.TB, fn, queueARN string, maxConcurrency int32) {
	t.Helper()
	in := &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(fn), EventSourceArn: aws.String(queueARN), BatchSize: aws.Int32(10)}
	if maxConcurrency > 0 {
		in.ScalingConfig = &ltypes.ScalingConfig{MaximumConcurrency: aws.Int32(maxConcurrency)}
	}
	_, err := a.Lambda.CreateEventSourceMapping(ctx, in)
	must(t, "CreateEventSourceMapping "+fn, err)
}

// AsyncConfig puts an event invoke configuration; onFailure "" sets none.
func (a *Account) AsyncConfig(t testing.TB, fn string, retries, age int32, onFailure string) {
	t.Helper()
	in := &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String(fn), MaximumRetryAttempts: aws.Int32(retries), MaximumEventAgeInSeconds: aws.Int32(age)}
	if onFailure != "" {
		in.DestinationConfig = &ltypes.DestinationConfig{OnFailure: &ltypes.OnFailure{Destination: aws.String(onFailure)}}
	}
	_, err := a.Lambda.PutFunctionEventInvokeConfig(ctx, in)
	must(t, "PutFunctionEventInvokeConfig "+fn, err)
}

// Rule creates an EventBridge rule (a schedule expression, or an event
// pattern when expr is "") targeting fnARN.
func (a *Account) Rule(t testing.TB, name, expr, fnARN string) {
	t.Helper()
	in := &eventbridge.PutRuleInput{Name: aws.String(name), State: evtypes.RuleStateEnabled}
	if expr != "" {
		in.ScheduleExpression = aws.String(expr)
	} else {
		in.EventPattern = aws.String(`{"source":["aws.s3"]}`)
	}
	_, err := a.Events.PutRule(ctx, in)
	must(t, "PutRule "+name, err)
	_, err = a.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []evtypes.Target{{Id: aws.String("fn"), Arn: aws.String(fnARN)}}})
	must(t, "PutTargets "+name, err)
}

// Schedule creates an EventBridge Scheduler schedule targeting fnARN.
func (a *Account) Schedule(t testing.TB, name, expr, fnARN, roleARN string) {
	t.Helper()
	_, err := a.Scheduler.CreateSchedule(ctx, &scheduler.CreateScheduleInput{
		Name: aws.String(name), ScheduleExpression: aws.String(expr),
		FlexibleTimeWindow: &schtypes.FlexibleTimeWindow{Mode: schtypes.FlexibleTimeWindowModeOff},
		Target:             &schtypes.Target{Arn: aws.String(fnARN), RoleArn: aws.String(roleARN)},
	})
	must(t, "CreateSchedule "+name, err)
}

// Trail creates a logging trail recording all management events (with a
// bucket created by a plain PUT: moto needs the bucket to exist).
func (a *Account) Trail(t testing.TB, name string) {
	t.Helper()
	bucket := "trail-" + name
	req, _ := http.NewRequest(http.MethodPut, a.Moto.URL+"/"+bucket, nil)
	resp, err := http.DefaultClient.Do(req)
	must(t, "create bucket", err)
	resp.Body.Close()
	_, err = a.CloudTrail.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String(name), S3BucketName: aws.String(bucket), IsMultiRegionTrail: aws.Bool(true)})
	must(t, "CreateTrail", err)
	_, err = a.CloudTrail.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(name), EventSelectors: []cttypes.EventSelector{{IncludeManagementEvents: aws.Bool(true), ReadWriteType: cttypes.ReadWriteTypeAll}}})
	must(t, "PutEventSelectors", err)
	_, err = a.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(name)})
	must(t, "StartLogging", err)
}

// FlowLogs sets the simulator instance's CONTACTFLOW_LOGS attribute.
func (a *Account) FlowLogs(t testing.TB, on bool) {
	t.Helper()
	_, err := a.Connect.UpdateInstanceAttribute(ctx, &connect.UpdateInstanceAttributeInput{
		InstanceId: aws.String(a.InstanceID), AttributeType: ctypes.InstanceAttributeTypeContactflowLogs, Value: aws.String(strconv.FormatBool(on)),
	})
	must(t, "UpdateInstanceAttribute", err)
}

// Credentials are the dummy static credentials moto accepts.
var Credentials = credentials.NewStaticCredentialsProvider(moto.AccessKey, moto.SecretKey, "")
