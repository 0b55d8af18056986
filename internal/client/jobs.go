package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/queue"
)

// Cancel cancels a job that has not started (POST /v1/jobs/{id}/cancel)
// and returns it, now a dead letter with reason "canceled".
func (c *Client) Cancel(ctx context.Context, id string) (queue.Job, error) {
	var j queue.Job
	err := c.do(ctx, http.MethodPost, "/v1/jobs/"+url.PathEscape(id)+"/cancel", nil, "", &j)
	return j, err
}

// Purge deletes waiting jobs (POST /v1/jobs/purge).
func (c *Client) Purge(ctx context.Context, r api.PurgeRequest) (api.PurgeResponse, error) {
	var out api.PurgeResponse
	body, err := json.Marshal(r)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, http.MethodPost, "/v1/jobs/purge", bytes.NewReader(body), "application/json", &out)
	return out, err
}

// Lookup returns the status of up to api.MaxLookupIDs jobs
// (POST /v1/jobs/lookup).
func (c *Client) Lookup(ctx context.Context, ids []string) (api.LookupResponse, error) {
	var out api.LookupResponse
	body, err := json.Marshal(api.LookupRequest{IDs: ids})
	if err != nil {
		return out, err
	}
	err = c.do(ctx, http.MethodPost, "/v1/jobs/lookup", bytes.NewReader(body), "application/json", &out)
	return out, err
}
