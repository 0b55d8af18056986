// Package backoff computes retry delays: full jitter (the default, and what
// aws-sdk-go-v2 v1.48 uses), equal jitter and decorrelated jitter, with
// separate bases for throttles (1 s) and transient failures (50 ms) and a cap
// (20 s).
//
// The math is pure: Options.Delay takes the attempt number, whether the
// failure was a throttle, the previous delay and a uniform random number, so
// callers and tests choose the randomness. NewRand gives a seeded,
// concurrency-safe source for it.
//
// The package imports only the standard library.
package backoff
