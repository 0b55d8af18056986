// Package app is the one place that wires a tollgate process. New builds an
// App from a validated configuration (internal/config): the AWS
// configuration (the default credential chain, or a given one), the quota
// table with the quota file's overrides, the queue backend (the embedded
// SQLite store or Amazon SQS), the admission (the in-memory Hierarchy, the
// adaptive learner around it, or the Redis-shared limiter), the governor,
// the dispatcher and, when the poll section has queries, the metrics poller
// (polling through the dispatcher's governed client at the lowest priority,
// its last values in <data dir>/poll.json, shared through a redisx.Cache
// with limits.redis_url; every rate throttle the governor meets stretches
// the polls of that operation). Run runs its background services; Close
// releases what New opened.
//
// With the pools section (quota pools, pools.go) New builds one Pool per
// account and Region instead of the single account's parts: its AWS
// configuration (profile, a role assumed through STS, an access key whose
// secret is in an environment variable, or the default chain — retrieved
// once at start, so a bad one fails New naming the pool and field), its
// quota table, its own admission (buckets keyed by its account and Region,
// in Redis too), its governor (the same options and observers as the
// single account's, so the front end's metrics see every pool's attempts),
// its calls-in-progress budget and a bucket-levels file of its own, and
// hands them to the dispatcher as dispatch.Options.Pools. Submissions are
// checked with CheckJob (the dispatcher's pool-aware check) and PoolStats
// reports each pool.
//
// Front ends sit on top: internal/server serves the HTTP API over an App
// and attaches its metrics through Hooks; `tollgate demo` runs that server;
// the bench's tollgate strategy builds each caller's limiter, learner and
// governor with NewAdmission and Admission.NewGovernor, the functions New
// uses, so the bench measures what serve runs. The gateway will be built
// here too.
package app
