package sim

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// stsClient is a real aws-sdk-go-v2 STS client talking to h in memory,
// signing with key/secret.
func stsClient(h http.Handler, key, secret string) *sts.Client {
	return sts.New(sts.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String("http://sim.local"),
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		HTTPClient:       &http.Client{Transport: handlerTransport{h}},
		RetryMaxAttempts: 1,
	})
}

func roleARN(k int) string { return "arn:aws:iam::" + MultiAccountID(k) + ":role/tollgate" }

// TestSimSTSAssumeRole: the SDK's STS client assumes a role of account 2;
// a Connect client signed with the temporary credentials reaches account
// 2 (its queues), as GetCallerIdentity says; a role of an account the
// simulator does not serve is AccessDenied, a bad parameter a
// ValidationError.
func TestSimSTSAssumeRole(t *testing.T) {
	m := newMulti(t, Options{Accounts: 3})
	c := stsClient(m, "AKIDANYBODY", "x")
	out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(2)), RoleSessionName: aws.String("tollgate-east"), ExternalId: aws.String("ext-1")})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	cr := out.Credentials
	if len(aws.ToString(cr.AccessKeyId)) != 20 || aws.ToString(cr.SecretAccessKey) == "" || aws.ToString(cr.SessionToken) == "" || cr.Expiration == nil {
		t.Fatalf("credentials %+v", cr)
	}
	if d := time.Until(*cr.Expiration); d < 55*time.Minute || d > time.Hour {
		t.Fatalf("expiration in %v, want the default hour", d)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::100000000002:assumed-role/tollgate/tollgate-east" {
		t.Fatalf("assumed role %s", got)
	}
	a2 := m.Accounts()[1]
	cc := keyClient(t, m, *cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken)
	lq, err := cc.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(a2.InstanceID), QueueTypes: []types.QueueType{types.QueueTypeStandard}})
	if err != nil || aws.ToString(lq.QueueSummaryList[0].Id) != a2.QueueID {
		t.Fatalf("ListQueues with assumed credentials: %v %+v", err, lq)
	}
	if st := m.Account(2).Stats(); st.Callers[*cr.AccessKeyId].Accepted != 1 {
		t.Fatalf("account 2 callers %v", st.Callers)
	}
	id, err := stsClient(m, *cr.AccessKeyId, *cr.SecretAccessKey).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != MultiAccountID(2) {
		t.Fatalf("GetCallerIdentity: %v %+v", err, id)
	}
	id, err = stsClient(m, AccountKeyID(3), "x").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != MultiAccountID(3) {
		t.Fatalf("GetCallerIdentity account 3: %v %+v", err, id)
	}

	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::999999999999:role/tollgate"), RoleSessionName: aws.String("s1")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" || httpStatus(t, err) != 403 {
		t.Fatalf("foreign account: %v", err)
	}
	for _, in := range []*sts.AssumeRoleInput{
		{RoleArn: aws.String(roleARN(1)), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(60)},
		{RoleArn: aws.String("arn:aws:iam::100000000001:user/bob"), RoleSessionName: aws.String("s1")},
		{RoleArn: aws.String(roleARN(1)), RoleSessionName: aws.String("has space")},
	} {
		if _, err := c.AssumeRole(ctx, in); apiCode(err) != "ValidationError" {
			t.Fatalf("%+v: %v", in, err)
		}
	}
	if _, err := stsClient(m, "AKIDNOBODY", "x").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); apiCode(err) != "InvalidClientTokenId" {
		t.Fatalf("GetCallerIdentity of an unknown key: %v", err)
	}
}

// TestSimSTSProvider: stscreds' AssumeRoleProvider (what a pool with a
// role_arn uses) gets credentials of the role's account from the
// simulator, and a role of no account fails to resolve with AccessDenied.
func TestSimSTSProvider(t *testing.T) {
	m := newMulti(t, Options{Accounts: 2})
	c := stsClient(m, AccountKeyID(1), "sim-secret-1")
	p := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(c, roleARN(2)))
	cl := newClient(t, m, func(o *connect.Options) { o.Credentials = p })
	a2 := m.Accounts()[1]
	if _, err := cl.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: aws.String(a2.InstanceID)}); err != nil {
		t.Fatalf("DescribeInstance through the assumed role: %v", err)
	}
	bad := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(c, "arn:aws:iam::123456789012:role/tollgate"))
	if _, err := bad.Retrieve(ctx); apiCode(err) != "AccessDenied" {
		t.Fatalf("unassumable role: %v", err)
	}
}

// TestSimSTSVerified: with Credentials the simulator verifies signatures:
// AssumeRole needs a known key and its secret; the temporary key then
// verifies, with its session token, and expires (ExpiredTokenException).
func TestSimSTSVerified(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMulti(t, Options{Accounts: 2, Credentials: map[string]string{"AKIDUSER": "user-secret"}})
		if _, err := stsClient(m, AccountKeyID(1), "wrong").AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(2)), RoleSessionName: aws.String("s1")}); apiCode(err) != "SignatureDoesNotMatch" {
			t.Fatalf("wrong secret: %v", err)
		}
		if _, err := stsClient(m, "AKIDNOBODY", "x").AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(2)), RoleSessionName: aws.String("s1")}); apiCode(err) != "InvalidClientTokenId" {
			t.Fatalf("unknown key: %v", err)
		}
		out, err := stsClient(m, "AKIDUSER", "user-secret").AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(2)), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(900)})
		if err != nil {
			t.Fatalf("AssumeRole: %v", err)
		}
		cr := out.Credentials
		a2 := m.Accounts()[1]
		list := func(token string) error {
			_, err := keyClient(t, m, *cr.AccessKeyId, *cr.SecretAccessKey, token).ListQueues(t.Context(), &connect.ListQueuesInput{InstanceId: aws.String(a2.InstanceID)})
			return err
		}
		if err := list(*cr.SessionToken); err != nil {
			t.Fatalf("temporary key: %v", err)
		}
		if code := genericCode(t, list("forged")); code != "UnrecognizedClientException" {
			t.Fatalf("forged session token: %s", code)
		}
		if err := list(*cr.SessionToken); err != nil {
			t.Fatal(err)
		}
		if _, err := accountClient(t, m, 2).ListQueues(t.Context(), &connect.ListQueuesInput{InstanceId: aws.String(a2.InstanceID)}); err != nil {
			t.Fatalf("account 2's own key: %v", err)
		}
		time.Sleep(15 * time.Minute)
		err = list(*cr.SessionToken)
		if code := genericCode(t, err); code != "ExpiredTokenException" || httpStatus(t, err) != 403 {
			t.Fatalf("expired: %v", err)
		}
	})
}

// TestSimSTSOneAccount: with one account, STS assumes roles of that
// account (123456789012) and nothing else.
func TestSimSTSOneAccount(t *testing.T) {
	m := newMulti(t, Options{})
	c := stsClient(m, "AKIDANY", "x")
	out, err := c.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + DefaultAccountID + ":role/r"), RoleSessionName: aws.String("s1")})
	if err != nil {
		t.Fatal(err)
	}
	cc := keyClient(t, m, *out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
	if _, err := cc.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(1)), RoleSessionName: aws.String("s1")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("role of another account: %v", err)
	}
}
