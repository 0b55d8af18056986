package awserr_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/tollgatehq/tollgate/awserr"
)

func ExampleClassifyCode() {
	for _, op := range []string{"StartChatContact", "CreateUser", "DescribeUser"} {
		i := awserr.ClassifyCode(op, "LimitExceededException", 429)
		fmt.Printf("%s %s %q\n", op, i.Class, i.QuotaCode)
	}
	i := awserr.ClassifyCode("StartOutboundVoiceContact", "ThrottlingException", 429)
	fmt.Println(i.Class, i.QuotaCode, i.Retryable())
	fmt.Println(i.Advice)
	// Output:
	// StartChatContact concurrency-quota "L-D4BA6F6E"
	// CreateUser hard-quota "L-9A46857E"
	// DescribeUser hard-quota ""
	// rate-throttle L-4E9BCC96 true
	// StartOutboundVoiceContact is limited to 2 requests/s with a burst of 5, per account and Region, shared by every caller in the account. Wait for a token before retrying; if throttling is sustained, request an increase of L-4E9BCC96 (Rate of StartOutboundVoiceContact API requests).
}

func ExampleParseResponse() {
	resp := &http.Response{StatusCode: 429, Header: http.Header{}}
	resp.Header.Set("X-Amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/")
	resp.Header.Set("X-Amzn-RequestId", "6f1c-example")
	resp.Header.Set("x-amz-retry-after", "1200")
	i := awserr.ParseResponse("GetCurrentMetricData", resp, []byte(`{"Message":"Rate exceeded"}`))
	fmt.Println(i.Class, i.Code, i.Message, i.RequestID, i.RetryAfter)
	fmt.Println(i.Advice)
	// Output:
	// rate-throttle ThrottlingException Rate exceeded 6f1c-example 1.2s
	// GetCurrentMetricData is limited to 5 requests/s with a burst of 8, per account and Region, shared by every caller in the account. Wait for a token before retrying. This rate cannot be increased: cache the result and poll once for all consumers (one scheduled poller feeding a cache) instead of calling per dashboard or agent.
}

func ExampleInfo_Err() {
	cause := errors.New("api error ServiceQuotaExceededException: quota exceeded")
	err := awserr.ClassifyCode("CreateInstance", "ServiceQuotaExceededException", 402).Err(cause)

	fmt.Println(errors.Is(err, awserr.ErrHardQuota), errors.Is(err, cause))
	var q *awserr.QuotaError
	if errors.As(err, &q) {
		fmt.Println(q.QuotaName, q.QuotaCode)
		fmt.Println(q.Advice)
	}
	// Output:
	// true true
	// Amazon Connect instances per account L-AA17A6B9
	// No retry will help; request an increase of Amazon Connect instances per account (L-AA17A6B9), or free resources first.
}
