package campaigns_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tollgatehq/tollgate/campaigns"
	"github.com/tollgatehq/tollgate/sim"
)

// ExampleClient_PutDialRequestBatch sends two dial requests to the
// simulator's default campaign.
func ExampleClient_PutDialRequestBatch() {
	s, _ := sim.New(sim.Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	c := campaigns.New(cfg, campaigns.Options{Endpoint: srv.URL})
	exp := time.Now().Add(time.Hour)
	out, err := c.PutDialRequestBatch(context.Background(), sim.DefaultCampaignID, []campaigns.DialRequest{
		{ClientToken: "job-1", PhoneNumber: "+15550100", ExpirationTime: exp},
		{ClientToken: "job-2", PhoneNumber: "+15550101", ExpirationTime: exp},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(out.SuccessfulRequests), "accepted,", len(out.FailedRequests), "failed")
	// Output: 2 accepted, 0 failed
}
