package awserr

import (
	"encoding/json"
	"net/http"
	"time"
)

// wireError is the restJson1 error body. encoding/json matches keys
// case-insensitively, so "code"/"Code" and "message"/"Message" both land.
type wireError struct {
	Code    string `json:"code"`
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// MaxErrorBody is how much of an error body ParseResponse reads; longer
// bodies are cut (an error body is a few hundred bytes).
const MaxErrorBody = 64 << 10

// ParseResponse classifies a non-2xx response in the restJson1 error format
// of operation op, given the response and its body (resp.Body is not read).
// The error code comes from the X-Amzn-ErrorType header if present (which
// wins, as the protocol requires), else from the body's "code" member, else
// from "__type"; "ns#" prefixes and ":uri" suffixes are stripped. A body
// that is not JSON (an HTML 503 page from a load balancer) is ignored and the
// status decides. The request ID comes from X-Amzn-RequestId and the retry
// delay from x-amz-retry-after or Retry-After. A nil resp or a 2xx status
// gives ClassUnknown with no advice.
func ParseResponse(op string, resp *http.Response, body []byte) Info {
	return parseResponseAt(op, resp, body, time.Now())
}

func parseResponseAt(op string, resp *http.Response, body []byte, now time.Time) Info {
	if resp == nil {
		return Info{Op: op}
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return Info{Op: op, Status: resp.StatusCode, RequestID: truncate(requestID(resp.Header))}
	}
	p := parts{op: op, status: resp.StatusCode, header: resp.Header, now: now}
	p.requestID = requestID(resp.Header)
	if len(body) > MaxErrorBody {
		body = body[:MaxErrorBody]
	}
	var w wireError
	if len(body) > 0 && json.Unmarshal(body, &w) != nil {
		// Type mismatches still fill the members that did decode; only a
		// body that is not JSON at all is dropped.
		if !json.Valid(body) {
			w = wireError{}
		}
	}
	p.message = w.Message
	switch {
	case resp.Header.Get("X-Amzn-Errortype") != "":
		p.code = resp.Header.Get("X-Amzn-Errortype")
	case w.Code != "":
		p.code = w.Code
	default:
		p.code = w.Type
	}
	return classify(p)
}
