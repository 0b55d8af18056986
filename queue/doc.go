// Package queue is the durable job queue behind Tollgate's dispatcher: the
// Queue interface, the Job and Lease types, their validation, the error
// values every backend returns, and an in-memory reference implementation
// (NewMemory) for tests.
//
// The model is Amazon SQS's, adapted to paced Connect calls:
//
//   - Enqueue stores a batch of jobs atomically and durably. Each job gets an
//     ID and an idempotency ClientToken unless the caller set them; the token
//     stays the same on every redelivery and redrive, so Connect's own
//     idempotency makes a repeated call harmless. A job the caller named gets
//     DeriveToken(account, instance, ID), so even a job enqueued twice (which
//     SQS cannot prevent) carries one token. A known ID with other work, or a
//     token another job holds, fails the batch with ErrConflict.
//   - Lease hands out up to n visible jobs for a visibility timeout: lowest
//     Priority value first (the scale of ratelimit.Priority), oldest visible
//     first within a priority. Each lease carries a receipt. When the timeout
//     passes without an Ack, the job becomes visible again; once it is leased
//     again the old receipt is stale.
//   - Ack finishes a job (status "succeeded", a compact record kept for a
//     while); Extend keeps a lease alive while the job waits for a token;
//     Requeue puts it back with a delay, counting the receive as a failure or,
//     for concurrency quotas, as a free requeue up to a cap; DeadLetter moves
//     it to the dead-letter queue with a reason.
//   - Lease itself dead-letters jobs whose NotAfter deadline has passed
//     (reason "expired") and jobs received MaxReceives times without success
//     (reason "max-receives"), instead of handing them out.
//   - Dead letters can be listed, inspected, redriven (same ID and token,
//     fresh receive count) and purged.
//   - Backends that implement Canceler cancel a waiting job (it becomes a
//     dead letter with ReasonCanceled; Cancel and Lease are atomic with each
//     other, so a job runs once or not at all) and purge waiting jobs.
//
// A job ends exactly once: Ack and DeadLetter need the current receipt and
// take effect atomically, so a job is either succeeded or dead, never both,
// and never acknowledged twice.
//
// Backends: queue/sqlitestore (the embedded durable default), queue/sqs
// (Amazon SQS), and NewMemory here. Each passes the conformance suite in
// queue/queuetest; what a backend cannot promise (strict priority on SQS,
// for example) it declares in Capabilities.
//
// The package imports only the standard library.
package queue
