package awserr_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tollgatehq/tollgate/awserr"
)

func FuzzParseResponse(f *testing.F) {
	f.Add(429, "ThrottlingException:http://internal.amazon.com/coral/", `{"message":"Rate exceeded"}`, "1000", "StartChatContact")
	f.Add(429, "", `{"__type":"com.amazonaws.connect#LimitExceededException","Message":"x"}`, "", "StartChatContact")
	f.Add(503, "", `<html>`, "", "ListUsers")
	f.Add(402, "ns#ServiceQuotaExceededException", `{"code":1}`, "Sun, 01 Mar 2026 12:00:30 GMT", "StartTaskContact")
	f.Add(0, "#:", `{"code":"#"}`, "-1", "")
	f.Fuzz(func(t *testing.T, status int, errType, body, retry, op string) {
		h := http.Header{}
		if errType != "" {
			h.Set("X-Amzn-ErrorType", errType)
		}
		if retry != "" {
			h.Set("Retry-After", retry)
			h.Set("X-Amz-Retry-After", retry)
		}
		info := awserr.ParseResponse(op, &http.Response{StatusCode: status, Header: h}, []byte(body))
		if info.Class < awserr.ClassUnknown || info.Class > awserr.ClassCanceled {
			t.Fatalf("class out of range: %d", info.Class)
		}
		if strings.Contains(info.Code, ":") || len(info.Code) > 128 || !utf8.ValidString(info.Code) {
			t.Fatalf("unsanitized code %q", info.Code)
		}
		if info.RetryAfter < 0 || info.RetryAfter > awserr.MaxRetryAfter {
			t.Fatalf("retry after out of range: %v", info.RetryAfter)
		}
		if (status < 200 || status > 299) && info.Advice == "" {
			t.Fatalf("no advice for status %d", status)
		}
		if err := info.Err(nil); err == nil || err.Error() == "" {
			t.Fatal("Err gave no error")
		}
	})
}

func FuzzRetryAfter(f *testing.F) {
	f.Add("3000", "")
	f.Add("", "120")
	f.Add("", "Sun, 01 Mar 2026 12:00:30 GMT")
	f.Add("-1", "x")
	f.Add("18446744073709551616", "")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, amz, std string) {
		h := http.Header{}
		h.Set("X-Amz-Retry-After", amz)
		h.Set("Retry-After", std)
		d := awserr.RetryAfterAt(h, now)
		if d < 0 || d > awserr.MaxRetryAfter {
			t.Fatalf("got %v for %q/%q", d, amz, std)
		}
	})
}
