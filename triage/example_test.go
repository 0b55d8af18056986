package triage_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/tollgatehq/tollgate/triage"
)

// record is a minimal CloudTrail record of a dashboard's call.
func record(op string, at, session, errorCode string, n int) string {
	errPart := ""
	if errorCode != "" {
		errPart = fmt.Sprintf(`,"errorCode":%q,"errorMessage":"Rate exceeded"`, errorCode)
	}
	return fmt.Sprintf(`{"eventVersion":"1.11","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/WallboardRole/%s"},`+
		`"eventTime":"2026-11-25T%sZ","eventSource":"connect.amazonaws.com","eventName":%q,"awsRegion":"us-east-1",`+
		`"requestParameters":{"InstanceId":"i-1","Poll":%d},"readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"%s}`,
		session, at, op, n, errPart)
}

// A wallboard polls GetCurrentMetricData 6 times a second for three
// minutes; Connect's 5/s quota refuses one call in six.
func ExampleAnalyze() {
	var recs []string
	n := 0
	for s := 0; s < 180; s++ {
		for k := 0; k < 6; k++ {
			code := ""
			if k == 5 {
				code = "TooManyRequestsException"
			}
			n++
			recs = append(recs, record("GetCurrentMetricData", fmt.Sprintf("10:%02d:%02d", s/60, s%60), "wallboard", code, n))
		}
	}
	log := `{"Records":[` + strings.Join(recs, ",") + `]}`

	rep, err := triage.Analyze(context.Background(), []triage.Input{triage.BytesInput("trail.json", []byte(log))}, triage.Options{})
	if err != nil {
		panic(err)
	}
	f := rep.Findings[0]
	fmt.Println(f.Operation, f.Class, f.Cause)
	fmt.Println("top caller:", f.TopCallers[0].Principal)
	fmt.Printf("%d of %d calls refused; peak %v/s against %v/s, burst %d\n", f.Throttles, f.Calls, f.PeakRate1s, f.QuotaRate, f.QuotaBurst)
	fmt.Println(strings.SplitN(f.Fix, ":", 2)[0])
	// Output:
	// GetCurrentMetricData rate-throttle polling
	// top caller: arn:aws:sts::111122223333:assumed-role/WallboardRole/wallboard
	// 180 of 1080 calls refused; peak 6/s against 5/s, burst 8
	// Poll once, serve many
}

// ParseSDKError reads the errors the AWS SDKs leave in Lambda logs.
func ExampleParseSDKError() {
	for _, line := range []string{
		"operation error Connect: StartOutboundVoiceContact, https response error StatusCode: 429, RequestID: 1f0e, ThrottlingException: Rate exceeded",
		"[ERROR] ClientError: An error occurred (LimitExceededException) when calling the StartChatContact operation: The allowed limit for the resource has been exceeded.",
	} {
		e, ok := triage.ParseSDKError(line)
		fmt.Println(ok, e.SDK, e.Op, e.Code, e.Status)
	}
	// Output:
	// true go StartOutboundVoiceContact ThrottlingException 429
	// true python StartChatContact LimitExceededException 0
}
