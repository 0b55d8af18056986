// Package dispatch delivers queued jobs to Amazon Connect at the rate the
// quotas allow: workers lease jobs from a queue.Queue, admit each call
// through a governor.Governor, call Connect through the real aws-sdk-go-v2
// client (put under the governor with awssdk.Govern), and acknowledge,
// requeue or dead-letter the job by what the answer means.
//
// # Jobs
//
// A job names an operation and carries its input as JSON. Any operation of
// the table (Ops; the Connect operations integrations queue, including every
// one the simulator serves) is decoded with encoding/json into that
// operation's SDK input struct, so the input's members are the SDK's
// (InstanceId, DestinationPhoneNumber, …; names match case-insensitively;
// timestamps are RFC 3339 strings). Check validates a job before it is
// stored: a known operation, no unknown members, and the SDK's own
// client-side validation (required members, path labels), run on the real
// client without sending anything.
//
// PutDialRequestBatch jobs carry one DialRequest each; the dispatcher
// batches up to 25 leased dial requests of the same campaign into one call
// (through a Dialer: package campaigns, the Outbound Campaigns adapter), and
// settles every item by its own result.
//
// # Idempotency
//
// Every job has a ClientToken, assigned when it is enqueued. The dispatcher
// puts it into the request's ClientToken member (and a dial request's
// clientToken) on every attempt and every redelivery, explicitly, so the SDK
// never generates a fresh one. A job delivered twice (a lease that ran out,
// a crash between the call and the acknowledgement, a redrive) therefore
// reaches Connect with the same token, and Connect answers with the contact
// it already started instead of calling the customer again.
//
// # Outcomes
//
// The governor retries rate throttles and transient failures inside the
// call's budget (CallTimeout), every retry admitted through the same
// buckets. What is left decides the job:
//
//	success                        Ack
//	rate throttle (retries spent)  Requeue, delay = backoff, counted as a failed receive
//	admission over budget          Requeue, short delay, free (no attempt failed)
//	concurrency quota              Requeue, delay = the governor's suggestion, free up to the queue's cap
//	hard quota                     DeadLetter "hard-quota" with the advice, and an alarm (log + Outcome.Alarm)
//	client fault                   DeadLetter "client-fault" with the error code and message
//	NotAfter passed                DeadLetter "expired" instead of calling (also while waiting for a token)
//	transient, unknown             Requeue, delay = backoff, counted
//	shutdown                       Requeue at once, free ("released")
//
// The queue dead-letters a job whose failed receives reach its limit
// ("max-receives") and a job still queued after its NotAfter ("expired").
//
// # Leases
//
// Jobs are leased for Visibility (by default six times CallTimeout) and the
// dispatcher extends every lease it holds before half of it is left, while
// the job waits for a worker, for a token or in backoff; so a slow quota
// never makes a job visible to a second consumer. If the process dies, its
// leases run out and the jobs are delivered again, with the same tokens.
//
// # Pacing
//
// Concurrency caps the calls in flight; the rate comes from the governor's
// buckets alone, so a campaign runs as fast as the quota allows and no
// faster, and a redriven dead letter is paced like any other job.
//
// StartOutboundVoiceContact is paced on calls in progress too
// (Options.CallBudget, package callbudget): Connect accepts a call past the
// instance's concurrent-active-calls quota and the customer hears a
// reorder tone. A call is made only once its instance has a free slot
// (quota minus reserve) and then a rate token; until then the job waits
// with its lease held and extended, spending no receive.
//
// # Following contacts
//
// Every contact a StartOutboundVoiceContact job starts is followed to its
// end: by contact events (ContactEnded; package contactevents reads them
// from the SQS queue an EventBridge rule delivers to), else by polling
// DescribeContact at low priority through the Governor (ContactPoll), and
// for at most MaxCallDuration. The end frees the call's slot and sets the
// job's outcome (queue.OutcomeRecorder): ContactIDs and "placed" when the
// call is accepted, then "connected" or "ended_without_connecting" with
// Connect's DisconnectReason (asked from DescribeContact when the event
// carries none); a refused call is "refused" with the error.
//
// # Pools
//
// Options.Pools spreads one queue over several accounts (quota pools), each
// a Pool with its own Connect client, governor (own buckets), call budget
// and instance. Without Pools nothing of this applies: the single pool of
// Options.AWS, Governor and CallBudget behaves as described above.
//
// Routing. A job is routed when a worker takes it, just before admission
// (not when it is leased): a pinned job (Job.Pool, set by the caller, by
// Dispatcher.Check for an InstanceId that is one pool's, or by the
// dispatcher when it first sends the job's call) runs only on its pool, and while
// that pool is out of rotation it waits in the queue, requeued with the
// time until the pool's probe and its receive given back
// (queue.Requeue.Return), so it waits as long as it takes and is never
// dead-lettered for it. Any other job goes to the pool in rotation that
// would admit it soonest: join-the-shortest-queue on (jobs routed to the
// pool and not yet answered + 1 − tokens available now) / (rate × Weight),
// with tokens and waiters from ratelimit.Estimator when the pool's limiter
// has it (none assumed otherwise); for StartOutboundVoiceContact a pool
// with a free call slot comes first; ties go to the higher Weight, then
// the name. The queues this builds are in proportion to the pools' rates,
// so the pools finish together. A job waiting for a pool's token is not
// moved while the pool is in rotation; once the pool goes out, its
// request is not sent (only the probe's is) and the job is routed again.
//
// Substitution. On its pool a job's empty InstanceId becomes the pool's
// instance, and ContactFlowId, QueueId, SourcePhoneNumber and a dial
// request's campaignId that are logical names of Pool.IDs become the pool's
// ids (other values pass unchanged). The ClientToken sent is derived per
// pool, queue.DeriveToken(pool account, pool instance, job token): the same
// on every redelivery to that pool, different on every other.
//
// Pins. Before a job's call is first sent to a pool the job is pinned to
// it in the queue (queue.Pinner, durably): a process killed while the call
// is in flight leaves the job on the one account that deduplicates its
// ClientToken, and the restarted process retries it there. An answer that
// shows the call was not made (credentials refused, a throttle past the
// deadline, a full concurrency quota, a request never sent) removes that
// pin, so the job may move; success, a dead letter or an unknown outcome
// keeps it (a succeeded job's Pool says where it was called).
//
// Outcomes per pool. On top of the table above:
//
//	unknown outcome: an attempt timed out,  Pin the job to the pool (queue.Pinner, durably) before
//	was reset or got a 5xx                  the requeue; the retry there returns the same contact
//	(awserr.OutcomeUnknown)
//	credentials refused (AccessDenied,      a pool failure; Requeue at once, free, to another pool
//	UnrecognizedClient, ExpiredToken, …),
//	request never sent (connection refused)
//	concurrency quota                       a pool failure; Requeue as above (free, delayed)
//	any other answer                        the pool works; the job as above
//
// Health. PoolFailures (3) pool failures in a row take a pool out of
// rotation for PoolBackoff (1s); then one probe job is let through: its
// success puts the pool back, its failure doubles the backoff up to
// PoolMaxBackoff (1m). PoolStats reports each pool's counters and health
// (the alarm: a pool not Healthy). A job pinned to a pool that stays out
// waits for it with its receive given back each time (see Routing).
//
// Contacts are followed on the pool that started them (its client, its
// instance, its call budget); ContactEnd.Account, when set, tells pools
// apart.
package dispatch
