// Package extension runs the Tollgate gateway as an AWS Lambda extension:
// a process beside the function in every execution environment, serving
// the gateway on 127.0.0.1, so a function governed by Tollgate changes only
// its environment (AWS_ENDPOINT_URL_CONNECT=http://127.0.0.1:9787).
//
// # Life cycle
//
//  1. Register with the Lambda Extensions API (AWS_LAMBDA_RUNTIME_API) for
//     INVOKE and SHUTDOWN events (Client.Register), asking for the account
//     id so a Redis-shared budget can be keyed by it.
//  2. Serve the gateway (package gateway, unchanged) on a loopback address.
//     Callers are verified against the function's own credentials
//     (FunctionCallers: the access key, secret and session token the
//     runtime put in the environment), so no keys file exists and only the
//     function can sign; requests are re-signed with the same credentials.
//  3. Loop on Client.Next. Each INVOKE ends the previous invocation's
//     accounting: one log line at most, and only when a call was refused,
//     failed or throttled past its deadline.
//  4. On SHUTDOWN, stop accepting calls and drain the ones in flight until
//     the platform's deadline less a margin (Options.DrainMargin).
//
// What is shared: with TOLLGATE_REDIS_URL the buckets live in Redis and
// every environment of every function pointed at it draws on one account
// budget; without it each environment admits at a configured share of the
// quota (it cannot see the others).
package extension
