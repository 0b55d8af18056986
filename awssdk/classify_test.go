package awssdk_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/awssdk"
)

// newClient returns a real Connect client that sends every request to h,
// with one attempt per call so that the server's answer reaches the caller.
func newErrClient(t *testing.T, h http.HandlerFunc) *connect.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return connect.New(connect.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       srv.Client(),
	})
}

func replyErr(status int, errType, body string, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-RequestId", "rid-42")
		if errType != "" {
			w.Header().Set("X-Amzn-ErrorType", errType)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		if len(body) > 0 && body[0] == '{' {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

// TestClassifySDK drives the real aws-sdk-go-v2 Connect client against a
// loopback server and classifies the errors it returns.
func TestClassifySDK(t *testing.T) {
	ctx := context.Background()
	type step struct {
		name      string
		h         http.HandlerFunc
		call      func(c *connect.Client) error
		op        string
		class     awserr.Class
		code      string
		quotaCode string
		retry     time.Duration
	}
	chat := func(c *connect.Client) error {
		_, err := c.StartChatContact(ctx, &connect.StartChatContactInput{
			InstanceId: aws.String("i"), ContactFlowId: aws.String("f"),
			ParticipantDetails: &types.ParticipantDetails{DisplayName: aws.String("n")},
		})
		return err
	}
	user := func(c *connect.Client) error {
		_, err := c.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: aws.String("i"), UserId: aws.String("u")})
		return err
	}
	task := func(c *connect.Client) error {
		_, err := c.StartTaskContact(ctx, &connect.StartTaskContactInput{InstanceId: aws.String("i"), Name: aws.String("n")})
		return err
	}
	steps := []step{
		{"chat concurrency", replyErr(429, "LimitExceededException", `{"Message":"too many chats"}`), chat,
			"StartChatContact", awserr.ClassConcurrencyQuota, "LimitExceededException", "L-D4BA6F6E", 0},
		{"chat tps", replyErr(429, "TooManyRequestsException", `{"message":"Rate exceeded"}`, "x-amz-retry-after", "750"), chat,
			"StartChatContact", awserr.ClassRateThrottle, "TooManyRequestsException", "L-AA48CD49", 750 * time.Millisecond},
		{"user throttle uri", replyErr(429, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/", `{"message":"Rate exceeded"}`), user,
			"DescribeUser", awserr.ClassRateThrottle, "ThrottlingException", "L-EE6F0D82", 0},
		{"bare 429", replyErr(429, "", ``), user, "DescribeUser", awserr.ClassRateThrottle, "", "L-EE6F0D82", 0},
		{"task quota", replyErr(402, "ServiceQuotaExceededException", `{"Message":"active tasks"}`), task,
			"StartTaskContact", awserr.ClassConcurrencyQuota, "ServiceQuotaExceededException", "L-60553137", 0},
		{"internal", replyErr(500, "InternalServiceException", `{"Message":"x"}`), user, "DescribeUser", awserr.ClassTransient, "InternalServiceException", "", 0},
		{"html 503", replyErr(503, "", `<html><body>Service Unavailable</body></html>`), user, "DescribeUser", awserr.ClassTransient, "", "", 0},
		{"not found", replyErr(404, "", `{"__type":"com.amazonaws.connect#ResourceNotFoundException","Message":"no"}`), user,
			"DescribeUser", awserr.ClassClientFault, "ResourceNotFoundException", "", 0},
		{"denied", replyErr(403, "AccessDeniedException", `{"Message":"no"}`), user, "DescribeUser", awserr.ClassClientFault, "AccessDeniedException", "", 0},
	}
	for i, s := range steps {
		err := s.call(newErrClient(t, s.h))
		if err == nil {
			t.Fatalf("step %d (%s): no error", i, s.name)
		}
		got := awssdk.Classify("", err)
		if got.Class != s.class || got.Code != s.code || got.Op != s.op || got.QuotaCode != s.quotaCode {
			t.Errorf("step %d (%s): got %v/%q/%q/%q want %v/%q/%q/%q (err: %v)", i, s.name,
				got.Class, got.Code, got.Op, got.QuotaCode, s.class, s.code, s.op, s.quotaCode, err)
		}
		if got.RetryAfter != s.retry {
			t.Errorf("step %d (%s): retry after got %v want %v", i, s.name, got.RetryAfter, s.retry)
		}
		if got.RequestID != "rid-42" {
			t.Errorf("step %d (%s): request id got %q", i, s.name, got.RequestID)
		}
		if got.Status == 0 {
			t.Errorf("step %d (%s): no status", i, s.name)
		}
		// The classified error still unwraps to the SDK's error.
		var oe *smithy.OperationError
		if !errors.As(got.Err(err), &oe) {
			t.Errorf("step %d (%s): Err does not unwrap to the SDK error", i, s.name)
		}
	}
}

func TestClassifyCanceled(t *testing.T) {
	c := newErrClient(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: aws.String("i"), UserId: aws.String("u")})
	got := awssdk.Classify("", err)
	if got.Class != awserr.ClassCanceled || got.Op != "DescribeUser" {
		t.Fatalf("got %v op %q for %v", got.Class, got.Op, err)
	}
	if got.Retryable() {
		t.Fatal("canceled must not be retryable")
	}
	if !errors.Is(got.Err(err), context.Canceled) {
		t.Fatal("Err lost context.Canceled")
	}
}

func TestClassifyClientSideValidation(t *testing.T) {
	c := newErrClient(t, replyErr(200, "", "{}"))
	_, err := c.DescribeUser(context.Background(), &connect.DescribeUserInput{InstanceId: aws.String("i")})
	if got := awssdk.Classify("", err); got.Class != awserr.ClassClientFault || got.Op != "DescribeUser" {
		t.Fatalf("missing UserId: got %v op %q for %v", got.Class, got.Op, err)
	}
	_, err = c.DescribeUser(context.Background(), &connect.DescribeUserInput{InstanceId: aws.String(""), UserId: aws.String("u")})
	if got := awssdk.Classify("", err); got.Class != awserr.ClassClientFault {
		t.Fatalf("empty InstanceId: got %v for %v", got.Class, err)
	}
}

func TestClassifyConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := connect.New(connect.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
	})
	_, err = c.DescribeUser(context.Background(), &connect.DescribeUserInput{InstanceId: aws.String("i"), UserId: aws.String("u")})
	if got := awssdk.Classify("", err); got.Class != awserr.ClassTransient || got.Op != "DescribeUser" {
		t.Fatalf("got %v op %q for %v", got.Class, got.Op, err)
	}
}

