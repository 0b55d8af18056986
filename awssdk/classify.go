package awssdk

import (
	"errors"
	"net/http"

	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/tollgatehq/tollgate/awserr"
)

// Classify is awserr.Classify for aws-sdk-go-v2 errors: it also reads the
// HTTP response the SDK keeps inside the error (headers such as
// x-amz-retry-after and the request id), which awserr cannot reach without
// importing smithy. Pass it as governor.Options.Classify for a governor that
// sees raw SDK errors (governor.Do around SDK calls); clients governed
// through Middleware get the same without it.
func Classify(op string, err error) awserr.Info {
	return awserr.Classify(op, WithResponse(err))
}

// smithyResponder is implemented by smithy's (and the AWS SDK's)
// ResponseError.
type smithyResponder interface {
	HTTPResponse() *smithyhttp.Response
}

// WithResponse returns err wrapped so that it exposes the HTTP response an
// SDK error carries as HTTPResponse() *http.Response, the standard-library
// form awserr reads. Errors without one are returned as they are.
func WithResponse(err error) error {
	if err == nil {
		return nil
	}
	var hr interface{ HTTPResponse() *http.Response }
	if errors.As(err, &hr) {
		return err // already in the standard form
	}
	var sr smithyResponder
	if !errors.As(err, &sr) {
		return err
	}
	r := sr.HTTPResponse()
	if r == nil || r.Response == nil {
		return err
	}
	return &responseError{err: err, resp: r.Response}
}

// responseError is an SDK error with its HTTP response in reach.
type responseError struct {
	err  error
	resp *http.Response
}

func (e *responseError) Error() string                { return e.err.Error() }
func (e *responseError) Unwrap() error                { return e.err }
func (e *responseError) HTTPResponse() *http.Response { return e.resp }
