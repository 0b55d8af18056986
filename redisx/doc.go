// Package redisx shares Tollgate's admission buckets, adaptive learners and
// cache across processes and machines through Redis (ElastiCache in
// production), with a defined fallback when Redis is down.
//
// # Admission
//
// Limiter implements ratelimit.Limiter and passes the same conformance suite
// (ratelimittest.Run) as the in-memory ratelimit.Hierarchy. Each admission
// is one Lua script run with EVALSHA: it reads the operation's bucket and
// the account's, refills both on Redis's clock (TIME, so client clocks do
// not matter) and takes the cost from both or from neither. Limits set at
// run time (SetLimit) are stored in Redis and read by the same script, so
// every worker sees them at its next decision. Keys of one account and
// Region share a cluster hash tag:
//
//	tollgate:{123456789012:eu-west-2}:a          account bucket (hash)
//	tollgate:{123456789012:eu-west-2}:o:<op>     operation bucket (hash)
//	tollgate:{123456789012:eu-west-2}:l:<op>     adaptive learner of op, "" for the account (hash)
//	tollgate:{123456789012:eu-west-2}:limits     limits set at run time (hash)
//	tollgate:{123456789012:eu-west-2}:workers    heartbeats (sorted set)
//	tollgate:{123456789012:eu-west-2}:c:<key>    cache entries
//
// Priorities order this process's waiters in a ratelimit.WaitQueue, the
// queue ratelimit.Hierarchy uses (classes, FIFO, aging); waiters of
// different processes compete only through the shared buckets.
//
// # Leasing
//
// A busy worker takes a few tokens at once (the script grants up to the
// requested lease when both buckets hold them) and spends them locally, so
// most admissions need no round trip. The lease size follows the worker's
// recent admission rate over the lease TTL, capped by LeaseOptions.Max and
// half the smaller burst; leased tokens expire after at most the TTL or
// the time the bucket takes to earn half its burst. Tokens are leased from
// the same buckets, so the fleet's long-run rate is unchanged; a leased
// token spent up to a TTL late can put the fleet at most rate×TTL (half a
// burst) ahead of the quota in any window. Unused tokens go back with the
// next round trip.
//
// # One learner for the fleet
//
// The fleet adapts with the learner of package adaptive, the one a single
// process runs, on state kept in Redis: LearnerStore is an adaptive.Store,
// and
//
//	rl, _ := redisx.New(o)
//	a := adaptive.NewAdapter(rl, adaptive.AdapterOptions{
//		// The fleet is one client, reacting about one call per worker late.
//		Learner: adaptive.Options{Peers: 1, Lag: 16},
//		Store:   redisx.NewLearnerStore(rl),
//	})
//	g := governor.New(a, governor.Options{Observer: a})
//
// is how a fleet runs adaptive admission (`tollgate serve --adaptive
// --redis-url`). Every worker's attempts advance the same learner per
// operation, and the limit it learns is set with SetLimit on the shared
// buckets, so the fleet learns and paces as one client.
//
// Store design. One hash per learner, l:<op> beside the operation's
// bucket under the same hash tag, holds v (a version) and s (the learner's
// encoding, adaptive.Learner.MarshalBinary, about a kilobyte). An update is
// optimistic: a worker applies the observation to its cached copy and runs
// learner_cas.lua, which saves the new state only if v is still the version
// the copy was read at, atomically (one script). If another worker saved
// first, the script returns the current state instead and the worker
// applies the observation again to that. Round trips per observation: one
// when the worker's copy is current; one more per worker that saved in
// between; one read on first use of an operation; and, when the learned
// limit changes, the setlimit script. After 32 lost races in a row the
// update fails (ErrStoreContended) and the observation is dropped. The
// learner's clock is the workers' (they must agree to a few milliseconds;
// observations a hair out of order are taken at the learner's latest
// time). While Redis is unreachable (fallback mode, or a failed save)
// each worker keeps learning on its own copy, and the limits it learns
// apply to its local buckets (over the live workers), so a throttle during
// an outage still cuts the rate. The first save after Redis is back
// publishes that copy if nobody saved since (or Redis restarted empty);
// otherwise the fleet's newer state wins. The hash expires after
// Options.LimitTTL without updates.
//
// # Waiting
//
// Wait first tries to admit at once. Otherwise the request joins this
// process's wait queue, whose head reserves its tokens in Redis (the
// buckets go negative, queueing later callers behind it) and is released
// when its slot comes: one round trip per admission and no polling, and the
// processes of a fleet are served in the order their reservations arrive,
// which keeps them fair. A process holds one reservation per operation at a
// time (a few milliseconds of overlap aside), so its own priority order
// applies to everything behind it.
//
// # Fallback
//
// Every command has a short timeout (Options.Timeout, 50ms). When Redis
// fails or is slow, the Limiter switches to local buckets at the shared
// rate and burst divided by the live workers, counted from a heartbeat
// sorted set every worker updates each second. It probes Redis and, when
// it answers, debits the shared buckets with what it spent locally and
// returns to shared mode. The mode is logged (log/slog), reported by Mode,
// OnModeChange and the Prometheus Collector.
//
// # Cache
//
// Cache stores byte values with a TTL and serves them stale for a while
// after; GetOrRefresh lets one caller across all machines refresh an
// expired value (a SET NX PX lock) while the others serve the stale value
// or wait for the new one.
//
// Tests run against a real redis-server started by
// internal/testenv/redis.
package redisx
