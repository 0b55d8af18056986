// Package governor decides every call to a throttled API: it admits the call
// through a ratelimit.Limiter, makes it, classifies a failure with awserr and
// then retries, waits or fails.
//
// # Policy order
//
// The policies compose as wrappers. Outermost first:
//
//  1. Budget. One call (all its attempts) ends by the earlier of the
//     context's deadline and Options.MaxElapsed after it started. No wait
//     (admission or backoff) is started that would end after that point: the
//     call fails at once with an *Error matching ErrDeadline and wrapping the
//     last attempt's error. An attempt in flight is never cut by MaxElapsed;
//     only the context can do that.
//  2. Retry. Each failure is classified (awserr.Classify) and decided as
//     listed below. A canceled context is never retried.
//  3. Admission. Every attempt, first or retry, waits in the same
//     Limiter with the same Request (operation, cost, priority), so retries
//     draw from the same budget as first attempts and can never storm.
//  4. The call itself.
//
// The retry decisions, by class:
//
//   - rate throttle, transient: back off (backoff.Options.Delay, with the
//     server's Retry-After as a floor) and retry, up to MaxAttempts attempts
//     (then an *Error matching ErrAttempts);
//   - concurrency quota: return at once a *awserr.QuotaError matching
//     awserr.ErrConcurrencyQuota whose RetryAfter is a suggested delay (at
//     least Options.ConcurrencyDelay) for requeueing the work;
//   - hard quota: return at once a *awserr.QuotaError matching
//     awserr.ErrHardQuota, carrying the operation, code, quota and advice;
//   - client fault, canceled, unknown: return at once (an *awserr.Error).
//
// # Observing
//
// An Observer sees every attempt (operation, start, time spent in admission,
// latency, classification, the retry decision) and every call's final
// outcome. The adaptive learner and the metrics exporter are Observers.
//
// # Driving the loop from elsewhere
//
// Do runs the whole loop. An adapter whose host already owns a retry loop
// (the aws-sdk-go-v2 middleware in package awssdk) drives the same policy one
// step at a time with Start, Run.Admit, Run.Settle and Run.Finish, so both
// paths make the same decisions.
//
// Time comes from time.Now and timers, so tests run in testing/synctest
// bubbles; jitter comes from Options.Rand, so runs are reproducible.
//
// The package imports only the standard library and the core packages
// awserr, backoff and ratelimit.
package governor
