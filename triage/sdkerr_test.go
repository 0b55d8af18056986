package triage

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// jsInspect is how Node's console.error prints an AWS SDK for JavaScript v3
// error (util.inspect), as Lambda writes it to CloudWatch Logs.
const jsInspect = "2026-11-25T10:01:02.123Z\tb7c1f0d4-5a6b-4c3d-8e9f-0a1b2c3d4e5f\tERROR\tThrottlingException: Rate exceeded\n" +
	"    at de_ThrottlingExceptionRes (/var/task/node_modules/@aws-sdk/client-connect/dist-cjs/index.js:3512:21)\n" +
	"    at de_CommandError (/var/task/node_modules/@aws-sdk/client-connect/dist-cjs/index.js:2270:19)\n" +
	"    at process.processTicksAndRejections (node:internal/process/task_queues:95:5) {\n" +
	"  '$fault': 'client',\n" +
	"  '$metadata': {\n" +
	"    httpStatusCode: 429,\n" +
	"    requestId: '8b2d3f52-6c1e-4f0a-9b7d-1e2f3a4b5c6d',\n" +
	"    extendedRequestId: undefined,\n" +
	"    cfId: undefined,\n" +
	"    attempts: 3,\n" +
	"    totalRetryDelay: 1552\n" +
	"  }\n" +
	"}"

func TestParseSDKErrorSteps(t *testing.T) {
	type step struct {
		in      string
		ok      bool
		want    SDKError
		comment string
	}
	steps := []step{
		{in: "operation error Connect: GetCurrentMetricData, https response error StatusCode: 429, RequestID: 5b8c2d7e-1111-4a2b-9c3d-000000000001, ThrottlingException: Rate exceeded",
			ok: true, want: SDKError{SDK: "go", Service: "Connect", Op: "GetCurrentMetricData", Code: "ThrottlingException", Status: 429, Message: "Rate exceeded", RequestID: "5b8c2d7e-1111-4a2b-9c3d-000000000001"}},
		{in: "operation error Connect: DescribeUser, exceeded maximum number of attempts, 3, https response error StatusCode: 429, RequestID: , ThrottlingException: Rate exceeded\nfailed to get rate limit token, retry quota exceeded, 0 available, 5 requested",
			ok: true, want: SDKError{SDK: "go", Service: "Connect", Op: "DescribeUser", Code: "ThrottlingException", Status: 429, Message: "Rate exceeded"}},
		{in: "operation error Connect: StartOutboundVoiceContact, https response error StatusCode: 429, RequestID: r-1, api error ThrottlingException: Rate exceeded",
			ok: true, want: SDKError{SDK: "go", Service: "Connect", Op: "StartOutboundVoiceContact", Code: "ThrottlingException", Status: 429, Message: "Rate exceeded", RequestID: "r-1"}},
		{in: "2026/11/25 10:01:02 create user agent.0042: operation error Connect: CreateUser, https response error StatusCode: 402, RequestID: q, ServiceQuotaExceededException: The service quota has been exceeded.",
			ok: true, want: SDKError{SDK: "go", Service: "Connect", Op: "CreateUser", Code: "ServiceQuotaExceededException", Status: 402, Message: "The service quota has been exceeded.", RequestID: "q"}},
		{in: "operation error DynamoDB: Query, https response error StatusCode: 400, RequestID: r, ProvisionedThroughputExceededException: slow down",
			ok: true, want: SDKError{SDK: "go", Service: "DynamoDB", Op: "Query", Code: "ProvisionedThroughputExceededException", Status: 400, Message: "slow down", RequestID: "r"}},
		{in: "operation error Connect: DescribeUser, failed to get rate limit token, retry quota exceeded, 0 available, 5 requested",
			comment: "client-side retry quota alone names no service error"},
		{in: "[ERROR] ClientError: An error occurred (ThrottlingException) when calling the GetCurrentMetricData operation (reached max retries: 4): Rate exceeded",
			ok: true, want: SDKError{SDK: "python", Op: "GetCurrentMetricData", Code: "ThrottlingException", Message: "Rate exceeded"}},
		{in: "botocore.errorfactory.LimitExceededException: An error occurred (LimitExceededException) when calling the StartChatContact operation: The allowed limit for the resource has been exceeded.",
			ok: true, want: SDKError{SDK: "python", Op: "StartChatContact", Code: "LimitExceededException", Message: "The allowed limit for the resource has been exceeded."}},
		{in: "An error occurred (ThrottlingException) when calling the operation: x", comment: "no operation name"},
		{in: jsInspect,
			ok: true, want: SDKError{SDK: "js", Code: "ThrottlingException", Status: 429, Message: "Rate exceeded", RequestID: "8b2d3f52-6c1e-4f0a-9b7d-1e2f3a4b5c6d"}},
		{in: "2026-11-25T10:01:02.123Z\tb7c1\tERROR\tInvoke Error \t{\"errorType\":\"ThrottlingException\",\"errorMessage\":\"Rate exceeded\",\"name\":\"ThrottlingException\",\"$fault\":\"client\",\"$metadata\":{\"httpStatusCode\":429,\"requestId\":\"8b2d\",\"attempts\":3,\"totalRetryDelay\":1552},\"stack\":[\"ThrottlingException: Rate exceeded\"]}",
			ok: true, want: SDKError{SDK: "js", Code: "ThrottlingException", Status: 429, Message: "Rate exceeded", RequestID: "8b2d"}},
		{in: "{ clientName: 'ConnectClient', commandName: 'GetCurrentMetricDataCommand', input: { InstanceId: 'i-1' }, error: TooManyRequestsException: Too many requests\n    at de_TooManyRequestsExceptionRes (index.js:1:1) {\n  '$fault': 'client',\n  '$metadata': { httpStatusCode: 429, requestId: 'abc', attempts: 3 }\n}, metadata: { httpStatusCode: 429, requestId: 'abc', attempts: 3 } }",
			ok: true, want: SDKError{SDK: "js", Service: "Connect", Op: "GetCurrentMetricData", Code: "TooManyRequestsException", Status: 429, Message: "Too many requests", RequestID: "abc"}},
		{in: "ThrottlingException: Rate exceeded\n    at Request.extractError (/var/runtime/node_modules/aws-sdk/lib/protocol/json.js:52:27) {\n  code: 'ThrottlingException',\n  time: 2026-11-25T10:01:02.123Z,\n  requestId: 'v2-req',\n  statusCode: 429,\n  retryable: true\n}",
			ok: true, want: SDKError{SDK: "js", Code: "ThrottlingException", Status: 429, Message: "Rate exceeded", RequestID: "v2-req"}},
		{in: "TypeError: Cannot read properties of undefined (reading 'statusCode')", comment: "not an AWS error"},
		{in: "START RequestId: b7c1 Version: $LATEST", comment: "Lambda platform line"},
	}
	for i, s := range steps {
		got, ok := ParseSDKError(s.in)
		if ok != s.ok {
			t.Errorf("step %d (%s): ok=%v want %v (%+v)", i, s.comment, ok, s.ok, got)
			continue
		}
		if ok && got != s.want {
			t.Errorf("step %d: got  %+v\n            want %+v", i, got, s.want)
		}
	}
}

