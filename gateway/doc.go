// Package gateway is a SigV4-verifying, re-signing Amazon Connect endpoint:
// Python, Node and CLI callers point their SDK's endpoint at it and get
// Tollgate's admission, retries inside the budget, classification and
// fleet-wide sharing without changing their code.
//
// # A request's path
//
//  1. Size and pace: a body over Options.MaxBodyBytes is refused with 413;
//     one not received within Options.BodyTimeout gets 408.
//  2. Authentication: the caller's SigV4 signature is verified (package
//     sigv4) against callers.yaml (LoadCallers): Region, service
//     (connect or connect-campaigns), ±5 minute window, payload hash.
//     Failures answer in AWS's shape (403 MissingAuthenticationToken,
//     UnrecognizedClient, InvalidSignature; 400 IncompleteSignature).
//  3. Authorisation: the operation (recognised from method and path) must
//     be in the caller's operations list, else 403 AccessDeniedException.
//     An operation the gateway does not recognise is allowed only to
//     callers with ["*"] and draws on the account budget alone.
//     Nothing unauthenticated or unauthorised is ever forwarded.
//  4. Admission and retry: governor.Run drives each attempt through the
//     shared ratelimit.Limiter (in memory, or Redis for a fleet) at the
//     caller's priority. An upstream rate throttle is retried inside the
//     budget while the caller's deadline allows (Options.Deadline, or the
//     X-Tollgate-Deadline header); past it the caller gets the upstream's
//     429 with x-amz-retry-after. Concurrency and hard quotas and client
//     faults are answered at once.
//  5. Forwarding: the request is re-signed with the gateway's own
//     credentials (aws-sdk-go-v2's v4 signer) and sent to the Region's
//     Connect endpoint, or Outbound Campaigns' for connect-campaigns
//     requests. Hop-by-hop headers, X-Forwarded-*, Forwarded, the
//     caller's signature headers and X-Tollgate-* are not forwarded.
//  6. The response comes back unchanged (status, headers, body, streamed
//     as it arrives) plus X-Tollgate-Class: ok or the awserr class.
//
// Fairness: callers of one operation take turns by share through
// ratelimit.Shares (start-time fair queueing): a closed-loop caller keeps
// its place while its SDK works between calls, a caller arriving after
// others spent the burst catches up by up to 8 turns (Shares.Credit), and a
// retried upstream throttle gives its turn back (Shares.Return).
//
// Metrics per caller (principal) and operation are served at GET /metrics:
// admitted attempts, upstream throttles, admission wait, latency, answers
// by class and refusals by code; GET StatePath serves the same as JSON
// (State) for serve's dashboard. Both need Options.Token as a bearer token
// (serve's token, so serve can read the state). Secrets and signatures are
// never logged.
package gateway
