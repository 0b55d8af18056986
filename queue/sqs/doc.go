// Package sqs is the queue.Queue on Amazon SQS, for work that outgrows one
// machine: a standard queue plus a dead-letter queue bound to it by a
// RedrivePolicy (maxReceiveCount = MaxReceives), through aws-sdk-go-v2.
//
// Mapping:
//
//   - A job is one message. The body is the job's Input; message attributes
//     carry the ID, Op, Priority, ClientToken and NotAfter (tg.id, tg.op,
//     tg.priority, tg.token, tg.notAfter) and a compact JSON record of the
//     rest (tg.meta: enqueue time, carried receive counts, last error, dead
//     reason). Six attributes, under SQS's limit of ten.
//   - Enqueue sends with SendMessageBatch, ten messages (and at most about
//     1 MB) per call; NotBefore becomes DelaySeconds (at most 15 minutes).
//   - Lease is ReceiveMessage with long polling (Options.WaitTime, default
//     20 s, only while nothing has been received yet) and the visibility
//     timeout in whole seconds, rounded up.
//   - Ack is DeleteMessageBatch; Extend is ChangeMessageVisibility.
//   - Requeue and DeadLetter copy the message (to the queue with a delay and
//     updated counts, or to the dead-letter queue with the reason) and then
//     delete the leased one. A fresh copy resets SQS's own receive count, so
//     the adapter carries the count in tg.meta and enforces MaxReceives
//     itself at receive time; the RedrivePolicy is the backstop for leases
//     that simply time out. Messages SQS moved by itself show reason
//     "max-receives".
//   - ListDead, Redrive and PurgeDead receive from the dead-letter queue
//     (hiding messages briefly), act on the selected ones and make the rest
//     visible again. Redrive sends copies back with the same ID and
//     ClientToken and a fresh receive count.
//   - Stats come from GetQueueAttributes and are approximate.
//   - Standard queues deliver at least once: the same message (same
//     MessageId) can reach two receivers at once (moto_server does this
//     when ReceiveMessage calls race). A delivery of a message whose lease
//     this process holds is not handed out again; its receipt handle is
//     kept with that lease and deleted with it. A delivery of a message
//     this process already acked, requeued or dead-lettered is deleted.
//     Across processes a duplicate cannot be recognised.
//
// What SQS cannot promise, Capabilities says: no strict priority and no FIFO
// order (standard queues), no stale-receipt detection across processes (SQS
// accepts an old receipt handle; within one process the adapter rejects a
// receipt that is not the job's latest lease), no idempotent Enqueue, and
// job status (Get) only for jobs this process has seen, kept in a bounded
// in-memory index. Requeue and DeadLetter need the lease to come from this
// process, which keeps the leased message to copy it.
package sqs
