package sim_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/tollgatehq/tollgate/sim"
)

// Two simulated accounts on one endpoint: the signing key chooses the
// account, and STS hands out keys of the role's account.
func ExampleNewMulti() {
	m, err := sim.NewMulti(sim.Options{Accounts: 2})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	srv := httptest.NewServer(m)
	defer srv.Close()
	for _, a := range m.Accounts() {
		fmt.Println(a.Index, a.AccountID, a.AccessKeyID, a.PhoneNumber)
	}

	key, secret := sim.AccountKey(1)
	roles := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
	out, err := roles.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::100000000002:role/tollgate"), RoleSessionName: aws.String("pool-b")})
	if err != nil {
		panic(err)
	}
	c := out.Credentials
	client := connect.New(connect.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)})
	a2 := m.Accounts()[1]
	q, err := client.ListQueues(context.Background(), &connect.ListQueuesInput{InstanceId: aws.String(a2.InstanceID)})
	fmt.Println(err, *q.QueueSummaryList[0].Id == a2.QueueID)
	fmt.Println(m.Account(2).Stats().Totals.Accepted, m.Account(1).Stats().Totals.Accepted)
	// Output:
	// 1 100000000001 AKIDSIMACCOUNT000001 +12025550100
	// 2 100000000002 AKIDSIMACCOUNT000002 +12025550200
	// <nil> true
	// 1 0
}
