package extension

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Extensions API paths and headers (API version 2020-01-01).
const (
	apiVersion       = "2020-01-01"
	HeaderName       = "Lambda-Extension-Name"
	HeaderIdentifier = "Lambda-Extension-Identifier"
	HeaderFeature    = "Lambda-Extension-Accept-Feature"
	HeaderErrorType  = "Lambda-Extension-Function-Error-Type"
)

// EventType is an Extensions API event type.
type EventType string

// The events the extension registers for.
const (
	Invoke   EventType = "INVOKE"
	Shutdown EventType = "SHUTDOWN"
)

// Registration is the Extensions API's answer to Register.
type Registration struct {
	ID              string `json:"-"`
	FunctionName    string `json:"functionName"`
	FunctionVersion string `json:"functionVersion"`
	Handler         string `json:"handler"`
	AccountID       string `json:"accountId"`
}

// Event is one answer of Next.
type Event struct {
	EventType          EventType `json:"eventType"`
	DeadlineMs         int64     `json:"deadlineMs"`
	RequestID          string    `json:"requestId"`
	InvokedFunctionArn string    `json:"invokedFunctionArn"`
	ShutdownReason     string    `json:"shutdownReason"`
}

// Deadline is the event's deadline as a time (zero when none was given).
func (e Event) Deadline() time.Time {
	if e.DeadlineMs <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(e.DeadlineMs)
}

// ErrAPI is matched by every error the Extensions API answers.
var ErrAPI = errors.New("lambda extensions API")

// APIError is a non-2xx answer of the Extensions API.
type APIError struct {
	Op     string
	Status int
	Body   string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("lambda extensions API: %s: %d %s", e.Op, e.Status, e.Body)
}

// Is matches ErrAPI.
func (e *APIError) Is(t error) bool { return t == ErrAPI }

// Client talks to the Lambda Extensions API.
type Client struct {
	base string
	hc   *http.Client
	id   string
}

// NewClient returns a client of the Extensions API at runtimeAPI (the
// host:port in AWS_LAMBDA_RUNTIME_API). hc nil means a client without a
// timeout: Next blocks until the next event.
func NewClient(runtimeAPI string, hc *http.Client) (*Client, error) {
	if runtimeAPI == "" || strings.ContainsAny(runtimeAPI, "/ ") {
		return nil, fmt.Errorf("AWS_LAMBDA_RUNTIME_API %q: want host:port (is this running inside Lambda?)", runtimeAPI)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{base: "http://" + runtimeAPI + "/" + apiVersion + "/extension", hc: hc}, nil
}

// maxAnswer bounds an Extensions API answer.
const maxAnswer = 1 << 20

func (c *Client) do(ctx context.Context, op, method, path string, body []byte, hdr map[string]string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if c.id != "" {
		req.Header.Set(HeaderIdentifier, c.id)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("lambda extensions API: %s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, nil, fmt.Errorf("lambda extensions API: %s: reading the answer: %w", op, err)
	}
	if resp.StatusCode/100 != 2 {
		return resp, b, &APIError{Op: op, Status: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	return resp, b, nil
}

// Register registers the extension named name (the file name under
// /opt/extensions) for events.
func (c *Client) Register(ctx context.Context, name string, events ...EventType) (Registration, error) {
	body, _ := json.Marshal(map[string]any{"events": events})
	resp, b, err := c.do(ctx, "register", http.MethodPost, "/register", body, map[string]string{
		HeaderName: name, HeaderFeature: "accountId", "Content-Type": "application/json",
	})
	if err != nil {
		return Registration{}, err
	}
	var r Registration
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &r); err != nil {
			return Registration{}, fmt.Errorf("lambda extensions API: register: answer: %w", err)
		}
	}
	r.ID = resp.Header.Get(HeaderIdentifier)
	if r.ID == "" {
		return Registration{}, fmt.Errorf("lambda extensions API: register: no %s header in the answer", HeaderIdentifier)
	}
	c.id = r.ID
	return r, nil
}

// Next blocks until the next event.
func (c *Client) Next(ctx context.Context) (Event, error) {
	_, b, err := c.do(ctx, "next", http.MethodGet, "/event/next", nil, nil)
	if err != nil {
		return Event{}, err
	}
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return Event{}, fmt.Errorf("lambda extensions API: next: answer: %w", err)
	}
	if e.EventType != Invoke && e.EventType != Shutdown {
		return Event{}, fmt.Errorf("lambda extensions API: next: unknown event type %q", e.EventType)
	}
	return e, nil
}

// InitError reports a failed start; Lambda then fails the function's
// initialisation with errType (e.g. "Extension.ConfigInvalid").
func (c *Client) InitError(ctx context.Context, errType string, cause error) error {
	return c.reportError(ctx, "init/error", errType, cause)
}

// ExitError reports an error before the extension exits.
func (c *Client) ExitError(ctx context.Context, errType string, cause error) error {
	return c.reportError(ctx, "exit/error", errType, cause)
}

func (c *Client) reportError(ctx context.Context, path, errType string, cause error) error {
	body, _ := json.Marshal(map[string]any{"errorMessage": cause.Error(), "errorType": errType})
	_, _, err := c.do(ctx, path, http.MethodPost, "/"+path, body, map[string]string{HeaderErrorType: errType, "Content-Type": "application/json"})
	return err
}
