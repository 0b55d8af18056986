package awssdk_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/smithy-go"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// Calls with the smallest valid input of each operation used below.
var (
	iid   = aws.String("11111111-2222-3333-4444-555555555555")
	calls = map[string]func(context.Context, *connect.Client) error{
		"ListUsers": func(ctx context.Context, c *connect.Client) error {
			_, err := c.ListUsers(ctx, &connect.ListUsersInput{InstanceId: iid})
			return err
		},
		"DescribeUser": func(ctx context.Context, c *connect.Client) error {
			_, err := c.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: iid, UserId: aws.String("u-1")})
			return err
		},
		"StartChatContact": func(ctx context.Context, c *connect.Client) error {
			_, err := c.StartChatContact(ctx, &connect.StartChatContactInput{
				InstanceId: iid, ContactFlowId: aws.String("flow"),
				ParticipantDetails: &types.ParticipantDetails{DisplayName: aws.String("Customer")},
			})
			return err
		},
		"StartTaskContact": func(ctx context.Context, c *connect.Client) error {
			_, err := c.StartTaskContact(ctx, &connect.StartTaskContactInput{InstanceId: iid, Name: aws.String("task")})
			return err
		},
		"CreateUser": func(ctx context.Context, c *connect.Client) error {
			_, err := c.CreateUser(ctx, &connect.CreateUserInput{
				InstanceId: iid, Username: aws.String("agent1"), RoutingProfileId: aws.String("rp"),
				SecurityProfileIds: []string{"sp"},
			})
			return err
		},
		"CreateInstance": func(ctx context.Context, c *connect.Client) error {
			_, err := c.CreateInstance(ctx, &connect.CreateInstanceInput{
				IdentityManagementType: types.DirectoryTypeConnectManaged,
				InboundCallsEnabled:    aws.Bool(true), OutboundCallsEnabled: aws.Bool(true),
			})
			return err
		},
		"StopContact": func(ctx context.Context, c *connect.Client) error {
			_, err := c.StopContact(ctx, &connect.StopContactInput{InstanceId: iid, ContactId: aws.String("c-1")})
			return err
		},
	}
)

// as reports whether err's chain holds a T.
func as[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}

const coral = ":http://internal.amazon.com/coral/com.amazon.coral.availability/"

