// Package sim is a local Amazon Connect: an http.Handler that speaks
// Connect's restJson1 wire protocol, enforces the published quotas the way
// AWS does, and misbehaves on demand, so throttling behaviour can be tested
// with the real AWS SDKs (Go, JavaScript, Python, the AWS CLI) without an
// AWS account. `tollgate sim` serves it.
//
// # Operations
//
// The 21 Connect operations Tollgate uses (Operations lists them) with their
// real HTTP bindings — method, URI, path labels, query parameters, JSON body
// members — plus Outbound Campaigns PutDialRequestBatch
// (PUT /campaigns/{id}/dial-requests). Required members, lengths, ranges,
// enums and patterns are validated the way the service does:
// InvalidParameterException (or InvalidRequestException for the operations
// that do not model it; ValidationException for campaigns), 400, with a
// Coral-style "N validation errors detected: …" message. Errors use the wire
// format of reference §3.3: X-Amzn-ErrorType, X-Amzn-RequestId, Date and a
// JSON body {"Message": …} ({"message": …} for campaigns). An unknown route
// gets 404 UnknownOperationException, malformed JSON 400
// SerializationException, a body over Options.MaxBodyBytes (1 MiB) 413
// RequestEntityTooLargeException.
//
// # What real Connect does, and what the simulator does
//
//   - Rate quotas. Real Connect keeps one token bucket per operation per
//     account and Region, shared by every caller and instance. The simulator
//     does the same (one simulator = one account in one Region), seeded from
//     the quota table (Options.Quotas, quotas.Default()), scaled by
//     RateScale, changeable at run time (SetQuota, POST /_sim/quotas), with
//     an optional account-wide ceiling. The check runs before the operation,
//     after SigV4. A throttle is 429 ThrottlingException with "Rate exceeded",
//     except StartChatContact, whose documented TPS error is
//     TooManyRequestsException; Options.ThrottleCodes changes either. Several
//     operations (StartOutboundVoiceContact, StopContact,
//     UpdateContactAttributes, StartChatContact, DescribeInstance,
//     ListInstances) model no throttling error: the Go SDK then sees a
//     generic API error with the same code, as it would from AWS. AWS does
//     not document x-amz-retry-after for Connect; Options.RetryAfter adds it.
//   - Concurrent active calls. Real Connect accepts a
//     StartOutboundVoiceContact beyond the quota and the contact hears a
//     reorder (fast-busy) tone; the API call succeeds. The simulator does the
//     same by default: 200, a ContactId, the contact ends at once and counts
//     as rejected_reorder (not contacts_started). CallLimitError makes it a
//     429 LimitExceededException instead, for clients that want a signal.
//   - Contact lifecycle. A voice call the instance accepts rings (a tenth of
//     its duration, at most 2 s), is answered and ends with
//     CUSTOMER_DISCONNECT after its sampled duration (Options.CallDuration);
//     StopContact ends it with OTHER; a reorder call ends at once,
//     unanswered, with OTHER. DescribeContact (GET
//     /contacts/{InstanceId}/{ContactId}) answers with the timestamps that
//     have passed and the DisconnectReason; Options.ContactEvents receives
//     INITIATED, CONNECTED_TO_SYSTEM and DISCONNECTED contact events in
//     EventBridge's envelope when they happen (package contactevents
//     publishes them to an SQS queue, as an EventBridge rule would).
//   - Concurrent active chats: StartChatContact → 429
//     LimitExceededException (as documented). Active tasks: StartTaskContact
//     → 402 ServiceQuotaExceededException, also for more than 12 tasks per
//     PreviousContactId.
//   - Users per instance: CreateUser → 429 LimitExceededException.
//     Instances per account: CreateInstance → 402
//     ServiceQuotaExceededException.
//   - Phone numbers per instance: ClaimPhoneNumber models no quota error;
//     the simulator answers 402 ServiceQuotaExceededException, the code
//     Connect uses for resource quotas, which the Go SDK surfaces as a
//     generic API error. The claim/release churn limit is not simulated.
//   - Contacts last a seeded random duration (CallDuration, ChatDuration,
//     TaskDuration), so concurrency frees over time; activity is computed
//     lazily from the clock, no goroutines. StopContact ends a contact
//     early; stopping an ended or unknown contact is 410
//     ContactNotFoundException.
//   - ClientToken idempotency. Real Connect returns the same ContactId for a
//     token reused within 7 days and starts nothing. So does the simulator
//     (StartOutboundVoiceContact, StartChatContact, StartTaskContact,
//     CreateInstance, ClaimPhoneNumber, and dial requests per campaign),
//     counting each reuse in duplicate_client_tokens. Tokens are kept 7 days,
//     at most 262,144, oldest first out.
//   - Destinations. Numbers starting with a refused prefix (default
//     "+1555000") get 403 DestinationNotAllowedException, so demos can show
//     dead letters. An instance created with outbound calls off answers 403
//     OutboundContactNotPermittedException.
//   - PutDialRequestBatch: 1–25 items; items beyond the campaign's dial
//     capacity (DialRate, DialBurst) fail with RequestThrottled, expired
//     items with InvalidInput, inside a 200 response. A campaign not Running
//     is 409 InvalidCampaignStateException. Its own TPS is not published; the
//     quota table's 2/s burst 5 applies.
//   - Metrics are derived from the simulated state (agents are users,
//     contacts are the simulated contacts), not from a contact center.
//
// # Authentication
//
// By default any SigV4 credentials (or none) are accepted; the access key
// in the Authorization header identifies the caller in statistics. With
// Options.Credentials, signatures are verified (stdlib crypto) and rejected
// as AWS does: 403 MissingAuthenticationTokenException,
// UnrecognizedClientException, InvalidSignatureException (including a clock
// skew over 5 minutes). The admin API then needs a bearer token.
//
// # Several accounts
//
// NewMulti serves Options.Accounts accounts (`tollgate sim --accounts N`,
// `accounts: N`) behind one endpoint, for quota pools. Account k has id
// MultiAccountID(k) (100000000001, …), signs with AccountKey(k)
// (AKIDSIMACCOUNT000001 / sim-secret-1, …) and has its own Server: state
// seeded from the same seed file with ids derived from the account (so
// they differ between accounts but not between runs) and phone numbers
// moved by 100·(k-1), buckets, statistics, contacts, faults and outage
// switch. The access key of the Authorization header chooses the account;
// Options.Credentials' keys are account 1's; a key of no account is 403
// UnrecognizedClientException (an unsigned request 403
// MissingAuthenticationTokenException), counted in no account. With one
// account NewMulti is exactly New (today's ids; any key accepted).
//
// Admin: GET /_sim/accounts lists the accounts (AccountInfo); every admin
// route is also under /_sim/accounts/{k}/ (stats, quotas, faults,
// resources, info, outage, metrics) and the unprefixed ones are account
// 1's, except GET /_sim/stats and POST /_sim/stats/reset, which with several
// accounts sum (and reset) them all; the sum has "accounts": [each
// account's Stats with its index]. /metrics is account 1's.
//
// Outage: POST /_sim/accounts/{k}/outage {"mode": …} (/_sim/outage for
// account 1, SetOutage): "access-denied" answers every Connect request of
// the account 403 AccessDeniedException, "unavailable" a 503 with an HTML
// body, "timeout" holds it until the client gives up (at most OutageHold,
// 60 s, then a 503; a mode change or a shutdown answers held requests at
// once); "lost-response" serves the request (the call is placed) and then
// holds its answer the same way, the unknown outcome a ClientToken exists
// for; "off" ends it. Refused requests and lost answers count in
// refused_outage. Service
// Quotas, CloudWatch and STS are not affected.
//
// STS: AssumeRole and GetCallerIdentity in the query protocol (POST / with
// a form body, XML answers and ErrorResponse errors), so the SDKs' STS
// clients and stscreds work with BaseEndpoint set to the simulator. A role
// arn:aws:iam::<one of the accounts>:role/<any name> can be assumed by any
// caller (with Credentials: any verified caller, including another
// temporary key); any other account is 403 AccessDenied. The temporary key
// (ASIA…) signs for the role's account until it expires (DurationSeconds,
// default 1 h; then 403 ExpiredTokenException); its session token is
// checked when signatures are verified.
//
// # Faults
//
// Per operation (or "*"), seeded: a latency distribution, 500
// InternalServiceException, 503 with an HTML body (the SDK cannot decode
// it, as with a real load balancer), connection resets (TCP RST), and
// responses slower than a client's timeout. Set through Options.Faults, the
// configuration file, SetFault or POST /_sim/faults.
//
// # Observability
//
// GET /_sim/stats (Stats): per operation and per caller, accepted,
// throttled and error counts by code; contacts_started,
// duplicate_client_tokens, rejected_reorder, dial_requests; active contacts
// per instance; and a per-second timeline (bounded: TimelineSeconds).
// GET /metrics serves the same counters to Prometheus, collected at scrape
// time. Other admin endpoints are listed on (*Server).serveAdmin: quotas,
// resources, faults, info, stats reset.
//
// # Adding an operation
//
// An operation is one row in the operation table (ops.go: name, method, URI
// template, validation code, handler; its opID constant names the row) and
// its handler: an input type whose
// validate method checks the members, and a function doing the operation's
// work, wrapped by reads or writes. The route comes from the row's template;
// the opening every handler shares (decode, validate, lock, find the
// instance, answer a repeated ClientToken) is opening.go's.
//
// The request path allocates little (DescribeUser: 5 allocations), takes one
// bucket mutex, one state lock and one stats mutex, and verifies SigV4 only
// when credentials are configured.
//
// # Service Quotas and CloudWatch
//
// The same handler serves Service Quotas for service code connect
// (X-Amz-Target: ServiceQuotasV20190624.*, package sim/servicequotas) and
// the CloudWatch subset Tollgate's quota commands use in rpc-v2-cbor
// (/service/GraniteServiceVersion20100801/operation/*, package
// sim/cloudwatch): AWS/Usage CallCount is summed from the calls accepted
// here, SERVICE_QUOTA() is the applied value, and an approved increase
// raises this simulator's bucket (aws.go). Unlike AWS, GetServiceQuota
// always returns a value (AWS answers NoSuchResourceException when no
// applied value was ever set) and CallCount includes the current minute.
package sim
