package awserr

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// operationer is implemented by smithy's *OperationError.
type operationer interface{ Operation() string }

// connectionErrorer is implemented by the SDK's retryable connection errors.
type connectionErrorer interface{ ConnectionError() bool }

// Classify classifies err, the failure of operation op. If op is empty it is
// taken from the error's Operation() method when there is one (smithy's
// *OperationError). It recognises, in order: an *Error or *QuotaError made by
// this package (returned as is); the caller's cancellation
// (context.Canceled, context.DeadlineExceeded); AWS API errors through
// ErrorCode/ErrorMessage/HTTPStatusCode/HTTPResponse/ServiceRequestID
// (including SDK deserialization failures, classified by their HTTP
// status); network failures (timeouts, resets, refused connections). A nil
// err gives the zero Info with Op set.
func Classify(op string, err error) Info {
	if err == nil {
		return Info{Op: op}
	}
	if info, ok := infoOf(err); ok {
		if info.Op == "" {
			info.Op = op
		}
		return info
	}
	if op == "" {
		var o operationer
		if errors.As(err, &o) {
			op = o.Operation()
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return withAdvice(Info{Class: ClassCanceled, Op: op, Message: truncate(err.Error())})
	}
	var p parts
	p.op = op
	var ec errorCoder
	if errors.As(err, &ec) {
		p.code = ec.ErrorCode()
	}
	var em errorMessager
	if errors.As(err, &em) {
		p.message = em.ErrorMessage()
	}
	var hs httpStatusCode
	if errors.As(err, &hs) {
		p.status = hs.HTTPStatusCode()
	}
	var ri requestIDer
	if errors.As(err, &ri) {
		p.requestID = ri.ServiceRequestID()
	}
	if resp := responseOf(err); resp != nil {
		if p.status == 0 {
			p.status = resp.StatusCode
		}
		p.header = resp.Header
		if p.requestID == "" {
			p.requestID = requestID(resp.Header)
		}
	}
	if p.code == "" && p.message == "" {
		p.message = truncate(err.Error())
	}
	if p.code == "" && p.status == 0 {
		if c, note := networkClass(err); c != ClassUnknown {
			info := Info{Class: c, Op: op, Message: p.message}
			if note != "" {
				info.Advice = note
				return info
			}
			return withAdvice(info)
		}
	}
	p.now = time.Now()
	return classify(p)
}

// networkClass recognises failures that never got an HTTP answer: network
// errors, and the SDK's client-side validation and retry-quota errors. A non-empty note replaces
// the default advice.
func networkClass(err error) (Class, string) {
	msg := err.Error()
	if strings.Contains(msg, "retry quota exceeded") {
		return ClassTransient, "The AWS SDK's own client-side retry quota is exhausted (the server did not say this): " +
			"earlier calls failed and their retries drained the SDK's 500-token bucket. Back off, and admit retries " +
			"through Tollgate's buckets instead (or set the SDK's RateLimiter to ratelimit.None)."
	}
	if strings.Contains(msg, "validation error(s) found") || strings.Contains(msg, "serialization failed") {
		return ClassClientFault, "The SDK rejected the request before sending it (a required member is missing or " +
			"invalid). Fix the request; retrying it unchanged will not help."
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		if dns.IsNotFound {
			return ClassClientFault, "The endpoint host name does not resolve; check the Region and endpoint configuration. Retrying will not help."
		}
		return ClassTransient, ""
	}
	var ce connectionErrorer
	if errors.As(err, &ce) && ce.ConnectionError() {
		return ClassTransient, ""
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ClassTransient, ""
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return ClassTransient, ""
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return ClassTransient, ""
	}
	lower := strings.ToLower(msg)
	for _, s := range []string{"connection reset", "connection refused", "use of closed network connection",
		"broken pipe", "i/o timeout", "tls handshake timeout", "server closed idle connection",
		"timeout awaiting response headers", "unexpected eof", "http2: client connection lost"} {
		if strings.Contains(lower, s) {
			return ClassTransient, ""
		}
	}
	return ClassUnknown, ""
}

// responseOf finds the HTTP response carried by err's chain through
// HTTPResponse() *http.Response. (aws-sdk-go-v2 errors keep theirs in a
// smithy type; awssdk.Classify and awssdk.WithResponse expose it in this
// form.)
func responseOf(err error) *http.Response {
	var hr httpResponser
	if errors.As(err, &hr) {
		return hr.HTTPResponse()
	}
	return nil
}

func requestID(h http.Header) string {
	if v := h.Get("X-Amzn-Requestid"); v != "" {
		return v
	}
	if v := h.Get("X-Amz-Requestid"); v != "" {
		return v
	}
	return h.Get("X-Amz-Request-Id")
}

const maxMessageLen = 512

func truncate(s string) string {
	if len(s) <= maxMessageLen {
		return s
	}
	s = s[:maxMessageLen]
	s = strings.ToValidUTF8(s, "")
	return s + "…"
}
