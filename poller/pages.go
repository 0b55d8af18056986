package poller

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// MaxPages bounds the pages one poll follows.
const MaxPages = 100

// Caller calls op with input (a JSON object) and returns its output (a JSON
// object). internal/app's caller goes through the governor.
type Caller func(ctx context.Context, op string, input json.RawMessage) (json.RawMessage, error)

// fetch calls op with input, follows NextToken to the last page (at most
// MaxPages) and merges the pages: the arrays at the top level of every page
// are concatenated, other members are the first page's. It returns the
// merged document and the number of calls made.
func fetch(ctx context.Context, call Caller, op string, input json.RawMessage) (json.RawMessage, int, error) {
	in := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(input)) > 0 {
		if err := json.Unmarshal(input, &in); err != nil {
			return nil, 0, fmt.Errorf("input: %w", err)
		}
	}
	var merged map[string]json.RawMessage
	for page := 1; ; page++ {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, page - 1, err
		}
		out, err := call(ctx, op, b)
		if err != nil {
			return nil, page, err
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(out, &doc); err != nil {
			return nil, page, fmt.Errorf("%s: output is not a JSON object: %w", op, err)
		}
		next := nextToken(doc)
		delete(doc, "NextToken")
		if merged == nil {
			merged = doc
		} else if err := mergePage(merged, doc); err != nil {
			return nil, page, fmt.Errorf("%s: page %d: %w", op, page, err)
		}
		if next == "" {
			b, err := json.Marshal(merged)
			return b, page, err
		}
		if page >= MaxPages {
			return nil, page, fmt.Errorf("%s: more than %d pages; narrow the query's filters", op, MaxPages)
		}
		in["NextToken"], _ = json.Marshal(next)
	}
}

func nextToken(doc map[string]json.RawMessage) string {
	raw, ok := doc["NextToken"]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// mergePage appends page's top-level arrays to dst's.
func mergePage(dst, page map[string]json.RawMessage) error {
	for k, v := range page {
		if len(v) == 0 || v[0] != '[' {
			if _, ok := dst[k]; !ok {
				dst[k] = v
			}
			continue
		}
		var a, b []json.RawMessage
		if err := json.Unmarshal(v, &b); err != nil {
			return fmt.Errorf("member %s: %w", k, err)
		}
		if cur, ok := dst[k]; ok && len(cur) > 0 && cur[0] == '[' {
			if err := json.Unmarshal(cur, &a); err != nil {
				return fmt.Errorf("member %s: %w", k, err)
			}
		}
		m, err := json.Marshal(append(a, b...))
		if err != nil {
			return err
		}
		dst[k] = m
	}
	return nil
}
