// Package awserr classifies failed Amazon Connect calls.
//
// Three different conditions hide behind "429 / quota" on Connect, and each
// needs a different reaction:
//
//   - a rate throttle (ThrottlingException, TooManyRequestsException, an
//     unmodeled 429): a token bucket is empty; wait for a token and retry in
//     the same budget;
//   - a concurrency quota (LimitExceededException on StartChatContact,
//     ServiceQuotaExceededException on StartTaskContact, …): a running contact
//     must end first; park the work and requeue it with a delay;
//   - a hard quota (ServiceQuotaExceededException on CreateInstance, …): only
//     a quota increase helps; fail fast.
//
// Besides those, failures are transient (5xx, timeouts, connection resets),
// client faults (bad input, not found, denied), or the caller's own
// cancellation.
//
// Classify works on aws-sdk-go-v2 errors without importing the SDK: it reaches
// them through small interfaces (ErrorCode, ErrorMessage, HTTPStatusCode,
// HTTPResponse, ServiceRequestID, Operation). ParseResponse reads the restJson1
// error wire format from a raw HTTP response, and ClassifyCode classifies the
// (operation, code, status) triples found in logs. All three give an Info
// carrying the class, the quota concerned (name and Service Quotas code), any
// server-supplied retry delay and one or two sentences of plain advice.
//
// Info.Err turns a classification into an error: a *QuotaError for the
// concurrency and hard quota classes, an *Error otherwise. Both match their
// class sentinel (ErrHardQuota, ErrRateThrottle, …) with errors.Is and unwrap
// to the original cause.
//
// The package imports only the standard library and package quotas.
package awserr
