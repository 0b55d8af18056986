package sigv4

import (
	"errors"
	"net/http"
)

// AWS error codes a verifier answers with.
const (
	CodeMissingAuthToken    = "MissingAuthenticationTokenException"
	CodeIncompleteSignature = "IncompleteSignatureException"
	CodeUnrecognizedClient  = "UnrecognizedClientException"
	CodeInvalidSignature    = "InvalidSignatureException"
)

// Sentinels, one per kind of failure, matched with errors.Is on *Error.
var (
	ErrMissing    = errors.New("sigv4: no Authorization header")
	ErrMalformed  = errors.New("sigv4: malformed signature")
	ErrUnknownKey = errors.New("sigv4: unknown access key")
	ErrScope      = errors.New("sigv4: credential scope not accepted")
	ErrExpired    = errors.New("sigv4: request time outside the window")
	ErrMismatch   = errors.New("sigv4: signature does not match")
)

// Error is a verification failure in the shape AWS answers it: Code (for
// X-Amzn-ErrorType), Status and Message. Kind is one of the sentinels.
type Error struct {
	Kind    error
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Kind.Error() + ": " + e.Message }

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

func fail(kind error, msg string) *Error {
	e := &Error{Kind: kind, Message: msg, Status: http.StatusForbidden}
	switch kind {
	case ErrMissing:
		e.Code = CodeMissingAuthToken
	case ErrMalformed:
		e.Code, e.Status = CodeIncompleteSignature, http.StatusBadRequest
	case ErrUnknownKey:
		e.Code = CodeUnrecognizedClient
	default:
		e.Code = CodeInvalidSignature
	}
	return e
}

// clip shortens client-supplied text quoted in a message.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
