package cloudwatch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	simcw "github.com/tollgatehq/tollgate/sim/cloudwatch"
)

// usage is 90 accepted CreateUser calls at 09:00 and 120 at 09:01 against
// a 2/s quota.
type usage struct{}

func (usage) CallCounts(op string) map[int64]int64 {
	t := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).Unix()
	return map[int64]int64{t: 90, t + 60: 120}
}
func (usage) Quota(op string) (float64, bool) { return 2, op == "CreateUser" }

type inMemory struct{ h http.Handler }

func (t inMemory) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// The real aws-sdk-go-v2 client (rpc-v2-cbor) reads the percent of quota.
func ExampleService() {
	svc := simcw.New(usage{}, simcw.Options{})
	c := cloudwatch.New(cloudwatch.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://cw.local"),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		HTTPClient:  &http.Client{Transport: inMemory{svc}}})
	dims := []types.Dimension{{Name: aws.String("Service"), Value: aws.String("Connect")}, {Name: aws.String("Type"), Value: aws.String("API")},
		{Name: aws.String("Resource"), Value: aws.String("CreateUser")}, {Name: aws.String("Class"), Value: aws.String("None")}}
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	out, err := c.GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(start.Add(2 * time.Minute)),
		ScanBy: types.ScanByTimestampAscending, MetricDataQueries: []types.MetricDataQuery{
			{Id: aws.String("m1"), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{Period: aws.Int32(60), Stat: aws.String("Sum"),
				Metric: &types.Metric{Namespace: aws.String("AWS/Usage"), MetricName: aws.String("CallCount"), Dimensions: dims}}},
			{Id: aws.String("e1"), Expression: aws.String("m1/PERIOD(m1)/SERVICE_QUOTA(m1)*100")},
		}})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := out.MetricDataResults[0]
	for i := range r.Values {
		fmt.Printf("%s %.0f%%\n", r.Timestamps[i].Format("15:04"), r.Values[i])
	}
	// Output:
	// 09:00 75%
	// 09:01 100%
}
