package awserr_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/quotas"
)

func TestClassifyCode(t *testing.T) {
	type step struct {
		op, code  string
		status    int
		class     awserr.Class
		quotaCode string
		code2     string // expected Info.Code; "" means same as code
	}
	steps := []step{
		// Operation-dependent quota codes.
		{"StartChatContact", "LimitExceededException", 429, awserr.ClassConcurrencyQuota, "L-D4BA6F6E", ""},
		{"CreateUser", "LimitExceededException", 429, awserr.ClassHardQuota, "L-9A46857E", ""},
		{"StartOutboundVoiceContact", "LimitExceededException", 429, awserr.ClassConcurrencyQuota, "L-12AB7C57", ""},
		{"StartTaskContact", "ServiceQuotaExceededException", 402, awserr.ClassConcurrencyQuota, "L-60553137", ""},
		{"CreateInstance", "ServiceQuotaExceededException", 402, awserr.ClassHardQuota, "L-AA17A6B9", ""},
		{"ClaimPhoneNumber", "ServiceQuotaExceededException", 402, awserr.ClassHardQuota, "L-8F812903", ""},
		{"CreateQueue", "ServiceQuotaExceededException", 402, awserr.ClassHardQuota, "L-19A87C94", ""},
		{"DescribeUser", "ServiceQuotaExceededException", 402, awserr.ClassHardQuota, "", ""},
		{"", "ServiceQuotaExceededException", 0, awserr.ClassHardQuota, "", ""},
		// Rate throttles carry the operation's API rate quota code.
		{"StartOutboundVoiceContact", "ThrottlingException", 429, awserr.ClassRateThrottle, "L-4E9BCC96", ""},
		{"StartChatContact", "TooManyRequestsException", 429, awserr.ClassRateThrottle, "L-AA48CD49", ""},
		{"GetCurrentMetricData", "ThrottlingException", 429, awserr.ClassRateThrottle, "L-ED2B0490", ""},
		{"ListUsers", "", 429, awserr.ClassRateThrottle, "L-CCC38177", ""},
		{"ListUsers", "UnknownError", 429, awserr.ClassRateThrottle, "L-CCC38177", "-"},
		{"SomeNewOperation", "ThrottlingException", 429, awserr.ClassRateThrottle, "", ""},
		{"DescribeUser", "throttlingexception", 0, awserr.ClassRateThrottle, "L-EE6F0D82", "ThrottlingException"},
		{"DescribeUser", "com.amazonaws.connect#ThrottlingException:http://internal.amazon.com/coral/", 429,
			awserr.ClassRateThrottle, "L-EE6F0D82", "ThrottlingException"},
		// Transient.
		{"DescribeUser", "InternalServiceException", 500, awserr.ClassTransient, "", ""},
		{"DescribeUser", "", 500, awserr.ClassTransient, "", ""},
		{"DescribeUser", "", 502, awserr.ClassTransient, "", ""},
		{"DescribeUser", "", 503, awserr.ClassTransient, "", ""},
		{"DescribeUser", "", 504, awserr.ClassTransient, "", ""},
		{"DescribeUser", "RequestTimeout", 0, awserr.ClassTransient, "", ""},
		{"DescribeUser", "RequestTimeoutException", 400, awserr.ClassTransient, "", ""},
		// Client faults.
		{"DescribeUser", "InvalidParameterException", 400, awserr.ClassClientFault, "", ""},
		{"DescribeUser", "InvalidRequestException", 400, awserr.ClassClientFault, "", ""},
		{"DescribeUser", "ResourceNotFoundException", 404, awserr.ClassClientFault, "", ""},
		{"DescribeUser", "AccessDeniedException", 403, awserr.ClassClientFault, "", ""},
		{"CreateUser", "DuplicateResourceException", 409, awserr.ClassClientFault, "", ""},
		{"StartOutboundVoiceContact", "DestinationNotAllowedException", 403, awserr.ClassClientFault, "", ""},
		{"StartOutboundVoiceContact", "OutboundContactNotPermittedException", 403, awserr.ClassClientFault, "", ""},
		{"StopContact", "ContactNotFoundException", 410, awserr.ClassClientFault, "", ""},
		{"UpdateContact", "ConflictException", 409, awserr.ClassClientFault, "", ""},
		{"ClaimPhoneNumber", "IdempotencyException", 409, awserr.ClassClientFault, "", ""},
		{"DescribeUser", "SomethingWeird", 418, awserr.ClassClientFault, "", ""},
		{"DescribeUser", "", 404, awserr.ClassClientFault, "", ""},
		// Unknown.
		{"DescribeUser", "", 0, awserr.ClassUnknown, "", ""},
		{"DescribeUser", "SomethingWeird", 0, awserr.ClassUnknown, "", ""},
		{"DescribeUser", "", 302, awserr.ClassUnknown, "", ""},
	}
	for i, s := range steps {
		got := awserr.ClassifyCode(s.op, s.code, s.status)
		if got.Class != s.class {
			t.Errorf("step %d (%s %s %d): class got %v want %v", i, s.op, s.code, s.status, got.Class, s.class)
		}
		if got.QuotaCode != s.quotaCode {
			t.Errorf("step %d (%s %s %d): quota code got %q want %q", i, s.op, s.code, s.status, got.QuotaCode, s.quotaCode)
		}
		wantCode := s.code2
		switch wantCode {
		case "":
			wantCode = s.code
		case "-":
			wantCode = ""
		}
		if got.Code != wantCode {
			t.Errorf("step %d: code got %q want %q", i, got.Code, wantCode)
		}
		if got.Op != s.op || got.Status != s.status {
			t.Errorf("step %d: op/status got %q/%d", i, got.Op, got.Status)
		}
		if got.Advice == "" {
			t.Errorf("step %d: no advice", i)
		}
		if got.Class.IsQuota() && s.quotaCode != "" && got.QuotaName == "" {
			t.Errorf("step %d: quota code %s without a name", i, got.QuotaCode)
		}
	}
}

