package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/queue"
)

// Client talks to a running `tollgate serve`.
type Client struct {
	BaseURL string       // e.g. http://127.0.0.1:8787
	Token   string       // the bearer token
	HTTP    *http.Client // nil means a client with a 2-minute timeout
}

// APIError is an error response of the server: its HTTP status and the
// detail of its JSON body.
type APIError struct {
	Status int
	api.ErrorDetail
	// Jobs is every submitted job's result when a submission was stored in
	// part (503 partially_stored); nil otherwise.
	Jobs []api.SubmittedID
}

func (e *APIError) Error() string {
	return fmt.Sprintf("tollgate serve: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

var defaultHTTP = &http.Client{Timeout: 2 * time.Minute}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var eb api.PartialSubmit // an ErrorBody, with jobs when partial
		if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
			return &APIError{Status: resp.StatusCode, ErrorDetail: eb.Error, Jobs: eb.Jobs}
		}
		return &APIError{Status: resp.StatusCode, ErrorDetail: api.ErrorDetail{Code: "http_error", Message: strings.TrimSpace(string(data))}}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("tollgate serve: decoding the answer to %s %s: %w", method, path, err)
	}
	return nil
}

// SubmitRaw posts a body as is (a JSON object, a JSON array, or JSON Lines).
func (c *Client) SubmitRaw(ctx context.Context, body []byte) (api.SubmitResponse, error) {
	var out api.SubmitResponse
	err := c.do(ctx, http.MethodPost, "/v1/jobs", bytes.NewReader(body), "application/json", &out)
	return out, err
}

// Submit posts jobs as a JSON array.
func (c *Client) Submit(ctx context.Context, jobs []api.JobSpec) (api.SubmitResponse, error) {
	body, err := json.Marshal(jobs)
	if err != nil {
		return api.SubmitResponse{}, err
	}
	return c.SubmitRaw(ctx, body)
}

// Job returns one job.
func (c *Client) Job(ctx context.Context, id string) (queue.Job, error) {
	var j queue.Job
	err := c.do(ctx, http.MethodGet, "/v1/jobs/"+url.PathEscape(id), nil, "", &j)
	return j, err
}

// Stats returns the queue and dispatcher statistics.
func (c *Client) Stats(ctx context.Context) (api.StatsResponse, error) {
	var st api.StatsResponse
	err := c.do(ctx, http.MethodGet, "/v1/stats", nil, "", &st)
	return st, err
}

// DeadLetters lists dead letters.
func (c *Client) DeadLetters(ctx context.Context, o queue.ListOptions) (api.DeadLettersResponse, error) {
	v := url.Values{}
	if o.Reason != "" {
		v.Set("reason", o.Reason)
	}
	if o.After != "" {
		v.Set("after", o.After)
	}
	if o.Limit > 0 {
		v.Set("limit", strconv.Itoa(o.Limit))
	}
	path := "/v1/dlq"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var out api.DeadLettersResponse
	err := c.do(ctx, http.MethodGet, path, nil, "", &out)
	return out, err
}

// DeadLetter returns one dead letter.
func (c *Client) DeadLetter(ctx context.Context, id string) (queue.Job, error) {
	var j queue.Job
	err := c.do(ctx, http.MethodGet, "/v1/dlq/"+url.PathEscape(id), nil, "", &j)
	return j, err
}

// Redrive moves dead letters back to the queue.
func (c *Client) Redrive(ctx context.Context, r api.RedriveRequest) (api.RedriveResponse, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return api.RedriveResponse{}, err
	}
	var out api.RedriveResponse
	err = c.do(ctx, http.MethodPost, "/v1/dlq/redrive", bytes.NewReader(body), "application/json", &out)
	return out, err
}

// Health calls /healthz.
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, "", nil)
}