// TestErrorShapes sends each error shape of connect-api.md §2–3 through the
// real connect client (v1.175.2) under a governor with 3 attempts and
// jitter fixed at 0.5: throttles back off 0.5 s then 1 s, transient
// failures 25 ms then 50 ms, quotas and client faults fail at once.
func TestErrorShapes(t *testing.T) {
	const (
		throttleWait  = 1500 * time.Millisecond
		transientWait = 75 * time.Millisecond
	)
	type step struct {
		name     string
		op       string
		respond  func(w http.ResponseWriter, r *http.Request, n int)
		class    awserr.Class
		attempts int
		waited   time.Duration
		is       []error
		as       func(error) bool // the SDK's own error type is still reachable
		quota    string           // QuotaError.QuotaCode
		ok       bool
	}
	status := func(code int, hdr map[string]string, body string) func(http.ResponseWriter, *http.Request, int) {
		return func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, code, hdr, body) }
	}
	errType := func(code string) map[string]string { return map[string]string{"X-Amzn-ErrorType": code} }
	throttled := []error{governor.ErrAttempts, awserr.ErrRateThrottle}
	steps := []step{
		{name: "429 header with coral URI", op: "ListUsers",
			respond: status(429, errType("ThrottlingException"+coral), `{"message":"Rate exceeded"}`),
			class:   awserr.ClassRateThrottle, attempts: 3, waited: throttleWait, is: throttled,
			as: as[*types.ThrottlingException]},
		{name: "429 body __type with ns#", op: "ListUsers",
			respond: status(429, nil, `{"__type":"com.amazonaws.connect#ThrottlingException","Message":"Rate exceeded"}`),
			class:   awserr.ClassRateThrottle, attempts: 3, waited: throttleWait, is: throttled,
			as: as[*types.ThrottlingException]},
		{name: "429 body code only", op: "ListUsers",
			respond: status(429, nil, `{"code":"ThrottlingException"}`),
			class:   awserr.ClassRateThrottle, attempts: 3, waited: throttleWait, is: throttled,
			as: as[*types.ThrottlingException]},
		{name: "429 no header empty body", op: "ListUsers",
			respond: status(429, nil, ""),
			class:   awserr.ClassRateThrottle, attempts: 3, waited: throttleWait, is: throttled,
			as: as[*smithy.GenericAPIError]},
		{name: "429 TooManyRequests unmodeled on ListUsers", op: "ListUsers",
			respond: status(429, errType("TooManyRequestsException"), `{"message":"Too many"}`),
			class:   awserr.ClassRateThrottle, attempts: 3, waited: throttleWait, is: throttled,
			as: as[*smithy.GenericAPIError]},
		{name: "429 TooManyRequests on StartChatContact (TPS)", op: "StartChatContact",
			respond: status(429, errType("TooManyRequestsException"), `{"Message":"Rate exceeded"}`),
			class:   awserr.ClassRateThrottle, attempts: 3, waited: throttleWait, is: throttled},
		{name: "429 LimitExceeded on StartChatContact (concurrent chats)", op: "StartChatContact",
			respond: status(429, errType("LimitExceededException"), `{"Message":"The allowed limit for the resource has been exceeded"}`),
			class:   awserr.ClassConcurrencyQuota, attempts: 1, is: []error{awserr.ErrConcurrencyQuota},
			as: as[*types.LimitExceededException], quota: "L-D4BA6F6E"},
		{name: "429 LimitExceeded on CreateUser (users per instance)", op: "CreateUser",
			respond: status(429, errType("LimitExceededException"), `{"Message":"The allowed limit for the resource has been exceeded"}`),
			class:   awserr.ClassHardQuota, attempts: 1, is: []error{awserr.ErrHardQuota},
			as: as[*types.LimitExceededException], quota: "L-9A46857E"},
		{name: "402 ServiceQuotaExceeded on StartTaskContact (active tasks)", op: "StartTaskContact",
			respond: status(402, errType("ServiceQuotaExceededException"), `{"Message":"The service quota has been exceeded"}`),
			class:   awserr.ClassConcurrencyQuota, attempts: 1, is: []error{awserr.ErrConcurrencyQuota},
			as: as[*types.ServiceQuotaExceededException], quota: "L-60553137"},
		{name: "402 ServiceQuotaExceeded on CreateInstance", op: "CreateInstance",
			respond: status(402, errType("ServiceQuotaExceededException"), `{"Message":"The service quota has been exceeded"}`),
			class:   awserr.ClassHardQuota, attempts: 1, is: []error{awserr.ErrHardQuota},
			as: as[*types.ServiceQuotaExceededException], quota: "L-AA17A6B9"},
		{name: "400 InvalidParameter", op: "ListUsers",
			respond: status(400, errType("InvalidParameterException"), `{"Message":"bad"}`),
			class:   awserr.ClassClientFault, attempts: 1, is: []error{awserr.ErrClientFault},
			as: as[*types.InvalidParameterException]},
		{name: "403 AccessDenied", op: "ListUsers",
			respond: status(403, errType("AccessDeniedException"), `{"Message":"denied"}`),
			class:   awserr.ClassClientFault, attempts: 1, is: []error{awserr.ErrClientFault}},
		{name: "404 ResourceNotFound", op: "DescribeUser",
			respond: status(404, errType("ResourceNotFoundException"), `{"Message":"no such user"}`),
			class:   awserr.ClassClientFault, attempts: 1, is: []error{awserr.ErrClientFault},
			as: as[*types.ResourceNotFoundException]},
		{name: "410 ContactNotFound", op: "StopContact",
			respond: status(410, errType("ContactNotFoundException"), `{"Message":"gone"}`),
			class:   awserr.ClassClientFault, attempts: 1, is: []error{awserr.ErrClientFault},
			as: as[*types.ContactNotFoundException]},
		{name: "500 InternalService", op: "ListUsers",
			respond: status(500, errType("InternalServiceException"), `{"Message":"oops"}`),
			class:   awserr.ClassTransient, attempts: 3, waited: transientWait,
			is: []error{governor.ErrAttempts, awserr.ErrTransient}, as: as[*types.InternalServiceException]},
		{name: "503 HTML body", op: "ListUsers",
			respond: status(503, map[string]string{"Content-Type": "text/html"}, "<html><body>Service Unavailable</body></html>"),
			class:   awserr.ClassTransient, attempts: 3, waited: transientWait,
			is: []error{governor.ErrAttempts, awserr.ErrTransient}},
		{name: "connection reset", op: "ListUsers",
			respond: func(_ http.ResponseWriter, r *http.Request, _ int) { resetConn(r) },
			class:   awserr.ClassTransient, attempts: 3, waited: transientWait,
			is: []error{governor.ErrAttempts, awserr.ErrTransient}},
		{name: "x-amz-retry-after 3000 ms is a floor", op: "ListUsers",
			respond: status(429, map[string]string{"X-Amzn-ErrorType": "ThrottlingException", "x-amz-retry-after": "3000"}, `{"message":"Rate exceeded"}`),
			class:   awserr.ClassRateThrottle, attempts: 3, waited: 6 * time.Second, is: throttled},
		{name: "Retry-After 2 s on 503", op: "ListUsers",
			respond: status(503, map[string]string{"Retry-After": "2"}, ""),
			class:   awserr.ClassTransient, attempts: 3, waited: 4 * time.Second,
			is: []error{governor.ErrAttempts, awserr.ErrTransient}},
		{name: "throttle then success", op: "ListUsers",
			respond: func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					reply(w, 429, errType("ThrottlingException"), `{"message":"Rate exceeded"}`)
					return
				}
				reply(w, 200, nil, `{"UserSummaryList":[]}`)
			},
			attempts: 2, waited: 500 * time.Millisecond, ok: true},
	}
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newServer(s.respond)
				g := governor.New(ratelimit.NewHierarchy(ratelimit.HierarchyOptions{}),
					governor.Options{MaxAttempts: 3, Rand: half{}})
				client := connect.NewFromConfig(testConfig(srv), endpoint, awssdk.Govern(g))

				start := time.Now()
				err := calls[s.op](context.Background(), client)
				waited := time.Since(start)

				if s.ok != (err == nil) {
					t.Fatalf("step %d (%s): got err %v want ok=%v", i, s.name, err, s.ok)
				}
				if got := srv.requests(); got != s.attempts {
					t.Errorf("step %d (%s): got %d attempts want %d", i, s.name, got, s.attempts)
				}
				if waited != s.waited {
					t.Errorf("step %d (%s): waited %v want %v", i, s.name, waited, s.waited)
				}
				// The SDK's own loop drove the attempts (it numbers them).
				if want := fmt.Sprintf("attempt=%d", s.attempts); !strings.HasPrefix(srv.headers[len(srv.headers)-1], want) {
					t.Errorf("step %d (%s): last Amz-Sdk-Request %q want %s", i, s.name, srv.headers[len(srv.headers)-1], want)
				}
				if s.ok {
					return
				}
				if info := awserr.Classify("", err); info.Class != s.class || info.Op != s.op {
					t.Errorf("step %d (%s): got class %v op %q want %v %q", i, s.name, info.Class, info.Op, s.class, s.op)
				}
				if !as[*smithy.OperationError](err) {
					t.Errorf("step %d (%s): got %T want the SDK's *smithy.OperationError outermost", i, s.name, err)
				}
				for _, target := range s.is {
					if !errors.Is(err, target) {
						t.Errorf("step %d (%s): errors.Is(err, %v) = false; err = %v", i, s.name, target, err)
					}
				}
				if s.as != nil && !s.as(err) {
					t.Errorf("step %d (%s): the SDK's error type is not in the chain: %v", i, s.name, err)
				}
				if s.quota != "" {
					var q *awserr.QuotaError
					if !errors.As(err, &q) || q.QuotaCode != s.quota || q.Op != s.op || q.Advice == "" {
						t.Fatalf("step %d (%s): got quota error %+v want code %s, op, advice", i, s.name, q, s.quota)
					}
					if s.class == awserr.ClassConcurrencyQuota && q.RetryAfter < governor.DefaultConcurrencyDelay {
						t.Errorf("step %d (%s): suggested delay %v want >= %v", i, s.name, q.RetryAfter, governor.DefaultConcurrencyDelay)
					}
				}
			})
		})
	}
}

var chatInput = &connect.StartChatContactInput{
	InstanceId: iid, ContactFlowId: aws.String("flow"),
	ParticipantDetails: &types.ParticipantDetails{DisplayName: aws.String("Customer")},
}
