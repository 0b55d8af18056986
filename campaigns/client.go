package campaigns

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

// Service is the SigV4 signing name of Outbound Campaigns.
const Service = "connect-campaigns"

// OpPutDialRequestBatch is the operation's name.
const OpPutDialRequestBatch = "PutDialRequestBatch"

// MaxBatch is the most dial requests PutDialRequestBatch takes per call.
const MaxBatch = 25

// maxResponseBytes bounds a response body.
const maxResponseBytes = 4 << 20

// Per-item failure codes of PutDialRequestBatch.
const (
	FailureInvalidInput     = "InvalidInput"
	FailureRequestThrottled = "RequestThrottled"
	FailureUnknownError     = "UnknownError"
)

// Options configure a Client. The zero value calls the Region's endpoint.
type Options struct {
	// Endpoint overrides the base URL (for example the simulator's). Empty
	// means https://connect-campaigns.<region>.amazonaws.com.
	Endpoint string
}

// Client calls Outbound Campaigns. It is safe for concurrent use.
type Client struct {
	http     aws.HTTPClient
	creds    aws.CredentialsProvider
	region   string
	endpoint string // base URL without a trailing slash
	signer   *v4.Signer
	now      func() time.Time
}

// New returns a Client using cfg's credentials, Region and HTTP client
// (http.DefaultClient when nil).
func New(cfg aws.Config, o Options) *Client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = "https://" + Service + "." + cfg.Region + ".amazonaws.com"
	}
	return &Client{
		http:     hc,
		creds:    cfg.Credentials,
		region:   cfg.Region,
		endpoint: strings.TrimRight(endpoint, "/"),
		signer:   v4.NewSigner(),
		now:      time.Now,
	}
}

// DialRequest is one customer to dial.
type DialRequest struct {
	ClientToken    string            // idempotency token of the item
	PhoneNumber    string            // at most 20 characters of 0-9, '-' and '+'
	ExpirationTime time.Time         // when Outbound Campaigns drops the request
	Attributes     map[string]string // passed to the contact flow; nil is sent as {}
}

// SuccessfulRequest is an accepted dial request.
type SuccessfulRequest struct {
	ClientToken string `json:"clientToken"`
	ID          string `json:"id"`
}

// FailedRequest is a dial request refused inside a 200 response.
type FailedRequest struct {
	ClientToken string `json:"clientToken"`
	ID          string `json:"id"`
	FailureCode string `json:"failureCode"` // FailureInvalidInput, FailureRequestThrottled, …
}

// PutDialRequestBatchOutput is the result of one call.
type PutDialRequestBatchOutput struct {
	SuccessfulRequests []SuccessfulRequest `json:"successfulRequests"`
	FailedRequests     []FailedRequest     `json:"failedRequests"`
}

// wireItem is a dial request on the wire.
type wireItem struct {
	ClientToken    string            `json:"clientToken"`
	PhoneNumber    string            `json:"phoneNumber"`
	ExpirationTime string            `json:"expirationTime"` // ISO 8601, the shape's timestampFormat
	Attributes     map[string]string `json:"attributes"`
}

// PutDialRequestBatch sends reqs (1–25) to the campaign in one call. An
// error response is returned as an error carrying its awserr
// classification; items refused inside a 200 response are in
// FailedRequests.
func (c *Client) PutDialRequestBatch(ctx context.Context, campaignID string, reqs []DialRequest) (*PutDialRequestBatchOutput, error) {
	if campaignID == "" {
		return nil, errors.New(OpPutDialRequestBatch + ": campaign id is required")
	}
	items := make([]wireItem, len(reqs))
	for i, r := range reqs {
		attrs := r.Attributes
		if attrs == nil {
			attrs = map[string]string{}
		}
		items[i] = wireItem{ClientToken: r.ClientToken, PhoneNumber: r.PhoneNumber,
			ExpirationTime: r.ExpirationTime.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Attributes: attrs}
	}
	body, err := json.Marshal(struct {
		DialRequests []wireItem `json:"dialRequests"`
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
	if err := c.sign(ctx, req, body); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		info := awserr.ParseResponse(OpPutDialRequestBatch, resp, data)
		return nil, info.Err(&APIError{Status: resp.StatusCode, Code: info.Code, Message: info.Message})
	}
	var out PutDialRequestBatchOutput
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: cannot decode the response: %w", OpPutDialRequestBatch, err)
	}
	return &out, nil
}

// sign signs req with SigV4 for connect-campaigns; without credentials the
// request goes unsigned (a local simulator accepts it).
func (c *Client) sign(ctx context.Context, req *http.Request, body []byte) error {
	if c.creds == nil {
		return nil
	}
	cr, err := c.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("%s: credentials: %w", OpPutDialRequestBatch, err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, cr, req, hex.EncodeToString(sum[:]), Service, c.region, c.now()); err != nil {
		return fmt.Errorf("%s: signing: %w", OpPutDialRequestBatch, err)
	}
	return nil
}

// APIError is an Outbound Campaigns error response, with the accessors
// awserr.Classify reads.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d): %s", OpPutDialRequestBatch, e.Code, e.Status, e.Message)
}

// ErrorCode returns the error code, e.g. "ResourceNotFoundException".
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage returns the service's message.
func (e *APIError) ErrorMessage() string { return e.Message }

// HTTPStatusCode returns the HTTP status.
func (e *APIError) HTTPStatusCode() int { return e.Status }
