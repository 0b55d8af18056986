package awserr_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/tollgatehq/tollgate/awserr"
)

type coded struct {
	code   string
	status int
}

func (c coded) Error() string        { return c.code }
func (c coded) ErrorCode() string    { return c.code }
func (c coded) HTTPStatusCode() int  { return c.status }
func (c coded) ErrorMessage() string { return "m" }

func TestOutcomeUnknown(t *testing.T) {
	type step struct {
		err  error
		want bool
	}
	for i, st := range []step{
		{nil, false},
		{coded{"ThrottlingException", 429}, false},
		{coded{"AccessDeniedException", 403}, false},
		{coded{"InternalServiceException", 500}, true},
		{coded{"ServiceUnavailableException", 503}, true},
		{fmt.Errorf("send: %w", syscall.ECONNRESET), true},
		{fmt.Errorf("send: %w", io.ErrUnexpectedEOF), true},
		{context.DeadlineExceeded, true},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, false},
		{&net.DNSError{Err: "no such host", IsNotFound: true}, false},
		{errors.New("operation error Connect: 1 validation error(s) found"), false},
	} {
		if got := awserr.OutcomeUnknown("StartOutboundVoiceContact", st.err); got != st.want {
			t.Errorf("step %d: OutcomeUnknown(%v) = %v, want %v", i, st.err, got, st.want)
		}
	}
}

func TestCredentials(t *testing.T) {
	for i, st := range []struct {
		code string
		want bool
	}{{"AccessDeniedException", true}, {"UnrecognizedClientException", true}, {"ExpiredTokenException", true},
		{"ThrottlingException", false}, {"DestinationNotAllowedException", false}} {
		if got := awserr.Classify("X", coded{st.code, 403}).Credentials(); got != st.want {
			t.Errorf("step %d: %s: got %v want %v", i, st.code, got, st.want)
		}
	}
}
