package awssdk_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"

	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// lateCopyClient answers every request with body, but first does to the
// request body what net/http's transport does when the SDK's close wins
// the race: the body is closed, then what is left of it is copied to
// io.Discard. It records that copy's error.
type lateCopyClient struct {
	body string
	errs []error
}

func (c *lateCopyClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
		_, err := io.Copy(io.Discard, r.Body)
		c.errs = append(c.errs, err)
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader([]byte(c.body))), Request: r}, nil
}

// lateCopyConfig is a configuration whose requests go to hc.
func lateCopyConfig(hc aws.HTTPClient) aws.Config {
	return aws.Config{Region: "us-east-1", HTTPClient: hc, RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}, nil
		})}
}

// TestHTTPClientBodyRace: the SDK's request body answers io.EOF to the
// transport's late copy once closed (the race that closes the connection
// under a response); through HTTPClient the same copy ends cleanly.
func TestHTTPClientBodyRace(t *testing.T) {
	ctx := context.Background()
	in := &servicequotas.ListServiceQuotasInput{ServiceCode: aws.String("connect")}

	raw := &lateCopyClient{body: `{"Quotas":[]}`}
	if _, err := servicequotas.NewFromConfig(lateCopyConfig(raw)).ListServiceQuotas(ctx, in); err != nil {
		t.Fatal(err)
	}
	if len(raw.errs) != 1 || !errors.Is(raw.errs[0], io.EOF) {
		t.Fatalf("unwrapped: late copy errors %v, want [EOF] (the SDK's body no longer shows the race?)", raw.errs)
	}

	wrapped := &lateCopyClient{body: `{"Quotas":[]}`}
	hc := awssdk.HTTPClient(wrapped)
	if awssdk.HTTPClient(hc) != hc {
		t.Error("wrapping twice made a second wrapper")
	}
	if _, err := servicequotas.NewFromConfig(lateCopyConfig(hc)).ListServiceQuotas(ctx, in); err != nil {
		t.Fatal(err)
	}
	if len(wrapped.errs) != 1 || wrapped.errs[0] != nil {
		t.Fatalf("wrapped: late copy errors %v, want [<nil>]", wrapped.errs)
	}
}

// TestGovernWrapsHTTPClient: a governed client gets the wrapper without
// the caller asking.
func TestGovernWrapsHTTPClient(t *testing.T) {
	g := governor.New(ratelimit.NewHierarchy(ratelimit.HierarchyOptions{}), governor.Options{})
	c := &lateCopyClient{body: `{"ContactId":"c-1"}`}
	client := connect.NewFromConfig(lateCopyConfig(c), awssdk.Govern(g))
	_, err := client.StartTaskContact(context.Background(), &connect.StartTaskContactInput{
		InstanceId: aws.String("i-1"), Name: aws.String("t"), ContactFlowId: aws.String("f-1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.errs) != 1 || c.errs[0] != nil {
		t.Fatalf("governed: late copy errors %v, want [<nil>]", c.errs)
	}
}
