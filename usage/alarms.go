package usage

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// DefaultAlarmPrefix names the alarms Tollgate owns; nothing else is ever
// changed.
const DefaultAlarmPrefix = "tollgate-quota-"

// PercentExpression is the call rate as a percentage of the quota:
// CallCount is a per-minute sum, the Connect rate quotas are per second.
const PercentExpression = "m1/PERIOD(m1)/SERVICE_QUOTA(m1)*100"

// AlarmSpec is one desired alarm.
type AlarmSpec struct {
	Name      string   `json:"name"`
	Op        string   `json:"op"`
	Level     string   `json:"level"` // "warn" or "alarm"
	Threshold float64  `json:"threshold"`
	Actions   []string `json:"actions,omitempty"` // SNS topic ARNs
}

// AlarmOptions configures DesiredAlarms. The zero value means the defaults.
type AlarmOptions struct {
	Prefix    string   // "" means DefaultAlarmPrefix
	Warn      float64  // 0 means DefaultWarn
	Alarm     float64  // 0 means DefaultAlarm
	SNSTopics []string // actions of every alarm
}

func (o AlarmOptions) withDefaults() AlarmOptions {
	if o.Prefix == "" {
		o.Prefix = DefaultAlarmPrefix
	}
	if o.Warn <= 0 {
		o.Warn = DefaultWarn
	}
	if o.Alarm <= 0 {
		o.Alarm = DefaultAlarm
	}
	return o
}

// DesiredAlarms returns a warn and an alarm alarm for each operation.
func DesiredAlarms(ops []string, o AlarmOptions) []AlarmSpec {
	o = o.withDefaults()
	var out []AlarmSpec
	for _, op := range ops {
		out = append(out,
			AlarmSpec{Name: o.Prefix + op + "-warn", Op: op, Level: "warn", Threshold: o.Warn, Actions: o.SNSTopics},
			AlarmSpec{Name: o.Prefix + op + "-alarm", Op: op, Level: "alarm", Threshold: o.Alarm, Actions: o.SNSTopics})
	}
	return out
}

// AlarmAPI is the part of the CloudWatch client the alarm commands use.
type AlarmAPI interface {
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	PutMetricAlarm(context.Context, *cloudwatch.PutMetricAlarmInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
	DeleteAlarms(context.Context, *cloudwatch.DeleteAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DeleteAlarmsOutput, error)
}

// AlarmPlan is the difference between the desired alarms and the alarms
// with the prefix that exist.
type AlarmPlan struct {
	Prefix    string      `json:"prefix"`
	Create    []AlarmSpec `json:"create"`
	Update    []AlarmSpec `json:"update"`
	Delete    []string    `json:"delete"`
	Unchanged []string    `json:"unchanged"`
}

// Empty reports whether applying p changes nothing.
func (p AlarmPlan) Empty() bool { return len(p.Create)+len(p.Update)+len(p.Delete) == 0 }

// PlanAlarms compares desired with the alarms named with prefix.
func PlanAlarms(ctx context.Context, cw AlarmAPI, prefix string, desired []AlarmSpec) (AlarmPlan, error) {
	if prefix == "" {
		prefix = DefaultAlarmPrefix
	}
	have := map[string]cwtypes.MetricAlarm{}
	p := cloudwatch.NewDescribeAlarmsPaginator(cw, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return AlarmPlan{}, wrapAWS(err, "cloudwatch", "DescribeAlarms", "")
		}
		for _, a := range page.MetricAlarms {
			have[aws.ToString(a.AlarmName)] = a
		}
	}
	plan := AlarmPlan{Prefix: prefix, Create: []AlarmSpec{}, Update: []AlarmSpec{}, Delete: []string{}, Unchanged: []string{}}
	want := map[string]bool{}
	for _, d := range desired {
		want[d.Name] = true
		a, ok := have[d.Name]
		switch {
		case !ok:
			plan.Create = append(plan.Create, d)
		case sameAlarm(a, d):
			plan.Unchanged = append(plan.Unchanged, d.Name)
		default:
			plan.Update = append(plan.Update, d)
		}
	}
	for _, n := range sortedOps(have) {
		if !want[n] {
			plan.Delete = append(plan.Delete, n)
		}
	}
	return plan, nil
}

