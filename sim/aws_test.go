package sim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	sqtypes "github.com/aws/aws-sdk-go-v2/service/servicequotas/types"
	"github.com/aws/smithy-go"
)

// manualClock is a clock tests move by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func awsTestConfig(h http.Handler) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(testAccessKey, "secret", ""),
		HTTPClient:       &http.Client{Transport: handlerTransport{h}},
		RetryMaxAttempts: 1,
		BaseEndpoint:     aws.String("http://aws.sim.local"),
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestServiceQuotasLifecycle(t *testing.T) {
	clk := &manualClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	s := newServer(t, Options{Now: clk.Now, Seed: 7})
	sq := servicequotas.NewFromConfig(awsTestConfig(s))
	ctx := context.Background()

	var all []sqtypes.ServiceQuota
	p := servicequotas.NewListServiceQuotasPaginator(sq, &servicequotas.ListServiceQuotasInput{ServiceCode: aws.String("connect"), MaxResults: aws.Int32(7)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListServiceQuotas: %v", err)
		}
		all = append(all, out.Quotas...)
	}
	var found bool
	for _, q := range all {
		if aws.ToString(q.QuotaCode) == "L-CBDEE3E4" {
			found = true
			if aws.ToFloat64(q.Value) != 2 || aws.ToString(q.QuotaName) != "Rate of CreateUser API requests" || q.UsageMetric == nil {
				t.Fatalf("CreateUser quota: %+v", q)
			}
		}
	}
	if !found || len(all) < 20 {
		t.Fatalf("ListServiceQuotas: %d quotas, CreateUser found %v", len(all), found)
	}

	code := aws.String("L-CBDEE3E4")
	_, err := sq.RequestServiceQuotaIncrease(ctx, &servicequotas.RequestServiceQuotaIncreaseInput{ServiceCode: aws.String("connect"), QuotaCode: code, DesiredValue: aws.Float64(2)})
	if apiCode(err) != "IllegalArgumentException" {
		t.Fatalf("desired == applied: got %v", err)
	}
	_, err = sq.RequestServiceQuotaIncrease(ctx, &servicequotas.RequestServiceQuotaIncreaseInput{ServiceCode: aws.String("connect"), QuotaCode: aws.String("L-52794498"), DesiredValue: aws.Float64(50)})
	if apiCode(err) != "IllegalArgumentException" {
		t.Fatalf("non-adjustable: got %v", err)
	}
	_, err = sq.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String("connect"), QuotaCode: aws.String("L-NOPE0000")})
	var nsr *sqtypes.NoSuchResourceException
	if !errors.As(err, &nsr) {
		t.Fatalf("unknown code: got %v", err)
	}
	out, err := sq.RequestServiceQuotaIncrease(ctx, &servicequotas.RequestServiceQuotaIncreaseInput{ServiceCode: aws.String("connect"), QuotaCode: code, DesiredValue: aws.Float64(4)})
	if err != nil || out.RequestedQuota.Status != sqtypes.RequestStatusPending {
		t.Fatalf("RequestServiceQuotaIncrease: %v %+v", err, out)
	}
	id := out.RequestedQuota.Id
	_, err = sq.RequestServiceQuotaIncrease(ctx, &servicequotas.RequestServiceQuotaIncreaseInput{ServiceCode: aws.String("connect"), QuotaCode: code, DesiredValue: aws.Float64(5)})
	var dup *sqtypes.ResourceAlreadyExistsException
	if !errors.As(err, &dup) {
		t.Fatalf("second open request: got %v", err)
	}
	steps := []struct {
		after time.Duration
		want  sqtypes.RequestStatus
	}{{time.Minute, sqtypes.RequestStatusPending}, {3 * time.Minute, sqtypes.RequestStatusCaseOpened}, {20 * time.Minute, sqtypes.RequestStatusApproved}}
	for i, st := range steps {
		clk.Add(st.after)
		g, err := sq.GetRequestedServiceQuotaChange(ctx, &servicequotas.GetRequestedServiceQuotaChangeInput{RequestId: id})
		if err != nil || g.RequestedQuota.Status != st.want {
			t.Fatalf("step %d: got %v %v want %s", i, err, g, st.want)
		}
	}
	q, err := sq.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String("connect"), QuotaCode: code})
	if err != nil || aws.ToFloat64(q.Quota.Value) != 4 {
		t.Fatalf("applied after approval: %v %+v", err, q)
	}
	d, err := sq.GetAWSDefaultServiceQuota(ctx, &servicequotas.GetAWSDefaultServiceQuotaInput{ServiceCode: aws.String("connect"), QuotaCode: code})
	if err != nil || aws.ToFloat64(d.Quota.Value) != 2 {
		t.Fatalf("default after approval: %v %+v", err, d)
	}
	for _, qs := range s.Quotas() {
		if qs.Op == "CreateUser" && (qs.Rate != 4 || qs.Burst != 10) {
			t.Fatalf("sim bucket after approval: %+v want rate 4 burst 10", qs)
		}
	}
	h, err := sq.ListRequestedServiceQuotaChangeHistoryByQuota(ctx, &servicequotas.ListRequestedServiceQuotaChangeHistoryByQuotaInput{ServiceCode: aws.String("connect"), QuotaCode: code})
	if err != nil || len(h.RequestedQuotas) != 1 {
		t.Fatalf("history by quota: %v %+v", err, h)
	}
	h2, err := sq.ListRequestedServiceQuotaChangeHistory(ctx, &servicequotas.ListRequestedServiceQuotaChangeHistoryInput{ServiceCode: aws.String("connect"), Status: sqtypes.RequestStatusApproved})
	if err != nil || len(h2.RequestedQuotas) != 1 {
		t.Fatalf("history: %v %+v", err, h2)
	}
	s.ServiceQuotas().Deny("servicequotas:GetServiceQuota", true)
	_, err = sq.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String("connect"), QuotaCode: code})
	var ad *sqtypes.AccessDeniedException
	if !errors.As(err, &ad) {
		t.Fatalf("denied: got %v", err)
	}
}