// FuzzParseSDKError checks that arbitrary log text never panics and that
// what is extracted is well formed.
func FuzzParseSDKError(f *testing.F) {
	f.Add(jsInspect)
	f.Add("operation error Connect: GetCurrentMetricData, https response error StatusCode: 429, RequestID: x, ThrottlingException: Rate exceeded")
	f.Add("An error occurred (ThrottlingException) when calling the DescribeUser operation (reached max retries: 4): Rate exceeded")
	f.Add("{\"name\":\"ThrottlingException\",\"$metadata\":{\"httpStatusCode\":429}}")
	f.Add("code: 'LimitExceededException', statusCode: 429")
	f.Add("operation error : , StatusCode: 99999999999999999999")
	f.Fuzz(func(t *testing.T, s string) {
		e, ok := ParseSDKError(s)
		if !ok {
			return
		}
		if e.Code == "" && e.Status == 0 || e.Code != "" && !isIdent(e.Code) {
			t.Fatalf("bad code %q (status %d)", e.Code, e.Status)
		}
		if e.Op != "" && !isIdent(e.Op) {
			t.Fatalf("bad op %q", e.Op)
		}
		if e.Status != 0 && (e.Status < 100 || e.Status > 599) {
			t.Fatalf("bad status %d", e.Status)
		}
		if len(e.Message) > maxSDKField || len(e.RequestID) > maxSDKField {
			t.Fatalf("field too long")
		}
		if utf8.ValidString(s) && (!utf8.ValidString(e.Message) || !utf8.ValidString(e.RequestID)) {
			t.Fatalf("invalid UTF-8 extracted from valid input")
		}
	})
}

// FuzzSDKErrorRoundTrip formats each SDK's shape from random parts and
// parses it back.
func FuzzSDKErrorRoundTrip(f *testing.F) {
	f.Add("GetCurrentMetricData", "ThrottlingException", 429, "Rate exceeded")
	f.Add("StartTaskContact", "ServiceQuotaExceededException", 402, "Active tasks quota exceeded")
	f.Fuzz(func(t *testing.T, op, code string, status int, msg string) {
		msg = strings.TrimSpace(strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ' || r == '.' {
				return r
			}
			return -1
		}, msg))
		if !isIdent(op) || strings.ContainsRune(op, '.') || !isIdent(code) || !looksLikeCode(code) || status < 100 || status > 599 || len(msg) > 200 {
			t.Skip()
		}
		shapes := []struct {
			text string
			want SDKError
		}{
			{fmt.Sprintf("operation error Connect: %s, https response error StatusCode: %d, RequestID: rid, %s: %s", op, status, code, msg),
				SDKError{SDK: "go", Service: "Connect", Op: op, Code: code, Status: status, Message: msg, RequestID: "rid"}},
			{fmt.Sprintf("An error occurred (%s) when calling the %s operation: %s", code, op, msg),
				SDKError{SDK: "python", Op: op, Code: code, Message: msg}},
			{fmt.Sprintf(`{"name":"%s","errorMessage":"%s","$metadata":{"httpStatusCode":%d,"requestId":"rid"},"commandName":"%sCommand"}`, code, msg, status, op),
				SDKError{SDK: "js", Op: op, Code: code, Status: status, Message: msg, RequestID: "rid"}},
		}
		for _, s := range shapes {
			got, ok := ParseSDKError(s.text)
			if !ok || got != s.want {
				t.Fatalf("%q:\n got  %+v (ok=%v)\n want %+v", s.text, got, ok, s.want)
			}
		}
	})
}
