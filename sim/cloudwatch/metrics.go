package cloudwatch

import (
	"fmt"
	"regexp"
	"sort"
	"time"
)

var reQueryID = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]{0,254}$`)

// usageOp returns the operation of an AWS/Usage CallCount metric of
// Connect, or "" for any other metric.
func usageOp(m metric) string {
	if m.Namespace != "AWS/Usage" || m.MetricName != "CallCount" || len(m.Dimensions) != 4 {
		return ""
	}
	d := map[string]string{}
	for _, x := range m.Dimensions {
		d[x.Name] = x.Value
	}
	if d["Service"] != "Connect" || d["Type"] != "API" || d["Class"] != "None" {
		return ""
	}
	return d["Resource"]
}

// queryEnv evaluates a set of queries over [start, end).
type queryEnv struct {
	s          *Service
	start, end int64
	byID       map[string]*metricDataQuery
	done       map[string]value
	busy       map[string]bool
}

func newQueryEnv(s *Service, qs []metricDataQuery, start, end time.Time) (*queryEnv, error) {
	e := &queryEnv{s: s, start: start.Unix() / 60 * 60, end: end.Unix(), byID: map[string]*metricDataQuery{},
		done: map[string]value{}, busy: map[string]bool{}}
	if len(qs) == 0 || len(qs) > 500 {
		return nil, fmt.Errorf("MetricDataQueries: must hold 1..500 queries, got %d", len(qs))
	}
	for i := range qs {
		q := &qs[i]
		if !reQueryID.MatchString(q.Id) {
			return nil, fmt.Errorf("MetricDataQueries[%d].Id: must start with a lowercase letter and hold only letters, digits and _", i)
		}
		if _, dup := e.byID[q.Id]; dup {
			return nil, fmt.Errorf("MetricDataQueries[%d].Id: duplicate id %s", i, q.Id)
		}
		if (q.MetricStat == nil) == (q.Expression == nil) {
			return nil, fmt.Errorf("MetricDataQueries[%d] (%s): set exactly one of MetricStat and Expression", i, q.Id)
		}
		if ms := q.MetricStat; ms != nil {
			if ms.Period < 60 || ms.Period%60 != 0 {
				return nil, fmt.Errorf("MetricDataQueries[%d] (%s).MetricStat.Period: must be a multiple of 60, got %d", i, q.Id, ms.Period)
			}
			switch ms.Stat {
			case "Sum", "SampleCount", "Maximum", "Minimum", "Average":
			default:
				return nil, fmt.Errorf("MetricDataQueries[%d] (%s).MetricStat.Stat: unsupported statistic %q", i, q.Id, ms.Stat)
			}
		}
		e.byID[q.Id] = q
	}
	return e, nil
}

func (e *queryEnv) query(id string) (*metricDataQuery, error) {
	q, ok := e.byID[id]
	if !ok {
		return nil, fmt.Errorf("unknown query id %s in an expression", id)
	}
	return q, nil
}

func (e *queryEnv) series(id string) (value, error) {
	if v, ok := e.done[id]; ok {
		return v, nil
	}
	q, err := e.query(id)
	if err != nil {
		return value{}, err
	}
	if e.busy[id] {
		return value{}, fmt.Errorf("query %s refers to itself", id)
	}
	e.busy[id] = true
	defer delete(e.busy, id)
	var v value
	if q.Expression != nil {
		n, err := parseExpr(*q.Expression)
		if err != nil {
			return value{}, fmt.Errorf("query %s: Expression: %v", id, err)
		}
		if v, err = n.eval(e); err != nil {
			return value{}, err
		}
		if v.scalar { // a constant becomes a flat line over the window
			ts := map[int64]float64{}
			for t := e.start; t < e.end; t += 60 {
				ts[t] = v.s
			}
			v = value{ts: ts}
		}
	} else {
		v = value{ts: e.metric(q.MetricStat)}
	}
	e.done[id] = v
	return v, nil
}

// metric sums the accepted calls per period.
func (e *queryEnv) metric(ms *metricStat) map[int64]float64 {
	out := map[int64]float64{}
	op := usageOp(ms.Metric)
	if op == "" {
		return out
	}
	counts := e.s.be.CallCounts(op)
	p := ms.Period
	for min, n := range counts {
		if min < e.start || min >= e.end || n <= 0 {
			continue
		}
		t := e.start + (min-e.start)/p*p
		switch ms.Stat {
		case "Sum", "SampleCount":
			out[t] += float64(n)
		default: // one datapoint of 1 per call
			out[t] = 1
		}
	}
	return out
}

func (e *queryEnv) period(id string) (int64, error) {
	q, err := e.query(id)
	if err != nil {
		return 0, err
	}
	if q.MetricStat == nil {
		return 0, fmt.Errorf("PERIOD(%s): %s is not a metric", id, id)
	}
	return q.MetricStat.Period, nil
}

func (e *queryEnv) quota(id string) (float64, error) {
	q, err := e.query(id)
	if err != nil {
		return 0, err
	}
	op := ""
	if q.MetricStat != nil {
		op = usageOp(q.MetricStat.Metric)
	}
	v, ok := e.s.be.Quota(op)
	if op == "" || !ok {
		return 0, fmt.Errorf("SERVICE_QUOTA(%s): There is no service quota associated to this metric", id)
	}
	return v, nil
}

// sorted returns the series as parallel arrays, ascending or descending.
func sorted(ts map[int64]float64, ascending bool) ([]time.Time, []float64) {
	keys := make([]int64, 0, len(ts))
	for t := range ts {
		keys = append(keys, t)
	}
	sort.Slice(keys, func(i, j int) bool { return (keys[i] < keys[j]) == ascending })
	times := make([]time.Time, len(keys))
	vals := make([]float64, len(keys))
	for i, t := range keys {
		times[i] = time.Unix(t, 0).UTC()
		vals[i] = ts[t]
	}
	return times, vals
}

// getMetricData answers GetMetricData.
func (s *Service) getMetricData(in *getMetricDataInput) (*getMetricDataOutput, *apiError) {
	if in.StartTime == nil || in.EndTime == nil {
		return nil, missing("StartTime and EndTime")
	}
	if !in.EndTime.After(*in.StartTime) {
		return nil, invalid("EndTime: must be after StartTime")
	}
	asc := false
	if in.ScanBy != nil {
		switch *in.ScanBy {
		case "TimestampAscending":
			asc = true
		case "TimestampDescending":
		default:
			return nil, invalid("ScanBy: must be TimestampAscending or TimestampDescending")
		}
	}
	e, err := newQueryEnv(s, in.MetricDataQueries, *in.StartTime, *in.EndTime)
	if err != nil {
		return nil, invalid(err.Error())
	}
	out := &getMetricDataOutput{MetricDataResults: []metricDataResult{}}
	for _, q := range in.MetricDataQueries {
		if q.ReturnData != nil && !*q.ReturnData {
			continue
		}
		v, err := e.series(q.Id)
		if err != nil {
			return nil, invalid(err.Error())
		}
		label := q.Id
		if q.Label != nil {
			label = *q.Label
		} else if q.MetricStat != nil {
			label = q.MetricStat.Metric.MetricName
		}
		ts, vals := sorted(v.ts, asc)
		out.MetricDataResults = append(out.MetricDataResults, metricDataResult{Id: q.Id, Label: label,
			Timestamps: ts, Values: vals, StatusCode: "Complete"})
	}
	return out, nil
}