func TestAdvice(t *testing.T) {
	type step struct {
		op, code string
		status   int
		want     []string
	}
	steps := []step{
		{"StartOutboundVoiceContact", "ThrottlingException", 429, []string{"2 requests/s", "burst of 5", "Wait for a token", "L-4E9BCC96"}},
		{"GetCurrentMetricData", "ThrottlingException", 429, []string{"5 requests/s", "burst of 8", "cannot be increased", "cache", "poll once"}},
		{"SendMessage", "ThrottlingException", 429, []string{"per instance"}},
		{"CreateUser", "LimitExceededException", 429, []string{"No retry will help", "Users per instance (L-9A46857E)"}},
		{"StartChatContact", "LimitExceededException", 429, []string{"Concurrent active chats per instance", "L-D4BA6F6E", "requeue"}},
		{"DescribeUser", "AccessDeniedException", 403, []string{"connect:DescribeUser"}},
		{"DescribeUser", "InternalServiceException", 500, []string{"short jittered backoff"}},
	}
	for i, s := range steps {
		got := awserr.ClassifyCode(s.op, s.code, s.status).Advice
		for _, w := range s.want {
			if !strings.Contains(got, w) {
				t.Errorf("step %d: advice %q lacks %q", i, got, w)
			}
		}
	}
}

func TestTasksPerPreviousContact(t *testing.T) {
	resp := &http.Response{StatusCode: 402, Header: http.Header{"X-Amzn-Errortype": {"ServiceQuotaExceededException"}}}
	got := awserr.ParseResponse("StartTaskContact", resp, []byte(`{"Message":"There are already 12 tasks referencing this PreviousContactId"}`))
	if got.Class != awserr.ClassHardQuota {
		t.Fatalf("class got %v want hard-quota", got.Class)
	}
	if !strings.Contains(got.Advice, "PreviousContactId") {
		t.Errorf("advice %q does not mention PreviousContactId", got.Advice)
	}
}

// Every quota named by the operation table must exist in the quota table.
func TestQuotaNamesResolve(t *testing.T) {
	for _, op := range []string{"StartChatContact", "CreateUser", "StartOutboundVoiceContact", "CreateInstance", "ClaimPhoneNumber",
		"CreateQueue", "CreateRoutingProfile", "CreateContactFlow", "CreateHoursOfOperation", "CreateQuickConnect", "CreateSecurityProfile"} {
		for _, code := range []string{"LimitExceededException", "ServiceQuotaExceededException"} {
			i := awserr.ClassifyCode(op, code, 0)
			if i.QuotaName == "" && !(op == "StartChatContact" || op == "StartOutboundVoiceContact" || op == "StartTaskContact") {
				t.Errorf("%s %s: no quota name", op, code)
			}
		}
	}
	if _, ok := quotas.Default().Resource(quotas.TasksPerPreviousContactID); !ok {
		t.Fatal("tasks-per-previous-contact missing from quota table")
	}
}

