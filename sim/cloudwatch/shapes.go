package cloudwatch

import "time"

// Request and response shapes, spelled as the model's members (CBOR keys
// are matched case-sensitively).

type dimension struct {
	Name  string `cbor:"Name"`
	Value string `cbor:"Value"`
}

type metric struct {
	Namespace  string      `cbor:"Namespace,omitempty"`
	MetricName string      `cbor:"MetricName,omitempty"`
	Dimensions []dimension `cbor:"Dimensions,omitempty"`
}

type metricStat struct {
	Metric metric  `cbor:"Metric"`
	Period int64   `cbor:"Period"`
	Stat   string  `cbor:"Stat"`
	Unit   *string `cbor:"Unit,omitempty"`
}

type metricDataQuery struct {
	Id         string      `cbor:"Id"`
	MetricStat *metricStat `cbor:"MetricStat,omitempty"`
	Expression *string     `cbor:"Expression,omitempty"`
	Label      *string     `cbor:"Label,omitempty"`
	ReturnData *bool       `cbor:"ReturnData,omitempty"`
	Period     *int64      `cbor:"Period,omitempty"`
	AccountId  *string     `cbor:"AccountId,omitempty"`
}

type getMetricDataInput struct {
	MetricDataQueries []metricDataQuery `cbor:"MetricDataQueries"`
	StartTime         *time.Time        `cbor:"StartTime"`
	EndTime           *time.Time        `cbor:"EndTime"`
	NextToken         *string           `cbor:"NextToken"`
	ScanBy            *string           `cbor:"ScanBy"`
	MaxDatapoints     *int64            `cbor:"MaxDatapoints"`
}

type metricDataResult struct {
	Id         string      `cbor:"Id"`
	Label      string      `cbor:"Label"`
	Timestamps []time.Time `cbor:"Timestamps"`
	Values     []float64   `cbor:"Values"`
	StatusCode string      `cbor:"StatusCode"`
}

type getMetricDataOutput struct {
	MetricDataResults []metricDataResult `cbor:"MetricDataResults"`
}

type tag struct {
	Key   string `cbor:"Key"`
	Value string `cbor:"Value"`
}

type putMetricAlarmInput struct {
	AlarmName               string            `cbor:"AlarmName"`
	AlarmDescription        *string           `cbor:"AlarmDescription,omitempty"`
	ActionsEnabled          *bool             `cbor:"ActionsEnabled,omitempty"`
	AlarmActions            []string          `cbor:"AlarmActions,omitempty"`
	OKActions               []string          `cbor:"OKActions,omitempty"`
	InsufficientDataActions []string          `cbor:"InsufficientDataActions,omitempty"`
	ComparisonOperator      *string           `cbor:"ComparisonOperator,omitempty"`
	EvaluationPeriods       *int64            `cbor:"EvaluationPeriods,omitempty"`
	DatapointsToAlarm       *int64            `cbor:"DatapointsToAlarm,omitempty"`
	Threshold               *float64          `cbor:"Threshold,omitempty"`
	TreatMissingData        *string           `cbor:"TreatMissingData,omitempty"`
	MetricName              *string           `cbor:"MetricName,omitempty"`
	Namespace               *string           `cbor:"Namespace,omitempty"`
	Statistic               *string           `cbor:"Statistic,omitempty"`
	Period                  *int64            `cbor:"Period,omitempty"`
	Dimensions              []dimension       `cbor:"Dimensions,omitempty"`
	Unit                    *string           `cbor:"Unit,omitempty"`
	Metrics                 []metricDataQuery `cbor:"Metrics,omitempty"`
	Tags                    []tag             `cbor:"Tags,omitempty"`
}

type describeAlarmsInput struct {
	AlarmNames      []string `cbor:"AlarmNames"`
	AlarmNamePrefix *string  `cbor:"AlarmNamePrefix"`
	StateValue      *string  `cbor:"StateValue"`
	MaxRecords      *int64   `cbor:"MaxRecords"`
	NextToken       *string  `cbor:"NextToken"`
}

type metricAlarm struct {
	AlarmName                          string            `cbor:"AlarmName"`
	AlarmArn                           string            `cbor:"AlarmArn"`
	AlarmDescription                   *string           `cbor:"AlarmDescription,omitempty"`
	ActionsEnabled                     bool              `cbor:"ActionsEnabled"`
	AlarmActions                       []string          `cbor:"AlarmActions,omitempty"`
	OKActions                          []string          `cbor:"OKActions,omitempty"`
	InsufficientDataActions            []string          `cbor:"InsufficientDataActions,omitempty"`
	ComparisonOperator                 *string           `cbor:"ComparisonOperator,omitempty"`
	EvaluationPeriods                  *int64            `cbor:"EvaluationPeriods,omitempty"`
	DatapointsToAlarm                  *int64            `cbor:"DatapointsToAlarm,omitempty"`
	Threshold                          *float64          `cbor:"Threshold,omitempty"`
	TreatMissingData                   *string           `cbor:"TreatMissingData,omitempty"`
	MetricName                         *string           `cbor:"MetricName,omitempty"`
	Namespace                          *string           `cbor:"Namespace,omitempty"`
	Statistic                          *string           `cbor:"Statistic,omitempty"`
	Period                             *int64            `cbor:"Period,omitempty"`
	Dimensions                         []dimension       `cbor:"Dimensions,omitempty"`
	Metrics                            []metricDataQuery `cbor:"Metrics,omitempty"`
	StateValue                         string            `cbor:"StateValue"`
	StateReason                        string            `cbor:"StateReason"`
	StateUpdatedTimestamp              time.Time         `cbor:"StateUpdatedTimestamp"`
	StateTransitionedTimestamp         time.Time         `cbor:"StateTransitionedTimestamp"`
	AlarmConfigurationUpdatedTimestamp time.Time         `cbor:"AlarmConfigurationUpdatedTimestamp"`
}

type describeAlarmsOutput struct {
	MetricAlarms    []metricAlarm `cbor:"MetricAlarms"`
	CompositeAlarms []struct{}    `cbor:"CompositeAlarms"`
	NextToken       *string       `cbor:"NextToken,omitempty"`
}

type deleteAlarmsInput struct {
	AlarmNames []string `cbor:"AlarmNames"`
}
