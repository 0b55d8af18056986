package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/sim"
	"github.com/tollgatehq/tollgate/usage"
)

// TestQuotaStatusInstance: N active calls started in the simulator with the
// real Connect client → quota status --instance-id shows N of the
// concurrent-calls quota (10) with the marker, in text, md and json.
func TestQuotaStatusInstance(t *testing.T) {
	hour := sim.Distribution{Kind: sim.DistFixed, Min: time.Hour, Max: time.Hour}
	s, url := quotaSimWith(t, sim.Options{Seed: 1, RateScale: 10, CallDuration: hour})
	c := connect.New(connect.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	const calls = 8
	for i := 0; i < calls; i++ {
		if _, err := c.StartOutboundVoiceContact(context.Background(), &connect.StartOutboundVoiceContactInput{InstanceId: aws.String(sim.DefaultInstanceID),
			ContactFlowId: aws.String(sim.DefaultContactFlowID), DestinationPhoneNumber: aws.String("+14155550100")}); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Stats().Active[sim.DefaultInstanceID].Calls; got != calls {
		t.Fatalf("simulator holds %d active calls, want %d", got, calls)
	}
	arn := "arn:aws:connect:us-east-1:123456789012:instance/" + sim.DefaultInstanceID

	code, out, errs := runQuotaCLI("quota", "status", "--endpoint", url, "--since", "1h", "--instance-id", sim.DefaultInstanceID)
	voice := lineWith(out, "VOICE")
	if code != ExitOK || !strings.Contains(voice, "L-12AB7C57") || !strings.Contains(voice, "80.0%") || !strings.HasSuffix(strings.TrimSpace(voice), usage.MarkAlarm) {
		t.Fatalf("text: exit %d, VOICE line %q\n%s%s", code, voice, out, errs)
	}
	if f := strings.Fields(voice); len(f) < 5 || f[1] != "10" || f[4] != "8" {
		t.Fatalf("text VOICE line %q: want quota 10, in use 8", voice)
	}

	code, out, errs = runQuotaCLI("quota", "status", "--endpoint", url, "--since", "1h", "--instance-id", arn, "--format", "md")
	if md := lineWith(out, "| VOICE |"); code != ExitOK || !strings.HasPrefix(md, "| VOICE | 10 | L-12AB7C57 | yes | 8 |") || !strings.HasSuffix(md, "| ALARM |") {
		t.Fatalf("md: exit %d, VOICE line %q\n%s%s", code, md, out, errs)
	}

	code, out, errs = runQuotaCLI("quota", "status", "--endpoint", url, "--since", "1h", "--instance-id", sim.DefaultInstanceID, "--warn", "85", "--alarm", "90", "--format", "json")
	var st usage.Status
	if err := json.Unmarshal([]byte(out), &st); code != ExitOK || err != nil || st.Instance == nil {
		t.Fatalf("json: exit %d %v\n%s%s", code, err, out, errs)
	}
	if v := st.Instance.Rows[0]; v.Quota.Channel != "VOICE" || v.InUse != calls || v.Percent != 80 || v.Mark != usage.MarkNone || st.Instance.InstanceARN != arn {
		t.Fatalf("json VOICE row %+v (arn %s), want 8 of 10 unmarked at warn 85", v, st.Instance.InstanceARN)
	}

	code, out, errs = runQuotaCLI("quota", "status", "--endpoint", url, "--instance-id", "00000000-0000-4000-8000-00000000dead")
	if code != ExitFailure || !strings.Contains(errs, "DescribeInstance") {
		t.Fatalf("unknown instance: exit %d\n%s%s", code, out, errs)
	}
}

func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