func TestClassString(t *testing.T) {
	want := map[awserr.Class]string{
		awserr.ClassUnknown: "unknown", awserr.ClassRateThrottle: "rate-throttle", awserr.ClassConcurrencyQuota: "concurrency-quota",
		awserr.ClassHardQuota: "hard-quota", awserr.ClassTransient: "transient", awserr.ClassClientFault: "client-fault",
		awserr.ClassCanceled: "canceled", awserr.Class(99): "unknown",
	}
	for c, w := range want {
		if got := c.String(); got != w {
			t.Errorf("%d: got %q want %q", int(c), got, w)
		}
		if c != 99 {
			back, ok := awserr.ParseClass(w)
			if !ok || back != c {
				t.Errorf("ParseClass(%q) = %v, %v", w, back, ok)
			}
		}
	}
}

func TestRetryable(t *testing.T) {
	want := map[awserr.Class]bool{
		awserr.ClassRateThrottle: true, awserr.ClassTransient: true, awserr.ClassConcurrencyQuota: true,
		awserr.ClassHardQuota: false, awserr.ClassClientFault: false, awserr.ClassCanceled: false, awserr.ClassUnknown: false,
	}
	for c, w := range want {
		if got := (awserr.Info{Class: c}).Retryable(); got != w {
			t.Errorf("%v: got %v want %v", c, got, w)
		}
	}
}

func TestInfoErr(t *testing.T) {
	cause := errors.New("boom")
	sentinels := []error{awserr.ErrRateThrottle, awserr.ErrConcurrencyQuota, awserr.ErrHardQuota,
		awserr.ErrTransient, awserr.ErrClientFault, awserr.ErrCanceled}
	type step struct {
		info  awserr.Info
		want  error
		quota bool
	}
	steps := []step{
		{awserr.ClassifyCode("StartChatContact", "LimitExceededException", 429), awserr.ErrConcurrencyQuota, true},
		{awserr.ClassifyCode("CreateUser", "LimitExceededException", 429), awserr.ErrHardQuota, true},
		{awserr.ClassifyCode("ListUsers", "ThrottlingException", 429), awserr.ErrRateThrottle, false},
		{awserr.ClassifyCode("ListUsers", "", 503), awserr.ErrTransient, false},
		{awserr.ClassifyCode("ListUsers", "InvalidParameterException", 400), awserr.ErrClientFault, false},
		{awserr.Info{Class: awserr.ClassCanceled}, awserr.ErrCanceled, false},
		{awserr.Info{}, nil, false},
	}
	for i, s := range steps {
		err := s.info.Err(cause)
		if !errors.Is(err, cause) {
			t.Errorf("step %d: does not unwrap to the cause", i)
		}
		for _, sen := range sentinels {
			if got := errors.Is(err, sen); got != (sen == s.want) {
				t.Errorf("step %d: errors.Is(%v) got %v", i, sen, got)
			}
		}
		var q *awserr.QuotaError
		if got := errors.As(err, &q); got != s.quota {
			t.Errorf("step %d: QuotaError got %v want %v", i, got, s.quota)
		}
		if s.quota && (q.QuotaCode != s.info.QuotaCode || q.Advice == "" || q.Op != s.info.Op) {
			t.Errorf("step %d: QuotaError %+v lost data of %+v", i, q, s.info)
		}
		// Classifying an already classified error returns its Info.
		back := awserr.Classify("", err)
		if back.Class != s.info.Class || back.Code != s.info.Code || back.QuotaCode != s.info.QuotaCode {
			t.Errorf("step %d: reclassified as %+v want %+v", i, back, s.info)
		}
		if !strings.Contains(err.Error(), "boom") {
			t.Errorf("step %d: message %q lacks the cause", i, err)
		}
	}
}

// respErr carries an HTTP response the standard-library way, as
// awssdk.WithResponse exposes the one inside an SDK error.
type respErr struct{ resp *http.Response }

func (respErr) Error() string                  { return "api error ThrottlingException: Rate exceeded" }
func (respErr) ErrorCode() string              { return "ThrottlingException" }
func (e respErr) HTTPResponse() *http.Response { return e.resp }

// TestClassifyReadsHTTPResponse: headers reach Classify through
// HTTPResponse() *http.Response, without reflection on SDK types.
func TestClassifyReadsHTTPResponse(t *testing.T) {
	h := http.Header{}
	h.Set("X-Amzn-Requestid", "rid-7")
	h.Set("X-Amz-Retry-After", "750")
	err := fmt.Errorf("call: %w", respErr{&http.Response{StatusCode: 429, Header: h}})
	got := awserr.Classify("DescribeUser", err)
	if got.Class != awserr.ClassRateThrottle || got.Status != 429 || got.RequestID != "rid-7" || got.RetryAfter != 750*time.Millisecond {
		t.Fatalf("got %+v", got)
	}
}
