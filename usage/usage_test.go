package usage_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/tollgatehq/tollgate/sim"
	"github.com/tollgatehq/tollgate/usage"
)

// TestStatusAndAlarmsAt85Percent: a load at 85% of ListInstances' quota →
// status shows it at ≥ 80% → apply creates its alarms (the SERVICE_QUOTA
// expression) → the alarm goes to ALARM from the simulator's data → a
// second plan shows no change.
func TestStatusAndAlarmsAt85Percent(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clk := &manualClock{t: start}
	f := newFixture(t, sim.Options{Now: clk.Now, Seed: 1})
	ctx := context.Background()
	loadAt(t, f, clk, 0.85*2, 3*102) // ListInstances: 2/s; three minutes at 1.7/s

	q, err := usage.ReadQuotas(ctx, f.clients.SQ)
	if err != nil {
		t.Fatal(err)
	}
	if q["ListInstances"].Applied != 2 || q["ListInstances"].Code != "L-98C95556" {
		t.Fatalf("ListInstances quota: %+v", q["ListInstances"])
	}
	u, err := usage.ReadUsage(ctx, f.clients.CW, []string{"ListInstances", "CreateUser", "ListUsers"}, start, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	st := usage.BuildStatus(q, u, start, clk.Now(), 0, 0)
	if len(st.Rows) != 1 || st.Rows[0].Op != "ListInstances" {
		t.Fatalf("rows: %+v", st.Rows)
	}
	row := st.Rows[0]
	if row.Percent < 80 || row.Percent > 90 || row.Mark != usage.MarkAlarm {
		t.Fatalf("ListInstances row: percent %v mark %q, want 80..90 ALARM", row.Percent, row.Mark)
	}
	var text bytes.Buffer
	if err := st.Render(&text, "text"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "ListInstances") || !strings.Contains(text.String(), "ALARM") {
		t.Fatalf("text:\n%s", text.String())
	}
	t.Logf("status:\n%s", text.String())

	desired := usage.DesiredAlarms([]string{"ListInstances"}, usage.AlarmOptions{SNSTopics: []string{"arn:aws:sns:us-east-1:123456789012:ops"}})
	plan, err := usage.PlanAlarms(ctx, f.clients.CW, "", desired)
	if err != nil || len(plan.Create) != 2 {
		t.Fatalf("first plan: %v %+v", err, plan)
	}
	// An alarm with the prefix that is no longer wanted is deleted; one
	// without the prefix is never touched.
	for _, n := range []string{usage.DefaultAlarmPrefix + "Gone-alarm", "someone-elses"} {
		if _, err := f.clients.CW.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(n), Namespace: aws.String("AWS/Usage"),
			MetricName: aws.String("CallCount"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
			Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}); err != nil {
			t.Fatal(err)
		}
	}
	plan, _ = usage.PlanAlarms(ctx, f.clients.CW, "", desired)
	if len(plan.Create) != 2 || len(plan.Delete) != 1 {
		t.Fatalf("plan: %+v", plan)
	}
	if err := usage.ApplyAlarms(ctx, f.clients.CW, plan); err != nil {
		t.Fatal(err)
	}
	d, err := f.clients.CW.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]cwtypes.MetricAlarm{}
	for _, a := range d.MetricAlarms {
		names[aws.ToString(a.AlarmName)] = a
	}
	a, ok := names[usage.DefaultAlarmPrefix+"ListInstances-alarm"]
	if !ok || len(names) != 3 || names["someone-elses"].AlarmName == nil {
		t.Fatalf("alarms after apply: %v", names)
	}
	if got := aws.ToString(a.Metrics[1].Expression); got != "m1/PERIOD(m1)/SERVICE_QUOTA(m1)*100" {
		t.Fatalf("expression: %q", got)
	}
	if a.StateValue != cwtypes.StateValueAlarm {
		t.Fatalf("state: %s (%s), want ALARM", a.StateValue, aws.ToString(a.StateReason))
	}
	again, err := usage.PlanAlarms(ctx, f.clients.CW, "", desired)
	if err != nil || !again.Empty() || len(again.Unchanged) != 2 {
		t.Fatalf("second plan: %v %+v", err, again)
	}
}

func TestSubmitRefusals(t *testing.T) {
	clk := &manualClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	f := newFixture(t, sim.Options{Now: clk.Now, Seed: 1})
	ctx := context.Background()
	steps := []struct {
		name    string
		op      string
		code    string
		desired float64
		want    error
		in      string
	}{
		{"non-adjustable", "GetMetricData", "L-52794498", 50, usage.ErrRefused, "does not adjust"},
		{"at current", "CreateUser", "L-CBDEE3E4", 2, usage.ErrRefused, "not above the applied value 2"},
		{"below current", "CreateUser", "L-CBDEE3E4", 1, usage.ErrRefused, "not above"},
		{"unknown quota", "Nope", "L-00000000", 5, usage.ErrUnknownOperation, "L-00000000"},
	}
	for i, s := range steps {
		_, err := usage.Submit(ctx, f.clients.SQ, s.op, s.code, s.desired, true)
		if !errors.Is(err, s.want) || !strings.Contains(err.Error(), s.in) || !strings.Contains(err.Error(), s.code) {
			t.Errorf("step %d (%s): got %v want %v containing %q", i, s.name, err, s.want, s.in)
		}
	}
	dry, err := usage.Submit(ctx, f.clients.SQ, "CreateUser", "L-CBDEE3E4", 4, false)
	if err != nil || !dry.DryRun || dry.ID != "" {
		t.Fatalf("dry run: %v %+v", err, dry)
	}
	f.sim.ServiceQuotas().Deny("servicequotas:RequestServiceQuotaIncrease", true)
	_, err = usage.Submit(ctx, f.clients.SQ, "CreateUser", "L-CBDEE3E4", 4, true)
	var pe *usage.PermissionError
	if !errors.Is(err, usage.ErrAccessDenied) || !errors.As(err, &pe) || pe.Action != "servicequotas:RequestServiceQuotaIncrease" ||
		!strings.Contains(err.Error(), "servicequotas:RequestServiceQuotaIncrease") || !strings.Contains(err.Error(), "L-CBDEE3E4") {
		t.Fatalf("access denied: %v", err)
	}
}
