package awssdk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/smithy-go/middleware"

	"github.com/tollgatehq/tollgate/governor"
)

// Middleware IDs in the Finalize step.
const (
	CallMiddlewareID    = "TollgateCall"
	AttemptMiddlewareID = "TollgateAttempt"
	retryMiddlewareID   = "Retry" // the SDK's retry.Attempt
)

// Govern returns a connect client option that puts the client under g:
//
//	client := connect.NewFromConfig(cfg, awssdk.Govern(g))
//
// It sets the Retryer, clears RetryMaxAttempts (the governor caps attempts),
// adds Middleware and wraps the HTTP client with HTTPClient. It may also be
// passed to a single operation call.
func Govern(g *governor.Governor) func(*connect.Options) {
	return func(o *connect.Options) {
		o.HTTPClient = HTTPClient(o.HTTPClient)
		o.Retryer = Retryer()
		o.RetryMaxAttempts = 0
		o.APIOptions = append(o.APIOptions, Middleware(g))
	}
}

// GovernConfig puts every client later built from cfg, of any service, under
// g. Operations are admitted by their bare name (e.g. "SendMessage"), so
// give the governor's Limiter buckets named accordingly. It also wraps
// cfg's HTTP client with HTTPClient.
func GovernConfig(cfg *aws.Config, g *governor.Governor) {
	cfg.HTTPClient = HTTPClient(cfg.HTTPClient)
	cfg.Retryer = func() aws.Retryer { return Retryer() }
	cfg.RetryMaxAttempts = 0
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), Middleware(g))
}

// Middleware returns the stack option that adds the governor's middlewares
// around the SDK's Retry middleware. Use it with Retryer for a client of a
// service other than connect:
//
//	sqs.NewFromConfig(cfg, func(o *sqs.Options) {
//		o.Retryer = awssdk.Retryer()
//		o.RetryMaxAttempts = 0
//		o.APIOptions = append(o.APIOptions, awssdk.Middleware(g))
//	})
//
// Adding it twice is harmless. It fails the operation if the stack has no
// Retry middleware.
func Middleware(g *governor.Governor) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		if _, ok := s.Finalize.Get(CallMiddlewareID); ok {
			return nil
		}
		if err := s.Finalize.Insert(callMiddleware{g}, retryMiddlewareID, middleware.Before); err != nil {
			return fmt.Errorf("awssdk: the governor needs the SDK's %q middleware: %w", retryMiddlewareID, err)
		}
		return s.Finalize.Insert(attemptMiddleware{}, retryMiddlewareID, middleware.After)
	}
}

// WithCallOptions returns a context whose governed SDK calls use co
// (priority, cost, attempt cap).
func WithCallOptions(ctx context.Context, co governor.CallOptions) context.Context {
	return context.WithValue(ctx, callOptionsKey{}, co)
}

type callOptionsKey struct{}

type runKey struct{}

// callMiddleware starts a governor.Run per operation and finishes it with
// the operation's final error.
type callMiddleware struct{ g *governor.Governor }

func (callMiddleware) ID() string { return CallMiddlewareID }

func (m callMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	co, _ := ctx.Value(callOptionsKey{}).(governor.CallOptions)
	r := m.g.Start(awsmiddleware.GetOperationName(ctx), co)
	ctx = middleware.WithStackValue(ctx, runKey{}, r)
	out, md, err := next.HandleFinalize(ctx, in)
	return out, md, r.Finish(ctx, err)
}

// attemptMiddleware admits one attempt, sends it, and attaches the
// governor's decision to its error.
type attemptMiddleware struct{}

func (attemptMiddleware) ID() string { return AttemptMiddlewareID }

func (attemptMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	r, _ := middleware.GetStackValue(ctx, runKey{}).(*governor.Run)
	if r == nil {
		return next.HandleFinalize(ctx, in)
	}
	if err := r.Admit(ctx); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, err
	}
	out, md, err := next.HandleFinalize(ctx, in)
	// The governor classifies with awserr, which reads the response
	// headers (retry-after, request id) through WithResponse's wrapper.
	s := r.Settle(ctx, WithResponse(err))
	if s.Retry {
		return out, md, &retryError{err: err, delay: s.Delay}
	}
	return out, md, s.Err
}

// retryError carries the governor's "retry after delay" decision from the
// attempt middleware to the Retryer. It wraps the attempt's error.
type retryError struct {
	err   error
	delay time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// Retryer returns an aws.RetryerV2 that follows the decisions the governor's
// attempt middleware attaches to errors. Use it together with Middleware;
// alone it never retries.
func Retryer() aws.RetryerV2 { return retryer{} }

type retryer struct{}

func (retryer) IsErrorRetryable(err error) bool {
	var d *retryError
	return errors.As(err, &d)
}

// MaxAttempts is 0, "no limit" to the SDK: the governor caps attempts.
func (retryer) MaxAttempts() int { return 0 }

func (retryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	var d *retryError
	if !errors.As(err, &d) {
		return 0, errors.New("awssdk: no governor decision on the error; use awssdk.Middleware with awssdk.Retryer")
	}
	return d.delay, nil
}

func (retryer) GetRetryToken(context.Context, error) (func(error) error, error) { return nop, nil }
func (retryer) GetInitialToken() func(error) error                              { return nop }
func (retryer) GetAttemptToken(context.Context) (func(error) error, error)      { return nop, nil }

func nop(error) error { return nil }
