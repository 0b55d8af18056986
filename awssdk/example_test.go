package awssdk_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/backoff"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
)

func ExampleGovern() {
	// A stand-in for Amazon Connect: ListUsers is throttled once, and
	// CreateUser hits the users-per-instance quota.
	var listCalls, createCalls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodGet: // ListUsers
			if listCalls.Add(1) == 1 {
				w.Header().Set("X-Amzn-ErrorType", "ThrottlingException")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"message":"Rate exceeded"}`)
				return
			}
			fmt.Fprint(w, `{"UserSummaryList":[{"Username":"agent1"}]}`)
		case http.MethodPut: // CreateUser
			createCalls.Add(1)
			w.Header().Set("X-Amzn-ErrorType", "LimitExceededException")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"Message":"The allowed limit for the resource has been exceeded"}`)
		}
	}))
	defer srv.Close()

	gov := governor.New(
		ratelimit.NewHierarchy(ratelimit.HierarchyOptions{}), // Connect's published per-API quotas
		governor.Options{Backoff: backoff.Options{ThrottleBase: time.Millisecond}, Rand: rand.NewPCG(1, 2)},
	)
	cfg := aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		}),
	}
	client := connect.NewFromConfig(cfg, awssdk.Govern(gov), func(o *connect.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	})

	ctx := context.Background()
	out, err := client.ListUsers(ctx, &connect.ListUsersInput{InstanceId: aws.String("instance-1")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("ListUsers: %d user(s) after %d attempts\n", len(out.UserSummaryList), listCalls.Load())

	_, err = client.CreateUser(ctx, &connect.CreateUserInput{
		InstanceId: aws.String("instance-1"), Username: aws.String("agent2"),
		RoutingProfileId: aws.String("rp"), SecurityProfileIds: []string{"sp"},
	})
	var q *awserr.QuotaError
	if errors.Is(err, awserr.ErrHardQuota) && errors.As(err, &q) {
		fmt.Printf("CreateUser: %s (%s) after %d attempt\n", q.QuotaName, q.QuotaCode, createCalls.Load())
	}
	// Output:
	// ListUsers: 1 user(s) after 2 attempts
	// CreateUser: Users per instance (L-9A46857E) after 1 attempt
}
