// Package extensiontest is a small implementation of the documented Lambda
// Extensions API contract (2020-01-01: register, event/next, init/error,
// exit/error) for tests: the test drives INVOKE and SHUTDOWN events and
// sees what the extension registered and reported.
//
// It leaves out what a real Lambda environment adds around the contract:
// the Runtime API and the function itself, freezing the environment
// between invocations, the Telemetry and Logs APIs, SIGKILL at the end of
// the shutdown phase, and checking that the extension name matches a file
// under /opt/extensions.
package extensiontest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Event is an event the test sends to the extension.
type Event struct {
	EventType          string `json:"eventType"`
	DeadlineMs         int64  `json:"deadlineMs"`
	RequestID          string `json:"requestId,omitempty"`
	InvokedFunctionArn string `json:"invokedFunctionArn,omitempty"`
	ShutdownReason     string `json:"shutdownReason,omitempty"`
}

// API is an http.Handler serving the Extensions API for one extension.
type API struct {
	// FunctionName and AccountID are returned by register.
	FunctionName, AccountID string

	mu         sync.Mutex
	registered chan struct{}
	name       string
	events     []string
	id         string
	queue      chan Event
	waiting    chan struct{} // receives when the extension calls next
	errors     []string
	regOnce    sync.Once
}

// New returns an API with no event queued.
func New() *API {
	return &API{FunctionName: "test-function", AccountID: "123456789012",
		registered: make(chan struct{}), queue: make(chan Event, 64), waiting: make(chan struct{}, 64), id: "ext-0001"}
}

// Registered is closed when the extension has registered.
func (a *API) Registered() <-chan struct{} { return a.registered }

// Waiting receives each time the extension asks for the next event.
func (a *API) Waiting() <-chan struct{} { return a.waiting }

// Name and Events are what the extension registered with.
func (a *API) Name() string { a.mu.Lock(); defer a.mu.Unlock(); return a.name }

// Events are the event types registered for.
func (a *API) Events() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.events...)
}

// Errors are the init/error and exit/error reports, as "path: type".
func (a *API) Errors() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.errors...)
}

// Invoke queues an INVOKE event with the given deadline.
func (a *API) Invoke(requestID string, deadline time.Time) {
	a.queue <- Event{EventType: "INVOKE", RequestID: requestID, DeadlineMs: deadline.UnixMilli(),
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:" + a.AccountID + ":function:" + a.FunctionName}
}

// Shutdown queues a SHUTDOWN event.
func (a *API) Shutdown(reason string, deadline time.Time) {
	a.queue <- Event{EventType: "SHUTDOWN", ShutdownReason: reason, DeadlineMs: deadline.UnixMilli()}
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, typ, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/2020-01-01/extension/register":
		var body struct {
			Events []string `json:"events"`
		}
		name := r.Header.Get("Lambda-Extension-Name")
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || name == "" {
			fail(http.StatusBadRequest, "InvalidRequest", "want a Lambda-Extension-Name header and {\"events\":[...]}")
			return
		}
		for _, e := range body.Events {
			if e != "INVOKE" && e != "SHUTDOWN" {
				fail(http.StatusBadRequest, "InvalidEventType", fmt.Sprintf("unknown event %q", e))
				return
			}
		}
		a.mu.Lock()
		a.name, a.events = name, body.Events
		a.mu.Unlock()
		resp := map[string]string{"functionName": a.FunctionName, "functionVersion": "$LATEST", "handler": "index.handler"}
		if r.Header.Get("Lambda-Extension-Accept-Feature") == "accountId" {
			resp["accountId"] = a.AccountID
		}
		w.Header().Set("Lambda-Extension-Identifier", a.id)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
		a.regOnce.Do(func() { close(a.registered) })
	case r.Method == http.MethodGet && r.URL.Path == "/2020-01-01/extension/event/next":
		if r.Header.Get("Lambda-Extension-Identifier") != a.id {
			fail(http.StatusForbidden, "Extension.Unregistered", "unknown Lambda-Extension-Identifier")
			return
		}
		a.waiting <- struct{}{}
		select {
		case ev := <-a.queue:
			w.Header().Set("Lambda-Extension-Event-Identifier", fmt.Sprintf("ev-%d", time.Now().UnixNano()))
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(ev)
		case <-r.Context().Done():
		}
	case r.Method == http.MethodPost && (r.URL.Path == "/2020-01-01/extension/init/error" || r.URL.Path == "/2020-01-01/extension/exit/error"):
		a.mu.Lock()
		a.errors = append(a.errors, r.URL.Path[len("/2020-01-01/extension/"):]+": "+r.Header.Get("Lambda-Extension-Function-Error-Type"))
		a.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"OK"}`))
	default:
		fail(http.StatusNotFound, "NotFound", r.Method+" "+r.URL.Path)
	}
}