// usageQueries is CallCount of op with the percent-of-quota expression.
// TestServiceQuotasSetApplied: an applied value set from outside the
// request flow is what GetServiceQuota answers, and an API rate quota's
// change moves the simulator's bucket as an approval does; a bad code or
// value is refused naming it.
func TestServiceQuotasSetApplied(t *testing.T) {
	s := newServer(t, Options{})
	sq := servicequotas.NewFromConfig(awsTestConfig(s))
	api, _ := s.o.Quotas.API("StartOutboundVoiceContact")
	if err := s.ServiceQuotas().SetApplied(api.Code, api.Rate*4); err != nil {
		t.Fatal(err)
	}
	out, err := sq.GetServiceQuota(context.Background(), &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String("connect"), QuotaCode: aws.String(api.Code)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToFloat64(out.Quota.Value); got != api.Rate*4 {
		t.Errorf("GetServiceQuota: %v, want %v", got, api.Rate*4)
	}
	var rate float64
	for _, b := range s.Quotas() {
		if b.Op == "StartOutboundVoiceContact" {
			rate = b.Rate
		}
	}
	if rate != api.Rate*4 {
		t.Errorf("bucket rate %v, want %v", rate, api.Rate*4)
	}
	if err := s.ServiceQuotas().SetApplied("L-NOPE", 1); err == nil || !strings.Contains(err.Error(), "L-NOPE") {
		t.Errorf("unknown code: %v", err)
	}
	if err := s.ServiceQuotas().SetApplied(api.Code, -1); err == nil || !strings.Contains(err.Error(), "value") {
		t.Errorf("negative value: %v", err)
	}
}

func usageQueries(op string) []cwtypes.MetricDataQuery {
	return []cwtypes.MetricDataQuery{
		{Id: aws.String("m1"), ReturnData: aws.Bool(false), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Sum"),
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/Usage"), MetricName: aws.String("CallCount"), Dimensions: []cwtypes.Dimension{
				{Name: aws.String("Service"), Value: aws.String("Connect")}, {Name: aws.String("Type"), Value: aws.String("API")},
				{Name: aws.String("Resource"), Value: aws.String(op)}, {Name: aws.String("Class"), Value: aws.String("None")}}}}},
		{Id: aws.String("e1"), Expression: aws.String("m1/PERIOD(m1)/SERVICE_QUOTA(m1)*100"), Label: aws.String("pct")},
	}
}

func TestCloudWatchUsageAndAlarms(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clk := &manualClock{t: start}
	s := newServer(t, Options{Now: clk.Now, Seed: 7})
	cfg := awsTestConfig(s)
	cc := newClient(t, s)
	cw := cloudwatch.NewFromConfig(cfg)
	ctx := context.Background()
	// ListInstances: 2/s. One call a second for two minutes: 50%.
	for i := 0; i < 120; i++ {
		if _, err := cc.ListInstances(ctx, &connect.ListInstancesInput{}); err != nil {
			t.Fatalf("ListInstances %d: %v", i, err)
		}
		clk.Add(time.Second)
	}
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(clk.Now()),
		MetricDataQueries: usageQueries("ListInstances"), ScanBy: cwtypes.ScanByTimestampAscending})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	if len(out.MetricDataResults) != 1 {
		t.Fatalf("results: %+v", out.MetricDataResults)
	}
	r := out.MetricDataResults[0]
	if len(r.Values) != 2 || r.Values[0] != 50 || r.Values[1] != 50 || !r.Timestamps[0].Equal(start) {
		t.Fatalf("pct: %v at %v, want [50 50] from %v", r.Values, r.Timestamps, start)
	}

	put := func(name string, th float64) {
		t.Helper()
		_, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(name), Metrics: usageQueries("ListInstances"),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, Threshold: aws.Float64(th), EvaluationPeriods: aws.Int32(1)})
		if err != nil {
			t.Fatalf("PutMetricAlarm: %v", err)
		}
	}
	put("tg-hot", 40)
	put("tg-cold", 80)
	d, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("tg-")})
	if err != nil || len(d.MetricAlarms) != 2 {
		t.Fatalf("DescribeAlarms: %v %+v", err, d)
	}
	states := map[string]cwtypes.StateValue{}
	for _, a := range d.MetricAlarms {
		states[aws.ToString(a.AlarmName)] = a.StateValue
		if aws.ToString(a.Metrics[1].Expression) != "m1/PERIOD(m1)/SERVICE_QUOTA(m1)*100" {
			t.Fatalf("expression round trip: %+v", a.Metrics[1])
		}
	}
	if states["tg-hot"] != cwtypes.StateValueAlarm || states["tg-cold"] != cwtypes.StateValueOk {
		t.Fatalf("states: %v", states)
	}
	if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"tg-hot", "unknown"}}); err != nil {
		t.Fatalf("DeleteAlarms: %v", err)
	}
	d, _ = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if len(d.MetricAlarms) != 1 {
		t.Fatalf("after delete: %d alarms", len(d.MetricAlarms))
	}
	// SERVICE_QUOTA on a metric without a quota fails with a named error.
	bad := usageQueries("ListInstances")
	bad[0].MetricStat.Metric.Namespace = aws.String("AWS/EC2")
	_, err = cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(clk.Now()), MetricDataQueries: bad})
	var ipv *cwtypes.InvalidParameterValueException
	if !errors.As(err, &ipv) {
		t.Fatalf("SERVICE_QUOTA on another metric: %v", err)
	}
}