// sameAlarm reports whether the existing alarm a is configured as d.
func sameAlarm(a cwtypes.MetricAlarm, d AlarmSpec) bool {
	if aws.ToFloat64(a.Threshold) != d.Threshold || a.ComparisonOperator != cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold ||
		aws.ToInt32(a.EvaluationPeriods) != 1 || !slices.Equal(a.AlarmActions, d.Actions) && len(a.AlarmActions)+len(d.Actions) > 0 ||
		len(a.Metrics) != 2 {
		return false
	}
	m, e := a.Metrics[0], a.Metrics[1]
	if aws.ToString(e.Expression) != PercentExpression || m.MetricStat == nil || m.MetricStat.Metric == nil ||
		aws.ToInt32(m.MetricStat.Period) != 60 || aws.ToString(m.MetricStat.Stat) != "Sum" {
		return false
	}
	for _, dim := range m.MetricStat.Metric.Dimensions {
		if aws.ToString(dim.Name) == "Resource" {
			return aws.ToString(dim.Value) == d.Op
		}
	}
	return false
}

// alarmInput is the PutMetricAlarm request for d.
func alarmInput(d AlarmSpec) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(d.Name),
		AlarmDescription: aws.String(fmt.Sprintf("Tollgate: %s call rate at or above %g%% of its Service Quotas rate quota (%s). Managed by tollgate quota alarms; edits are overwritten.",
			d.Op, d.Threshold, d.Level)),
		Metrics: []cwtypes.MetricDataQuery{
			{Id: aws.String("m1"), ReturnData: aws.Bool(false), MetricStat: &cwtypes.MetricStat{Metric: UsageMetric(d.Op), Period: aws.Int32(60), Stat: aws.String("Sum")}},
			{Id: aws.String("e1"), Expression: aws.String(PercentExpression), Label: aws.String("QuotaUsagePercentage"), ReturnData: aws.Bool(true)},
		},
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		Threshold:          aws.Float64(d.Threshold),
		EvaluationPeriods:  aws.Int32(1),
		DatapointsToAlarm:  aws.Int32(1),
		TreatMissingData:   aws.String("notBreaching"),
		AlarmActions:       d.Actions,
		Tags:               []cwtypes.Tag{{Key: aws.String("managed-by"), Value: aws.String("tollgate")}},
	}
}

// ApplyAlarms carries out p: it creates and updates with PutMetricAlarm
// and deletes with DeleteAlarms, touching only alarms named with the
// prefix.
func ApplyAlarms(ctx context.Context, cw AlarmAPI, p AlarmPlan) error {
	for _, d := range append(append([]AlarmSpec{}, p.Create...), p.Update...) {
		if len(d.Name) < len(p.Prefix) || d.Name[:len(p.Prefix)] != p.Prefix {
			return fmt.Errorf("alarm %s: name does not start with the prefix %s; refusing to touch it", d.Name, p.Prefix)
		}
		if _, err := cw.PutMetricAlarm(ctx, alarmInput(d)); err != nil {
			return wrapAWS(err, "cloudwatch", "PutMetricAlarm", "")
		}
	}
	for i := 0; i < len(p.Delete); i += 100 {
		names := p.Delete[i:min(len(p.Delete), i+100)]
		for _, n := range names {
			if len(n) < len(p.Prefix) || n[:len(p.Prefix)] != p.Prefix {
				return fmt.Errorf("alarm %s: name does not start with the prefix %s; refusing to delete it", n, p.Prefix)
			}
		}
		if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: names}); err != nil {
			return wrapAWS(err, "cloudwatch", "DeleteAlarms", "")
		}
	}
	return nil
}

// Render writes the plan as text.
func (p AlarmPlan) Render(w io.Writer) {
	for _, d := range p.Create {
		fmt.Fprintf(w, "+ create %s (%s >= %g%% of quota)\n", d.Name, d.Op, d.Threshold)
	}
	for _, d := range p.Update {
		fmt.Fprintf(w, "~ update %s (%s >= %g%% of quota)\n", d.Name, d.Op, d.Threshold)
	}
	for _, n := range p.Delete {
		fmt.Fprintf(w, "- delete %s\n", n)
	}
	if p.Empty() {
		fmt.Fprintf(w, "No changes: %d alarms with prefix %s are up to date.\n", len(p.Unchanged), p.Prefix)
		return
	}
	fmt.Fprintf(w, "%d to create, %d to update, %d to delete, %d unchanged.\n", len(p.Create), len(p.Update), len(p.Delete), len(p.Unchanged))
}