// TestClassifyConstructed builds SDK error values by hand, the way the
// deserializers wrap them.
func TestClassifyConstructed(t *testing.T) {
	wrap := func(op string, status int, hdr http.Header, inner error) error {
		return &smithy.OperationError{ServiceID: "Connect", OperationName: op, Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: hdr}},
				Err:      inner,
			},
			RequestID: "r",
		}}
	}
	type step struct {
		op    string
		err   error
		class awserr.Class
		code  string
	}
	steps := []step{
		{"", wrap("CreateUser", 429, http.Header{}, &types.LimitExceededException{Message: aws.String("users")}), awserr.ClassHardQuota, "LimitExceededException"},
		{"", wrap("StartOutboundVoiceContact", 429, http.Header{}, &types.LimitExceededException{}), awserr.ClassConcurrencyQuota, "LimitExceededException"},
		{"", wrap("StartOutboundVoiceContact", 429, http.Header{}, &smithy.GenericAPIError{Code: "ThrottlingException"}), awserr.ClassRateThrottle, "ThrottlingException"},
		{"", wrap("ListUsers", 503, http.Header{}, &smithy.DeserializationError{Err: errors.New("invalid character '<'")}), awserr.ClassTransient, ""},
		{"", wrap("StopContact", 410, http.Header{}, &types.ContactNotFoundException{}), awserr.ClassClientFault, "ContactNotFoundException"},
		{"", wrap("CreateInstance", 402, http.Header{}, &types.ServiceQuotaExceededException{}), awserr.ClassHardQuota, "ServiceQuotaExceededException"},
		{"ClaimPhoneNumber", &types.ServiceQuotaExceededException{}, awserr.ClassHardQuota, "ServiceQuotaExceededException"},
		// Errors joined with the SDK's retry-quota error keep the API error.
		{"", errors.Join(wrap("DescribeUser", 429, http.Header{}, &types.ThrottlingException{}),
			errors.New("failed to get rate limit token, retry quota exceeded, 0 available, 5 requested")), awserr.ClassRateThrottle, "ThrottlingException"},
		{"DescribeUser", errors.New("operation error Connect: DescribeUser, failed to get rate limit token, retry quota exceeded, 3 available, 5 requested"), awserr.ClassTransient, ""},
		// Network failures.
		{"X", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, awserr.ClassTransient, ""},
		{"X", fmt.Errorf("send: %w", syscall.ECONNREFUSED), awserr.ClassTransient, ""},
		{"X", errors.New("read tcp 10.0.0.1:443: connection reset by peer"), awserr.ClassTransient, ""},
		{"X", &net.DNSError{Err: "no such host", Name: "connect.xx-nowhere-1.amazonaws.com", IsNotFound: true}, awserr.ClassClientFault, ""},
		{"X", os.ErrDeadlineExceeded, awserr.ClassTransient, ""},
		{"X", fmt.Errorf("wrapped: %w", context.DeadlineExceeded), awserr.ClassCanceled, ""},
		{"X", errors.New("something odd"), awserr.ClassUnknown, ""},
	}
	for i, s := range steps {
		got := awssdk.Classify(s.op, s.err)
		if got.Class != s.class || got.Code != s.code {
			t.Errorf("step %d: got %v/%q want %v/%q (%v)", i, got.Class, got.Code, s.class, s.code, s.err)
		}
		if got.Op == "" {
			t.Errorf("step %d: no op", i)
		}
	}
	if got := awssdk.Classify("Op", nil); got.Class != awserr.ClassUnknown || got.Op != "Op" {
		t.Errorf("nil: got %+v", got)
	}
}
