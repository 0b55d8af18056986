package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// reqCtx is one decoded request as a handler sees it.
type reqCtx struct {
	op       opID
	name     string // the operation's name
	valCode  string
	labels   [2]string
	rawQuery string
	body     []byte
	now      time.Time
	caller   string
	query    url.Values // parsed lazily by queryValues
	tokenKey string     // the request's ClientToken key (see idempotent); "" without one
}

// decodeBody unmarshals the JSON body into v. An empty body is an empty
// structure. Anything that is not a JSON object of the right shape is a
// 400 SerializationException.
func decodeBody(body []byte, v any) *apiError {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return errf(codeSerialization, "Start of structure or map found where not expected.")
	}
	if e := checkUTF8(body); e != nil {
		return e
	}
	if err := json.Unmarshal(body, v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return errf(codeSerialization, "Unable to parse the request body as JSON at offset "+strconv.FormatInt(se.Offset, 10)+".")
		case errors.As(err, &te):
			f := te.Field
			if f == "" {
				f = "request"
			}
			return errf(codeSerialization, "Unexpected JSON "+te.Value+" for member '"+clip(f)+"'.")
		}
		return errf(codeSerialization, "Unable to parse the request body as JSON.")
	}
	return nil
}

// checkUTF8 refuses bytes that are not UTF-8, as AWS's JSON parser does
// (encoding/json would silently turn them into U+FFFD).
func checkUTF8(b []byte) *apiError {
	if utf8.Valid(b) {
		return nil
	}
	i := 0
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		i += size
	}
	return errf(codeSerialization, fmt.Sprintf("Invalid UTF-8 start byte 0x%02x at offset %d.", b[i], i))
}

// queryValues parses the query string once.
func (rc *reqCtx) queryValues() (url.Values, *apiError) {
	if rc.query != nil {
		return rc.query, nil
	}
	q, err := url.ParseQuery(rc.rawQuery)
	if err != nil {
		return nil, errf(codeSerialization, "Unable to parse the query string.")
	}
	for k, vs := range q {
		for _, v := range append(vs, k) {
			if !utf8.ValidString(v) {
				return nil, errf(codeSerialization, "The query parameter '"+clip(strings.ToValidUTF8(k, "?"))+"' is not valid UTF-8.")
			}
		}
	}
	rc.query = q
	return q, nil
}

// queryInt reads an integer query parameter; a non-integer is a
// SerializationException, as the restJson1 deserializer would report it.
func (rc *reqCtx) queryInt(name string) (*int64, *apiError) {
	q, e := rc.queryValues()
	if e != nil {
		return nil, e
	}
	s := q.Get(name)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return nil, errf(codeSerialization, "Value '"+clip(s)+"' for query parameter '"+name+"' is not a valid integer.")
	}
	return &n, nil
}

// inTime is a request timestamp: epoch seconds (restJson1 default) or an
// ISO 8601 string.
type inTime struct{ time.Time }

func (t *inTime) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return &json.UnmarshalTypeError{Value: "string " + clip(s), Type: nil}
		}
		t.Time = v
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f < -1e11 || f > 1e11 {
		return &json.UnmarshalTypeError{Value: "number " + clip(string(b))}
	}
	sec := int64(f)
	t.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
	return nil
}

// epoch writes a timestamp as epoch seconds with milliseconds, the
// restJson1 default format.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

func ep(t time.Time) *epoch { e := epoch(t); return &e }

// page slices n items by nextToken and maxResults. Tokens are opaque and
// bound to their operation: base64 of "tg1:<op>:<offset>", so a token of
// one operation is refused by another.
func page(n int, op, nextToken string, maxResults *int64, def int) (start, end int, next *string, bad bool) {
	size := def
	if maxResults != nil {
		size = int(*maxResults)
	}
	prefix := "tg1:" + op + ":"
	if nextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(nextToken)
		s, ok := strings.CutPrefix(string(raw), prefix)
		if err != nil || !ok {
			return 0, 0, nil, true
		}
		off, err := strconv.Atoi(s)
		if err != nil || off < 0 || off > n {
			return 0, 0, nil, true
		}
		start = off
	}
	end = min(n, start+size)
	if end < n {
		t := base64.RawURLEncoding.EncodeToString([]byte(prefix + strconv.Itoa(end)))
		next = &t
	}
	return start, end, next, false
}

func badToken(code string) *apiError {
	return errf(code, "The NextToken is not valid.")
}

func str(s string) *string { return &s }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
