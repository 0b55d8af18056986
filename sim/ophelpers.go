package sim

import (
	"strings"
	"time"
)

// Helpers shared by the operation handlers in ops_*.go: the common
// validation checks, paging and ClientToken idempotency (the opening every
// handler shares is in opening.go).

// instanceID checks a required InstanceId body member (1–100 characters).
func (v *validator) instanceID(id *string) {
	v.required("instanceId", id != nil)
	v.optLength("instanceId", id, 1, 100)
}

// tags checks the 50-entry limit of a Tags map.
func (v *validator) tags(m map[string]string) {
	if len(m) > 50 {
		v.add("Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
}

// metricGroupings checks the Groupings of GetCurrentMetricData and
// GetMetricData: at most two, each a known grouping.
func (v *validator) metricGroupings(g []string) {
	v.count("groupings", len(g), 0, 2)
	for _, x := range g {
		v.enum("groupings", x, groupings)
	}
}

// checkTimeRange answers InvalidParameterException unless end is after
// start and at most maxSpan later; span words maxSpan in the message.
func checkTimeRange(start, end time.Time, maxSpan time.Duration, span string) *apiError {
	if !end.After(start) {
		return errf(codeInvalidParameter, "EndTime must be later than StartTime.")
	}
	if end.Sub(start) > maxSpan {
		return errf(codeInvalidParameter, "The time range between StartTime and EndTime must not exceed "+span+".")
	}
	return nil
}

// instanceNotFound is the error for an unknown InstanceId.
func instanceNotFound(id string) *apiError {
	return errf(codeResourceNotFound, "Instance not found: "+clip(id))
}

// needResource answers ResourceNotFoundException ("<what> not found: <id>")
// unless id names a resource of the given kind in the instance; requires
// mu held.
func (in *instance) needResource(kind, id, what string) *apiError {
	if r := in.byID[id]; r == nil || r.kind != kind {
		return errf(codeResourceNotFound, what+" not found: "+clip(id))
	}
	return nil
}

// pageOf returns the page of items selected by nextToken and maxResults
// (def items when maxResults is unset) and the next page's token; a
// malformed token, or one of another operation, answers with the
// operation's "NextToken is not valid" error.
func pageOf[T any](items []T, nextToken string, maxResults *int64, def int, rc *reqCtx) ([]T, *string, *apiError) {
	start, end, next, bad := page(len(items), rc.name, nextToken, maxResults, def)
	if bad {
		return nil, nil, badToken(rc.valCode)
	}
	return items[start:end], next, nil
}

// clientTokenKey scopes a request's ClientToken for the token store: the
// scope parts and the token joined by NUL bytes, or "" when the request
// carries no token and so is not idempotent.
func clientTokenKey(token *string, scope ...string) string {
	if token == nil || *token == "" {
		return ""
	}
	return strings.Join(scope, "\x00") + "\x00" + *token
}

// recall returns the id remembered under an idempotency key from
// clientTokenKey; the empty key never matches. Requires mu held.
func (st *state) recall(key string, now time.Time) (string, bool) {
	if key == "" {
		return "", false
	}
	return st.tokens.get(key, now)
}

// remember stores id under an idempotency key for the ClientToken
// lifetime; the empty key (no token) is ignored. Requires mu held.
func (st *state) remember(key, id string, now time.Time) {
	if key != "" {
		st.tokens.put(key, id, now, st.maxToken)
	}
}

// copyStrings copies a string map from a request (contact attributes,
// tags) so that stored state does not alias it; an empty map gives nil.
func copyStrings(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// allBytes reports whether every byte of s satisfies class or is one of
// the bytes in extra; it is true for "". It backs the pattern checks of
// identifiers and numbers.
func allBytes(s string, class func(byte) bool, extra string) bool {
	for i := 0; i < len(s); i++ {
		if !class(s[i]) && strings.IndexByte(extra, s[i]) < 0 {
			return false
		}
	}
	return true
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isAlnum reports whether c is an ASCII letter or digit.
func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) }
