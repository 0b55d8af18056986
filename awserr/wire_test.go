package awserr_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
)

func TestParseResponse(t *testing.T) {
	type step struct {
		status    int
		header    map[string]string
		body      string
		class     awserr.Class
		code, msg string
	}
	steps := []step{
		{429, map[string]string{"X-Amzn-ErrorType": "ThrottlingException"}, `{"message":"Rate exceeded"}`, awserr.ClassRateThrottle, "ThrottlingException", "Rate exceeded"},
		{429, map[string]string{"x-amzn-errortype": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/"}, `{"Message":"Rate exceeded"}`, awserr.ClassRateThrottle, "ThrottlingException", "Rate exceeded"},
		{429, map[string]string{"X-Amzn-ErrorType": "com.amazonaws.connect#TooManyRequestsException:http://x/"}, ``, awserr.ClassRateThrottle, "TooManyRequestsException", ""},
		{429, nil, `{"__type":"com.amazonaws.connect#ThrottlingException","Message":"slow"}`, awserr.ClassRateThrottle, "ThrottlingException", "slow"},
		{429, nil, `{"code":"ThrottlingException"}`, awserr.ClassRateThrottle, "ThrottlingException", ""},
		{429, nil, `{"Code":"ns#ThrottlingException:http://x"}`, awserr.ClassRateThrottle, "ThrottlingException", ""},
		{429, nil, ``, awserr.ClassRateThrottle, "", ""},
		// The header wins over the body; code wins over __type.
		{429, map[string]string{"X-Amzn-ErrorType": "LimitExceededException"}, `{"code":"ThrottlingException"}`, awserr.ClassConcurrencyQuota, "LimitExceededException", ""},
		{429, nil, `{"code":"LimitExceededException","__type":"ThrottlingException"}`, awserr.ClassConcurrencyQuota, "LimitExceededException", ""},
		// Non-JSON 503 from a load balancer.
		{503, nil, `<html><body>Service Unavailable</body></html>`, awserr.ClassTransient, "", ""},
		{500, map[string]string{"X-Amzn-ErrorType": "InternalServiceException"}, `{"Message":"oops"}`, awserr.ClassTransient, "InternalServiceException", "oops"},
		{402, map[string]string{"X-Amzn-ErrorType": "ServiceQuotaExceededException"}, `{"Message":"quota","Reason":{"AttachedFileServiceQuotaExceededExceptionReason":"x"}}`, awserr.ClassHardQuota, "ServiceQuotaExceededException", "quota"},
		{404, nil, `{"code":"ResourceNotFoundException","message":"no such user"}`, awserr.ClassClientFault, "ResourceNotFoundException", "no such user"},
		// A member of the wrong type does not hide the others.
		{400, nil, `{"code":"InvalidParameterException","message":42}`, awserr.ClassClientFault, "InvalidParameterException", ""},
		{200, nil, `{}`, awserr.ClassUnknown, "", ""},
	}
	for i, s := range steps {
		resp := &http.Response{StatusCode: s.status, Header: http.Header{}}
		for k, v := range s.header {
			resp.Header.Set(k, v)
		}
		resp.Header.Set("X-Amzn-RequestId", "req-1")
		op := "StartChatContact"
		got := awserr.ParseResponse(op, resp, []byte(s.body))
		if got.Class != s.class || got.Code != s.code || got.Message != s.msg {
			t.Errorf("step %d: got %v/%q/%q want %v/%q/%q", i, got.Class, got.Code, got.Message, s.class, s.code, s.msg)
		}
		if got.RequestID != "req-1" || got.Status != s.status || got.Op != op {
			t.Errorf("step %d: request id/status/op got %q/%d/%q", i, got.RequestID, got.Status, got.Op)
		}
	}
	if got := awserr.ParseResponse("X", nil, nil); got.Class != awserr.ClassUnknown || got.Op != "X" {
		t.Errorf("nil response: got %+v", got)
	}
}

func TestParseResponseRetryAfter(t *testing.T) {
	resp := &http.Response{StatusCode: 429, Header: http.Header{"X-Amz-Retry-After": {"1500"}}}
	if got := awserr.ParseResponse("ListUsers", resp, nil).RetryAfter; got != 1500*time.Millisecond {
		t.Errorf("got %v want 1.5s", got)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	type step struct {
		amz, std string
		want     time.Duration
	}
	steps := []step{
		{"", "", 0},
		{"3000", "", 3 * time.Second},
		{"0", "", 0},
		{" 250 ", "", 250 * time.Millisecond},
		{"-5", "", 0},
		{"1.5", "", 0},
		{"abc", "7", 7 * time.Second},
		{"3000", "7", 3 * time.Second}, // x-amz-retry-after wins
		{"", "2", 2 * time.Second},
		{"", "-2", 0},
		{"", "Sun, 01 Mar 2026 12:00:30 GMT", 30 * time.Second},
		{"", "Sunday, 01-Mar-26 12:00:30 GMT", 30 * time.Second},
		{"", "Sun Mar  1 12:00:30 2026", 30 * time.Second},
		{"", "Sun, 01 Mar 2026 11:59:00 GMT", 0}, // in the past
		{"", "Mon, 01 Mar 2027 12:00:00 GMT", awserr.MaxRetryAfter},
		{"99999999999999999999999", "", awserr.MaxRetryAfter},
		{"", "99999999999999999999999", awserr.MaxRetryAfter},
		{"", "7200", awserr.MaxRetryAfter},
		{"", "soon", 0},
	}
	for i, s := range steps {
		h := http.Header{}
		if s.amz != "" {
			h.Set("x-amz-retry-after", s.amz)
		}
		if s.std != "" {
			h.Set("Retry-After", s.std)
		}
		if got := awserr.RetryAfterAt(h, now); got != s.want {
			t.Errorf("step %d: got %v want %v", i, got, s.want)
		}
	}
	if got := awserr.RetryAfter(nil); got != 0 {
		t.Errorf("nil header: got %v", got)
	}
}

func TestSanitizeCode(t *testing.T) {
	type step struct{ in, want string }
	steps := []step{
		{"ThrottlingException", "ThrottlingException"},
		{"ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/", "ThrottlingException"},
		{"aws.protocoltests.restjson#FooError:http://internal.amazon.com/coral/com.amazon.coral.validate/", "FooError"},
		{"ns#FooError", "FooError"},
		{"  FooError\n", "FooError"},
		{"Foo\x00Error", "FooError"},
		{"", ""},
	}
	for i, s := range steps {
		if got := awserr.SanitizeCode(s.in); got != s.want {
			t.Errorf("step %d: got %q want %q", i, got, s.want)
		}
	}
	long := awserr.SanitizeCode(string(make([]byte, 0)) + stringsRepeat("é", 200))
	if len(long) > 128 {
		t.Errorf("long code not limited: %d bytes", len(long))
	}
}

func stringsRepeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}
