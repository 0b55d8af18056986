package usage

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Usage is the measured use of one operation over a window.
type Usage struct {
	Op            string    `json:"op"`
	Calls         float64   `json:"calls"`                 // accepted calls in the window
	PeakMinute    float64   `json:"peak_minute"`           // calls in the busiest minute
	PeakMinuteAt  time.Time `json:"peak_minute_at"`        // start of the busiest minute
	PeakRate      float64   `json:"peak_rate"`             // PeakMinute / 60: the busiest minute's average rate
	PeakSecond    float64   `json:"peak_second,omitempty"` // busiest second seen by Tollgate itself (0: unknown)
	ActiveMinutes int       `json:"active_minutes"`        // minutes with at least one call
	Throttles     float64   `json:"throttles,omitempty"`   // throttles seen by Tollgate itself
}

// MetricReader is the part of the CloudWatch client ReadUsage uses.
type MetricReader interface {
	GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// UsageMetric is the AWS/Usage CallCount metric of op.
func UsageMetric(op string) *cwtypes.Metric {
	return &cwtypes.Metric{Namespace: aws.String("AWS/Usage"), MetricName: aws.String("CallCount"), Dimensions: []cwtypes.Dimension{
		{Name: aws.String("Service"), Value: aws.String("Connect")}, {Name: aws.String("Type"), Value: aws.String("API")},
		{Name: aws.String("Resource"), Value: aws.String(op)}, {Name: aws.String("Class"), Value: aws.String("None")}}}
}

// maxQueries is GetMetricData's limit of queries per call.
const maxQueries = 500

// ReadUsage reads CallCount (Sum per minute) of ops over [from, to) and
// returns the operations that were called, by name.
func ReadUsage(ctx context.Context, cw MetricReader, ops []string, from, to time.Time) (map[string]Usage, error) {
	out := map[string]Usage{}
	for start := 0; start < len(ops); start += maxQueries {
		batch := ops[start:min(len(ops), start+maxQueries)]
		qs := make([]cwtypes.MetricDataQuery, len(batch))
		for i, op := range batch {
			qs[i] = cwtypes.MetricDataQuery{Id: aws.String(fmt.Sprintf("m%d", i)), Label: aws.String(op),
				MetricStat: &cwtypes.MetricStat{Metric: UsageMetric(op), Period: aws.Int32(60), Stat: aws.String("Sum")}}
		}
		in := &cloudwatch.GetMetricDataInput{MetricDataQueries: qs, StartTime: aws.Time(from), EndTime: aws.Time(to),
			ScanBy: cwtypes.ScanByTimestampAscending}
		p := cloudwatch.NewGetMetricDataPaginator(cw, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, wrapAWS(err, "cloudwatch", "GetMetricData", "")
			}
			for _, r := range page.MetricDataResults {
				var i int
				if _, err := fmt.Sscanf(aws.ToString(r.Id), "m%d", &i); err != nil || i < 0 || i >= len(batch) {
					continue
				}
				op := batch[i]
				u := out[op]
				u.Op = op
				for k, v := range r.Values {
					if v <= 0 {
						continue
					}
					u.Calls += v
					u.ActiveMinutes++
					if v > u.PeakMinute {
						u.PeakMinute, u.PeakMinuteAt = v, r.Timestamps[k]
					}
				}
				u.PeakRate = u.PeakMinute / 60
				if u.Calls > 0 {
					out[op] = u
				}
			}
		}
	}
	return out, nil
}
