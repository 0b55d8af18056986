package sim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/tollgatehq/tollgate/sim"
)

// A real aws-sdk-go-v2 Connect client against the simulator: one call
// passes, the next finds the bucket empty.
func Example() {
	s, err := sim.New(sim.Options{})
	if err != nil {
		panic(err)
	}
	if err := s.SetQuota("DescribeUser", 1, 1); err != nil { // 1 request/s, burst 1
		panic(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()

	client := connect.New(connect.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
	})
	in := &connect.DescribeUserInput{InstanceId: aws.String(sim.DefaultInstanceID), UserId: aws.String(sim.DefaultUserID)}
	out, err := client.DescribeUser(context.Background(), in)
	if err != nil {
		panic(err)
	}
	fmt.Println("user:", *out.User.Username)

	_, err = client.DescribeUser(context.Background(), in)
	var te *types.ThrottlingException
	fmt.Println("throttled:", errors.As(err, &te))

	st := s.Stats()
	fmt.Println("accepted:", st.Callers["AKIDEXAMPLE"].Accepted, "throttled:", st.Callers["AKIDEXAMPLE"].ThrottledByCode["ThrottlingException"])
	// Output:
	// user: admin
	// throttled: true
	// accepted: 1 throttled: 1
}

// Parsing a latency distribution for faults.
func ExampleParseDistribution() {
	d, err := sim.ParseDistribution("uniform:20ms..80ms")
	fmt.Println(d, err)
	_, err = sim.ParseDistribution("uniform:80ms..20ms")
	fmt.Println(err)
	// Output:
	// uniform:20ms..80ms <nil>
	// distribution "uniform:80ms..20ms": uniform bounds must satisfy 0 <= min <= max, got 80ms..20ms
}
