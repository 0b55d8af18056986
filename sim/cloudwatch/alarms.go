package cloudwatch

import (
	"fmt"
	"strconv"
	"time"
)

// Alarm states.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

func (s *Service) putMetricAlarm(in *putMetricAlarmInput, now time.Time) *apiError {
	if in.AlarmName == "" || len(in.AlarmName) > 255 {
		return invalid("AlarmName: must be 1..255 characters")
	}
	if in.EvaluationPeriods == nil || *in.EvaluationPeriods < 1 {
		return missing("EvaluationPeriods (>= 1)")
	}
	if in.ComparisonOperator == nil {
		return missing("ComparisonOperator")
	}
	switch *in.ComparisonOperator {
	case "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold":
	default:
		return invalid("ComparisonOperator: unsupported " + clip(*in.ComparisonOperator))
	}
	if in.Threshold == nil {
		return missing("Threshold")
	}
	for _, l := range [][]string{in.AlarmActions, in.OKActions, in.InsufficientDataActions} {
		if len(l) > 5 {
			return invalid("at most 5 actions per state")
		}
	}
	if len(in.Metrics) > 0 {
		if in.MetricName != nil || in.Namespace != nil || in.Statistic != nil || in.Period != nil || len(in.Dimensions) > 0 {
			return &apiError{"InvalidParameterCombinationException", "InvalidParameterCombination", 400,
				"Metrics and MetricName/Namespace/Statistic/Period/Dimensions are mutually exclusive"}
		}
		ret := 0
		for _, q := range in.Metrics {
			if q.ReturnData == nil || *q.ReturnData {
				ret++
			}
		}
		if ret != 1 {
			return invalid(fmt.Sprintf("Metrics: exactly one query must have ReturnData true, got %d", ret))
		}
		if _, err := newQueryEnv(s, in.Metrics, now.Add(-time.Hour), now); err != nil {
			return invalid(err.Error())
		}
	} else if in.MetricName == nil || in.Namespace == nil || in.Statistic == nil || in.Period == nil {
		return missing("Metrics, or MetricName, Namespace, Statistic and Period")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.alarms[in.AlarmName]
	if a == nil {
		if len(s.alarms) >= s.o.MaxAlarms {
			return &apiError{"LimitExceededFault", "LimitExceeded", 400, "The maximum number of alarms has been reached."}
		}
		a = &alarm{state: StateInsufficientData, reason: "Unchecked: Initial alarm creation", stateAt: now, transition: now}
		s.alarms[in.AlarmName] = a
	}
	a.in = *in
	a.configAt = now
	return nil
}

func (s *Service) deleteAlarms(in *deleteAlarmsInput) *apiError {
	if len(in.AlarmNames) == 0 || len(in.AlarmNames) > 100 {
		return invalid("AlarmNames: must hold 1..100 names")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range in.AlarmNames {
		delete(s.alarms, n)
	}
	return nil
}

func (s *Service) describeAlarms(in *describeAlarmsInput, now time.Time) (*describeAlarmsOutput, *apiError) {
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != nil {
		return nil, &apiError{"InvalidParameterCombinationException", "InvalidParameterCombination", 400, "AlarmNames and AlarmNamePrefix are mutually exclusive"}
	}
	max := int64(100)
	if in.MaxRecords != nil {
		if *in.MaxRecords < 1 || *in.MaxRecords > 100 {
			return nil, invalid("MaxRecords: must be in 1..100")
		}
		max = *in.MaxRecords
	}
	from := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil || n < 0 {
			return nil, &apiError{"InvalidNextToken", "InvalidNextToken", 400, "NextToken: invalid"}
		}
		from = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]bool{}
	for _, n := range in.AlarmNames {
		want[n] = true
	}
	var match []string
	for _, n := range s.names() {
		if len(want) > 0 && !want[n] {
			continue
		}
		if in.AlarmNamePrefix != nil && !hasPrefix(n, *in.AlarmNamePrefix) {
			continue
		}
		s.evaluate(s.alarms[n], now)
		if in.StateValue != nil && s.alarms[n].state != *in.StateValue {
			continue
		}
		match = append(match, n)
	}
	out := &describeAlarmsOutput{MetricAlarms: []metricAlarm{}, CompositeAlarms: []struct{}{}}
	if from > len(match) {
		from = len(match)
	}
	to := min(len(match), from+int(max))
	for _, n := range match[from:to] {
		out.MetricAlarms = append(out.MetricAlarms, s.render(n, s.alarms[n]))
	}
	if to < len(match) {
		t := strconv.Itoa(to)
		out.NextToken = &t
	}
	return out, nil
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// render returns the DescribeAlarms view of a. Requires mu held.
func (s *Service) render(name string, a *alarm) metricAlarm {
	in := a.in
	enabled := in.ActionsEnabled == nil || *in.ActionsEnabled
	return metricAlarm{AlarmName: name,
		AlarmArn:         "arn:aws:cloudwatch:" + s.o.Region + ":" + s.o.AccountID + ":alarm:" + name,
		AlarmDescription: in.AlarmDescription, ActionsEnabled: enabled, AlarmActions: in.AlarmActions,
		OKActions: in.OKActions, InsufficientDataActions: in.InsufficientDataActions,
		ComparisonOperator: in.ComparisonOperator, EvaluationPeriods: in.EvaluationPeriods,
		DatapointsToAlarm: in.DatapointsToAlarm, Threshold: in.Threshold, TreatMissingData: in.TreatMissingData,
		MetricName: in.MetricName, Namespace: in.Namespace, Statistic: in.Statistic, Period: in.Period,
		Dimensions: in.Dimensions, Metrics: in.Metrics, StateValue: a.state, StateReason: a.reason,
		StateUpdatedTimestamp: a.stateAt, StateTransitionedTimestamp: a.transition,
		AlarmConfigurationUpdatedTimestamp: a.configAt}
}

// evaluate recomputes a's state from the data of the last EvaluationPeriods
// complete periods before now. Requires mu held (the backend is read, not
// s's state).
func (s *Service) evaluate(a *alarm, now time.Time) {
	in := a.in
	qs := in.Metrics
	if len(qs) == 0 {
		qs = []metricDataQuery{{Id: "m1", MetricStat: &metricStat{Metric: metric{Namespace: deref(in.Namespace),
			MetricName: deref(in.MetricName), Dimensions: in.Dimensions}, Period: derefInt(in.Period), Stat: deref(in.Statistic)}}}
	}
	var ret *metricDataQuery
	period := int64(60)
	for i := range qs {
		if qs[i].ReturnData == nil || *qs[i].ReturnData {
			ret = &qs[i]
		}
		if qs[i].MetricStat != nil && qs[i].MetricStat.Period > period {
			period = qs[i].MetricStat.Period
		}
	}
	if ret == nil {
		return
	}
	n := derefInt(in.EvaluationPeriods)
	end := now.Unix() / period * period
	start := end - n*period
	e, err := newQueryEnv(s, qs, time.Unix(start, 0), time.Unix(end, 0))
	state, reason := StateInsufficientData, ""
	if err == nil {
		var v value
		if v, err = e.series(ret.Id); err == nil {
			need := n
			if in.DatapointsToAlarm != nil {
				need = *in.DatapointsToAlarm
			}
			breach, present := int64(0), int64(0)
			for t := start; t < end; t += period {
				x, ok := v.ts[t]
				if !ok {
					continue
				}
				present++
				if breaches(deref(in.ComparisonOperator), x, *in.Threshold) {
					breach++
				}
			}
			missing := deref(in.TreatMissingData)
			if missing == "breaching" {
				breach += n - present
				present = n
			}
			switch {
			case breach >= need:
				state = StateAlarm
			case present > 0 || missing == "notBreaching":
				state = StateOK
			}
			reason = fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints were breaching the threshold (%v).", breach, n, *in.Threshold)
		}
	}
	if err != nil {
		reason = "Unchecked: " + err.Error()
	}
	a.stateAt, a.reason = now, reason
	if state != a.state {
		a.state, a.transition = state, now
	}
}

func breaches(op string, x, th float64) bool {
	switch op {
	case "GreaterThanThreshold":
		return x > th
	case "GreaterThanOrEqualToThreshold":
		return x >= th
	case "LessThanThreshold":
		return x < th
	case "LessThanOrEqualToThreshold":
		return x <= th
	}
	return false
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefInt(p *int64) int64 {
	if p == nil {
		return 1
	}
	return *p
}
