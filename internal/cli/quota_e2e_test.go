package cli

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/sim"
)

type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *simClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestQuotaCommandsAt85Percent: a load at 85% of ListInstances' quota →
// `quota status` shows it at ≥ 80% → `quota alarms apply` creates its
// alarms (DescribeAlarms shows the SERVICE_QUOTA expression) → the alarm
// goes to ALARM from the simulator's data → a second `plan` shows no
// change. The simulator's clock runs in the recent past so the load takes
// no wall time.
func TestQuotaCommandsAt85Percent(t *testing.T) {
	clk := &simClock{t: time.Now().Add(-10 * time.Minute).Truncate(time.Minute)}
	s, err := sim.New(sim.Options{Seed: 1, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	_, _ = quotaSim(t) // credentials and a clean endpoint environment
	url := ts.URL

	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), BaseEndpoint: aws.String(url)}
	cc := connect.NewFromConfig(cfg)
	rate := 0.85 * 2 // ListInstances: 2/s
	step := time.Duration(float64(time.Second) / rate)
	for i := 0; i < 3*102; i++ {
		if _, err := cc.ListInstances(ctx, &connect.ListInstancesInput{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		clk.Add(step)
	}

	code, out, errs := runQuotaCLI("quota", "status", "--endpoint", url, "--since", "1h", "--format", "json")
	if code != ExitOK {
		t.Fatalf("status: exit %d\n%s%s", code, out, errs)
	}
	var st struct {
		Rows []struct {
			Op      string  `json:"op"`
			Percent float64 `json:"percent"`
			Mark    string  `json:"mark"`
		} `json:"operations"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.Rows) != 1 || st.Rows[0].Op != "ListInstances" ||
		st.Rows[0].Percent < 80 || st.Rows[0].Mark != "ALARM" {
		t.Fatalf("status: %v\n%s", err, out)
	}

	code, out, errs = runQuotaCLI("quota", "alarms", "apply", "--endpoint", url, "--since", "1h")
	if code != ExitOK || !strings.Contains(out, "2 to create") || !strings.Contains(out, "Applied.") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	cw := cloudwatch.NewFromConfig(cfg)
	d, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"tollgate-quota-ListInstances-alarm"}})
	if err != nil || len(d.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms: %v %+v", err, d)
	}
	a := d.MetricAlarms[0]
	if len(a.Metrics) != 2 || aws.ToString(a.Metrics[1].Expression) != "m1/PERIOD(m1)/SERVICE_QUOTA(m1)*100" || aws.ToFloat64(a.Threshold) != 80 {
		t.Fatalf("alarm config: %+v", a)
	}
	if a.StateValue != cwtypes.StateValueAlarm {
		t.Fatalf("state %s (%s), want ALARM", a.StateValue, aws.ToString(a.StateReason))
	}
	code, out, errs = runQuotaCLI("quota", "alarms", "plan", "--endpoint", url, "--since", "1h")
	if code != ExitOK || !strings.Contains(out, "No changes: 2 alarms") {
		t.Fatalf("second plan: exit %d\n%s%s", code, out, errs)
	}
	t.Logf("alarm %s: %s", a.StateValue, aws.ToString(a.StateReason))
}
