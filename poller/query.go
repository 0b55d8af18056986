package poller

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Query is one named, scheduled read.
type Query struct {
	// Name identifies the query in the API (/v1/metrics/{name}) and the
	// cache: 1-64 characters of a-z A-Z 0-9 _ . -.
	Name string `json:"name"`
	// Op is the Connect operation, e.g. GetCurrentMetricData.
	Op string `json:"op"`
	// Input is the operation's input document (JSON object), without
	// NextToken: the poller follows pages itself.
	Input json.RawMessage `json:"input"`
	// Interval is the time between polls (at least MinInterval).
	Interval time.Duration `json:"interval"`
}

// MinInterval is the shortest interval a query may have.
const MinInterval = 100 * time.Millisecond

// ErrInvalidQuery matches every *QueryError.
var ErrInvalidQuery = errors.New("poller: invalid query")

// QueryError names the query and the field that is wrong.
type QueryError struct {
	Index   int    // position in the list
	Name    string // the query's name, when it has one
	Field   string // "name", "op", "input" or "interval"
	Problem string
}

func (e *QueryError) Error() string {
	who := fmt.Sprintf("query %d", e.Index)
	if e.Name != "" {
		who = fmt.Sprintf("query %q", e.Name)
	}
	return fmt.Sprintf("%s: %s %s", who, e.Field, e.Problem)
}

// Is reports ErrInvalidQuery.
func (e *QueryError) Is(target error) bool { return target == ErrInvalidQuery }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Validate checks qs: unique valid names, an operation isRead accepts (nil
// accepts any non-empty name), a JSON object as input without NextToken,
// and an interval of at least MinInterval. It returns the first problem as
// a *QueryError.
func Validate(qs []Query, isRead func(op string) bool) error {
	seen := map[string]bool{}
	for i, q := range qs {
		bad := func(field, format string, a ...any) error {
			return &QueryError{Index: i, Name: q.Name, Field: field, Problem: fmt.Sprintf(format, a...)}
		}
		switch {
		case !nameRE.MatchString(q.Name):
			return bad("name", "must be 1-64 characters of A-Z a-z 0-9 _ . -, got %q", q.Name)
		case seen[q.Name]:
			return bad("name", "is used twice")
		case q.Op == "":
			return bad("op", "is required")
		case isRead != nil && !isRead(q.Op):
			return bad("op", "%q is not a supported read operation (Get…, List…, Describe…, Search…)", q.Op)
		case q.Interval < MinInterval:
			return bad("interval", "must be at least %v, got %v", MinInterval, q.Interval)
		}
		seen[q.Name] = true
		in := bytes.TrimSpace(q.Input)
		if len(in) == 0 {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(in, &m); err != nil {
			return bad("input", "must be a JSON object: %v", err)
		}
		if tok, ok := m["NextToken"]; ok && string(bytes.TrimSpace(tok)) != "null" {
			return bad("input", "must not set NextToken (the poller follows pages itself)")
		}
	}
	return nil
}
