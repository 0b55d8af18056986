// Package queuetest is the conformance suite every queue.Queue passes: the
// in-memory queue, the embedded SQLite store and the Amazon SQS adapter (run
// against moto_server) all call Run.
//
// The suite checks enqueue, lease and ack; validation that stores nothing on
// bad input; visibility expiry and redelivery with the same ClientToken;
// extending a lease; requeue with a delay and free requeues; the receive
// limit and the dead-letter queue (reasons, listing, redrive, purge);
// deadlines; priorities and FIFO order where the backend promises them;
// stale and foreign receipts; statistics; Close; and concurrent consumers
// that never hold the same job at once and lose nothing.
//
// It waits in real time, in units of the backend's visibility granularity
// (at least 200 ms), so the whole suite takes a few seconds on a local store
// and about half a minute on SQS-like backends with one-second granularity.
package queuetest
