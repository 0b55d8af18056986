// Package awssdk puts aws-sdk-go-v2 clients under a governor.Governor.
//
//	client := connect.NewFromConfig(cfg, awssdk.Govern(gov))
//
// makes every attempt of every operation (first attempts and retries alike)
// wait for admission in the operation's bucket of the governor's Limiter,
// and makes the governor, not the SDK, decide whether and when to retry: the
// SDK's retry quota ("retry quota exceeded, 0 available, 5 requested") never
// applies, LimitExceededException on StartChatContact is not retried as a
// throttle, a hard quota fails at once, and no backoff sleeps past the
// context's deadline.
//
// # How it plugs in
//
// The SDK runs its retry loop in the Finalize-step middleware "Retry"
// (retry.Attempt), which connect inserts before "ResolveAuthScheme" and
// therefore before "Signing". Govern adds two Finalize middlewares around it
// and replaces the Retryer. The Finalize step of a governed connect v1.175.2
// operation (as TestMiddlewareOrder records it) is:
//
//	spanRetryLoop, InterceptBeforeRetryLoop
//	TollgateCall     starts a governor.Run for the operation (its name from
//	                 awsmiddleware.GetOperationName) and reports the outcome
//	Retry            the SDK loop: clones the request, sets Amz-Sdk-Request,
//	                 tracks clock skew, sleeps the delay the Retryer gives
//	TollgateAttempt  once per attempt: admits it through the Limiter, sends
//	                 it, and lets the governor classify the result and decide
//	InterceptAttempt, RetryMetricsHeader, ResolveAuthScheme, GetIdentity,
//	ResolveEndpointV2, …, Signing, then the transport
//
// The Retryer (see Retryer) only reads the decision TollgateAttempt attached
// to the error: its GetRetryToken never fails, its MaxAttempts is 0 (the
// governor caps attempts), its RetryDelay is the governor's backoff.
// Because the SDK resolves Options.Retryer in New before the functional
// options run but builds each operation's middleware stack from the final
// options, a Retryer set in a functional option does take effect (unlike
// RetryMode set there, which is silently ignored); Govern also clears
// RetryMaxAttempts so the SDK does not wrap the Retryer with its own cap.
//
// Two SDK behaviours change under the governor. A per-operation
// RetryMaxAttempts option makes the SDK wrap the Retryer with its own cap
// again, for that call. And the SDK retries AccessDeniedException once when
// the response's Date shows a clock skew over 4 minutes; the governor
// classifies it as a client fault and does not (the SDK still records the
// skew and corrects the next operation's signature).
//
// # The HTTP client
//
// Govern and GovernConfig also wrap the client's HTTP client with
// HTTPClient. That wrapper closes a race between the SDK, which closes a
// request body once the response is back, and net/http, which then checks
// the body for unsent bytes. The race made a call that had been answered
// fail with "use of closed network connection" and sent it again. Every
// AWS configuration Tollgate loads uses the wrapper too.
//
// # Errors
//
// What the client returns is a *smithy.OperationError whose chain holds the
// governor's decision: errors.Is(err, awserr.ErrHardQuota) and
// errors.As(err, &quotaErr) work, and so does errors.As to the SDK's own
// types (types.ServiceQuotaExceededException, …), which the awserr errors
// wrap. awssdk.Classify("", err) gives the classification (awserr.Classify
// with the response headers the SDK keeps in smithy types).
//
// The package is an adapter: it imports the AWS SDK; the governor does not.
package awssdk
