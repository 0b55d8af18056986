// Package ratelimit admits calls through hierarchical token buckets: each
// Amazon Connect operation's bucket nested inside one account-wide bucket,
// with priority classes on the shared budget.
//
// # Bucket math
//
// A Bucket holds at most burst tokens and earns rate tokens per second:
//
//	tokens(now) = min(burst, tokens(last) + (now − last)·rate)
//
// AllowN(now, n) takes n tokens if tokens(now) ≥ n, else nothing. ReserveN
// takes them anyway, leaving the bucket negative, and returns the delay
// (n − tokens(now))/rate after which the caller may act; later callers see
// the debt and wait behind it. Over any window of length T a bucket admits
// at most burst + rate·T tokens. Time is always a parameter: every method
// takes now, and a now earlier than the last one seen counts as the last
// one, so the bucket never runs backwards. Hierarchy.Try is shorthand for
// TryAt with the configured clock (HierarchyOptions.Now, default time.Now);
// Wait reads that clock and sleeps on runtime timers, so tests run it in
// virtual time inside a testing/synctest bubble.
//
// Bucket uses float64 tokens and a last-update time rather than GCRA (the
// Generic Cell Rate Algorithm, which keeps one "theoretical arrival time"
// and admits n when tat + n·interval − now ≤ burst·interval). The two are
// the same bucket seen two ways. GCRA's integer arithmetic is cheaper
// (compare BenchmarkGCRAAllowN with BenchmarkBucketAllowN: tens of
// nanoseconds either way), and a single value per key suits a store such as
// Redis. Here the token form wins: costs and rates are fractional (0.1
// requests per second for CreateInstance, weighted costs), so an integer
// interval would round; changing the rate at run time keeps the earned
// tokens instead of rescaling a timestamp; TokensAt is a direct read for
// metrics; and with the clock read and a mutex that every real caller pays,
// Bucket already matches golang.org/x/time/rate (BenchmarkBucketAllowNNow
// against BenchmarkXRateAllow).
//
// # Nesting
//
// A Hierarchy keeps one bucket per operation, created full on first use
// with its limit from HierarchyOptions.Ops, else from the quotas.Table
// (whose unknown operations get the "all other operations" 2/s, burst 5
// rule), plus one account bucket (HierarchyOptions.Account; the zero Limit
// means unlimited, as it does for any operation). An admission of cost c
// for operation op takes c from op's bucket and c from the account's, both
// or neither: a refusal by either bucket takes nothing from the other. A
// request with Op "" draws on the account bucket only. A cost above either
// burst can never be admitted and fails with ErrExceedsBurst.
//
// # Priorities
//
// Wait callers that cannot be admitted at once queue in one FIFO per
// priority class (PriorityCritical, High, Normal, Low): a WaitQueue, the
// exported queue that the Redis limiter (package redisx) uses too, so one
// priority policy governs both. Whenever tokens may
// have come free (a timer set for the earliest moment a queued waiter could
// go, a SetLimit, a cancelled waiter or reservation, or any Try or Wait
// call) the queues are walked in rank order: aged waiters first (see
// below), then Critical to Low, FIFO within a class. A waiter is granted
// when both of its buckets hold its cost. A waiter that cannot go holds
// its operation's bucket against everyone behind it, and, if the account
// is what it lacks, holds the account against everyone behind it. So a
// higher class is never queued behind a lower one on a shared bucket, while
// a waiter stuck on its own operation's empty bucket does not stall other
// operations (nor does it set account tokens aside while it waits, so a
// lower class on another operation may use them meanwhile). Try takes the same rank as a new waiter of its class: it is
// refused while a waiter ranked ahead of it holds one of its buckets, so a
// polling caller cannot overtake waiting ones, and a Critical Try still
// goes ahead of queued Low waiters. Reserve is the exception: it takes
// tokens at once, ahead of every queue, for callers that schedule
// themselves.
//
// # Starvation bound
//
// Strict priority would let a steady stream of agent-facing calls starve
// batch work forever. A waiter queued for longer than the aging bound
// (HierarchyOptions.Aging, default DefaultAging = 5 s) therefore ranks
// ahead of every class, and aged waiters are served oldest first. Aging was
// chosen over a reserved share (one token in N for the low class) because
// it costs nothing while there is no contention, keeps strict priority for
// any wait shorter than the bound, and gives a bound in time that callers
// can compare with their deadlines. A waiter of cost c queued at t is
// served no later than about
//
//	t + Aging + max((C_acct + c)/rate_acct, (C_op + c)/rate_op)
//
// where C_acct and C_op are the costs of the older waiters still queued at
// t + Aging on the account and on its operation (the ones it cannot pass,
// being behind them in arrival order), in the absence of Reserve calls and
// limit reductions. The test TestPriorityAgingBoundsStarvation checks that a
// Low waiter under a continuous Critical flood is served exactly when it
// ages, and starves without aging. A negative Aging disables aging.
//
// # Weighted shares
//
// Priorities order classes; within a class, Shares orders callers by
// weight (start-time fair queueing in front of any Limiter: callers of one
// operation enter one at a time, by virtual start time advancing 1/weight
// per request). The gateway uses it so that callers with share 2 and 1 are
// admitted 2:1 under contention. Shares decides only the order; tokens
// still come from the Limiter. TestSharesWeighted checks the 2:1:1 split,
// TestSharesClosedLoop that one-request-at-a-time callers with different
// think times get equal turns, TestSharesLateCallersCatchUp that callers
// arriving after others spent the burst catch up (Shares.Credit).
//
// # Waiting and deadlines
//
// Wait never sleeps past its context's deadline. Before queueing it
// computes a lower bound of the wait (its own cost plus the cost of the
// waiters queued ahead of it on the same operation, at both buckets'
// rates); if that already ends after the deadline it returns at once with
// an error wrapping ErrWouldExceedDeadline and takes nothing. Otherwise it
// queues, and if the context ends first it leaves the queue (giving back
// tokens granted in the same instant) and returns an error wrapping
// ctx.Err().
//
// # Concurrency
//
// A Hierarchy is safe for concurrent use. One mutex guards all its state;
// the timer callback takes the same mutex and nothing else is locked under
// it, so there is no lock order. Helpers whose names end in Locked require
// it held. Try and TryAt do not allocate. A Bucket alone is not safe for
// concurrent use.
//
// Every Limiter implementation (this Hierarchy, the Redis limiter in
// redisx) passes the conformance suite in package ratelimittest.
package ratelimit
