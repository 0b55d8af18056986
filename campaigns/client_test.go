package campaigns_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/campaigns"
	"github.com/tollgatehq/tollgate/sim"
)

// newSim starts the simulator verifying SigV4 for AKID/SECRET, with a dial
// capacity of burst items.
func newSim(t *testing.T, burst int) *httptest.Server {
	t.Helper()
	s, err := sim.New(sim.Options{Credentials: map[string]string{"AKID": "SECRET"}, DialRate: 0.001, DialBurst: burst})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

func newClient(srv *httptest.Server, secret string) *campaigns.Client {
	cfg := aws.Config{Region: "us-east-1", HTTPClient: srv.Client(),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", secret, "")}
	return campaigns.New(cfg, campaigns.Options{Endpoint: srv.URL + "/"})
}

func items(exp time.Time, tokens ...string) []campaigns.DialRequest {
	var out []campaigns.DialRequest
	for _, tok := range tokens {
		out = append(out, campaigns.DialRequest{ClientToken: tok, PhoneNumber: "+15550100", ExpirationTime: exp})
	}
	return out
}

// TestPutDialRequestBatch drives the client against the simulator, which
// verifies every signature: accepted, repeated, throttled and expired items.
func TestPutDialRequestBatch(t *testing.T) {
	srv := newSim(t, 3)
	c := newClient(srv, "SECRET")
	ctx := context.Background()
	later := time.Now().Add(time.Hour)
	type step struct {
		reqs      []campaigns.DialRequest
		ok        int
		failed    map[string]string // client token → failure code
		sameIDsAs int               // step whose ids the accepted items repeat; -1 none
	}
	steps := []step{
		{items(later, "a", "b"), 2, nil, -1},
		{items(later, "a", "b"), 2, nil, 0}, // the same tokens: the same ids, no capacity used
		{items(later, "c", "d"), 1, map[string]string{"d": campaigns.FailureRequestThrottled}, -1},
		{items(time.Now().Add(-time.Minute), "e"), 0, map[string]string{"e": campaigns.FailureInvalidInput}, -1},
	}
	outs := make([]*campaigns.PutDialRequestBatchOutput, len(steps))
	for i, st := range steps {
		out, err := c.PutDialRequestBatch(ctx, sim.DefaultCampaignID, st.reqs)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		outs[i] = out
		if len(out.SuccessfulRequests) != st.ok || len(out.FailedRequests) != len(st.failed) {
			t.Fatalf("step %d: got %+v want %d ok, failed %v", i, out, st.ok, st.failed)
		}
		for _, f := range out.FailedRequests {
			if st.failed[f.ClientToken] != f.FailureCode {
				t.Errorf("step %d: %s failed with %q want %q", i, f.ClientToken, f.FailureCode, st.failed[f.ClientToken])
			}
		}
		if st.sameIDsAs >= 0 {
			for j, s := range out.SuccessfulRequests {
				if want := outs[st.sameIDsAs].SuccessfulRequests[j]; s != want {
					t.Errorf("step %d: repeated token got %+v want %+v", i, s, want)
				}
			}
		}
	}
}

// TestPutDialRequestBatchErrors: error responses come back classified.
func TestPutDialRequestBatchErrors(t *testing.T) {
	srv := newSim(t, 25)
	ctx := context.Background()
	later := time.Now().Add(time.Hour)
	type step struct {
		name     string
		c        *campaigns.Client
		campaign string
		reqs     []campaigns.DialRequest
		class    awserr.Class
		code     string
		status   int
	}
	for i, st := range []step{
		{"unknown campaign", newClient(srv, "SECRET"), "nope", items(later, "a"), awserr.ClassClientFault, "ResourceNotFoundException", 404},
		{"bad signature", newClient(srv, "WRONG"), sim.DefaultCampaignID, items(later, "a"), awserr.ClassClientFault, "InvalidSignatureException", 403},
		{"too many items", newClient(srv, "SECRET"), sim.DefaultCampaignID, items(later, "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
			"14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26"), awserr.ClassClientFault, "ValidationException", 400},
	} {
		_, err := st.c.PutDialRequestBatch(ctx, st.campaign, st.reqs)
		if err == nil {
			t.Fatalf("step %d (%s): no error", i, st.name)
		}
		info := awserr.Classify("", err)
		if info.Class != st.class || info.Code != st.code || info.Status != st.status || info.Op != campaigns.OpPutDialRequestBatch || info.RequestID == "" {
			t.Errorf("step %d (%s): got %+v", i, st.name, info)
		}
		var apiErr *campaigns.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != st.code {
			t.Errorf("step %d (%s): %v does not unwrap to the APIError", i, st.name, err)
		}
	}
}
