package awserr

import (
	"errors"
	"net"
	"strings"
	"syscall"
)

// OutcomeUnknown reports whether a failed call may nevertheless have taken
// effect: the request may have reached the service and no answer saying
// otherwise was read. That is a 5xx answer (StatusOutcomeUnknown), a
// network failure once the request could have been sent (a timeout, a reset
// connection, an early EOF) or the call's deadline or cancellation passing
// mid-call. An error answer under 500 (throttles, AccessDenied, validation)
// says nothing was done, and so does a failure before sending: a refused
// connection, a host name that does not resolve, the SDK's client-side
// validation. A nil err is false. Callers that retry such a call elsewhere
// must keep it where its idempotency token is deduplicated.
func OutcomeUnknown(op string, err error) bool {
	if err == nil || neverSent(err) {
		return false
	}
	info := Classify(op, err)
	switch {
	case info.Status > 0:
		return StatusOutcomeUnknown(info.Status)
	case info.Code != "":
		return info.Class == ClassTransient
	case info.Class == ClassClientFault:
		return false
	}
	return true
}

// StatusOutcomeUnknown reports whether an HTTP answer with this status
// leaves the outcome of the request unknown: any 5xx.
func StatusOutcomeUnknown(status int) bool { return status >= 500 }

// neverSent: the connection was refused or the host did not resolve, so
// no byte of the request reached the service.
func neverSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	return strings.Contains(strings.ToLower(err.Error()), "connection refused")
}

// credentialCodes are the error codes that refuse the caller's identity or
// credentials rather than the request.
var credentialCodes = map[string]bool{
	"accessdeniedexception": true, "accessdenied": true, "unrecognizedclientexception": true,
	"expiredtokenexception": true, "expiredtoken": true, "invalidclienttokenid": true,
	"invalidsignatureexception": true, "signaturedoesnotmatch": true, "incompletesignature": true,
	"missingauthenticationtokenexception": true, "authfailure": true,
}

// Credentials reports whether the failure refuses the caller's account or
// credentials (AccessDenied, UnrecognizedClient, ExpiredToken, a bad
// signature): every call with these credentials will fail the same way,
// whatever the request.
func (i Info) Credentials() bool { return credentialCodes[strings.ToLower(i.Code)] }
