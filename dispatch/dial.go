package dispatch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/tollgatehq/tollgate/awserr"
)

// MaxDialBatch is the most dial requests PutDialRequestBatch takes per call.
const MaxDialBatch = 25

// DefaultDialExpiry is how long a dial request stays valid at Outbound
// Campaigns when neither its ExpirationTime nor the job's NotAfter says.
const DefaultDialExpiry = time.Hour

// DialRequest is the Input of a PutDialRequestBatch job: one customer to
// dial in one campaign. Member names match case-insensitively, so the
// Outbound Campaigns wire names (campaignId, phoneNumber, …) work as given.
// The dial request's clientToken is always the job's ClientToken.
type DialRequest struct {
	// CampaignID is the campaign (path label "id"): 1–256 characters.
	CampaignID string `json:"campaignId"`
	// PhoneNumber is the number to dial: at most 20 characters of 0-9, '-' and '+'.
	PhoneNumber string `json:"phoneNumber"`
	// ExpirationTime is when Outbound Campaigns drops the request. Zero
	// means the job's NotAfter, or DefaultDialExpiry after the call.
	ExpirationTime time.Time `json:"expirationTime,omitzero"`
	// Attributes are passed to the contact flow.
	Attributes map[string]string `json:"attributes,omitempty"`
}

func decodeDial(raw json.RawMessage) (DialRequest, error) {
	var d DialRequest
	if len(bytes.TrimSpace(raw)) == 0 {
		return d, &InputError{Op: OpPutDialRequestBatch, Field: "Input", Problem: "is required (a dial request: campaignId, phoneNumber)"}
	}
	if err := strictDecode(raw, &d); err != nil {
		return d, inputDecodeError(OpPutDialRequestBatch, err)
	}
	return d, nil
}

func (d DialRequest) validate(now time.Time) error {
	bad := func(field, problem string) error {
		return &InputError{Op: OpPutDialRequestBatch, Field: "Input." + field, Problem: problem}
	}
	switch {
	case d.CampaignID == "":
		return bad("campaignId", "is required")
	case len(d.CampaignID) > 256:
		return bad("campaignId", "is longer than 256 characters")
	case strings.ContainsAny(d.CampaignID, "/?#") || strings.ContainsFunc(d.CampaignID, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return bad("campaignId", "contains characters a campaign id cannot have")
	case d.PhoneNumber == "":
		return bad("phoneNumber", "is required")
	case len(d.PhoneNumber) > 20 || strings.Trim(d.PhoneNumber, "0123456789+-") != "":
		return bad("phoneNumber", "must be at most 20 characters of 0-9, '-' and '+'")
	case !d.ExpirationTime.IsZero() && !d.ExpirationTime.After(now):
		return bad("expirationTime", "has already passed")
	}
	return nil
}

// dialItem is one dial request on the wire.
type dialItem struct {
	ClientToken    string            `json:"clientToken"`
	PhoneNumber    string            `json:"phoneNumber"`
	ExpirationTime string            `json:"expirationTime"` // ISO 8601, the shape's timestampFormat
	Attributes     map[string]string `json:"attributes"`
}

type dialBatchOutput struct {
	SuccessfulRequests []struct {
		ClientToken string `json:"clientToken"`
		ID          string `json:"id"`
	} `json:"successfulRequests"`
	FailedRequests []struct {
		ClientToken string `json:"clientToken"`
		ID          string `json:"id"`
		FailureCode string `json:"failureCode"`
	} `json:"failedRequests"`
}

// Per-item failure codes of PutDialRequestBatch.
const (
	dialInvalidInput     = "InvalidInput"
	dialRequestThrottled = "RequestThrottled"
)

// campaigns calls Outbound Campaigns (service connect-campaigns, restJson1,
// SigV4). The module has no connectcampaigns SDK client (the Go module
// proxy does not serve one), so this is the one hand-written AWS call.
type campaigns struct {
	client   aws.HTTPClient
	creds    aws.CredentialsProvider
	region   string
	endpoint string // base URL without a trailing slash
	signer   *v4.Signer
}

func newCampaigns(cfg aws.Config, endpoint string) *campaigns {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	if endpoint == "" {
		endpoint = "https://connect-campaigns." + cfg.Region + ".amazonaws.com"
	}
	return &campaigns{
		client:   hc,
		creds:    cfg.Credentials,
		region:   cfg.Region,
		endpoint: strings.TrimRight(endpoint, "/"),
		signer:   v4.NewSigner(),
	}
}

// campaignsAPIError is an Outbound Campaigns error response, with the
// accessors awserr.Classify reads.
type campaignsAPIError struct {
	status  int
	code    string
	message string
}

func (e *campaignsAPIError) Error() string {
	return fmt.Sprintf("PutDialRequestBatch: %s (HTTP %d): %s", e.code, e.status, e.message)
}
func (e *campaignsAPIError) ErrorCode() string    { return e.code }
func (e *campaignsAPIError) ErrorMessage() string { return e.message }
func (e *campaignsAPIError) HTTPStatusCode() int  { return e.status }

// putDialRequestBatch makes one PutDialRequestBatch call.
func (c *campaigns) putDialRequestBatch(ctx context.Context, campaignID string, items []dialItem) (*dialBatchOutput, error) {
	body, err := json.Marshal(struct {
		DialRequests []dialItem `json:"dialRequests"`
	}{items})
	if err != nil {
		return nil, err
	}
	u := c.endpoint + "/campaigns/" + url.PathEscape(campaignID) + "/dial-requests"
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.creds != nil {
		cr, err := c.creds.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("PutDialRequestBatch: credentials: %w", err)
		}
		sum := sha256.Sum256(body)
		if err := c.signer.SignHTTP(ctx, cr, req, hex.EncodeToString(sum[:]), "connect-campaigns", c.region, time.Now()); err != nil {
			return nil, fmt.Errorf("PutDialRequestBatch: signing: %w", err)
		}
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		info := awserr.ParseResponse(OpPutDialRequestBatch, resp, data)
		return nil, info.Err(&campaignsAPIError{status: resp.StatusCode, code: info.Code, message: info.Message})
	}
	var out dialBatchOutput
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, errors.New("PutDialRequestBatch: cannot decode the response: " + err.Error())
	}
	return &out, nil
}
