// Package bench measures retry and admission strategies side by side against
// the Connect simulator (package sim), every strategy driving the real
// aws-sdk-go-v2 connect client. `tollgate bench` is its command line.
//
// # Runs
//
// Run executes every selected scenario with every selected strategy, one run
// at a time, each against a fresh simulator: over HTTP on 127.0.0.1 (a free
// port), or, for tests, through HandlerTransport inside a testing/synctest
// bubble, where a whole run takes virtual time. Config.RateScale multiplies
// every quota rate and keeps the bursts, which is the same world with time
// running faster: a run at scale s takes 1/s of the time, and the charts and
// the quota-change timing are reported in unscaled seconds. The time
// constants of the hand-written strategies (seed, tollgate) are divided by
// the scale too; the SDK's own (its 1 s throttle backoff base, its CUBIC
// constants) cannot be, so above scale 1 the SDK strategies back off for
// relatively longer than they would against the real quotas (fewer 429s,
// longer completion). The virtual-time tests run at scale 1, where every
// constant is the real one.
//
// # Strategies
//
// Each caller in a run is one process: it has its own connect client (and
// access key, so the simulator counts its requests), shared by the caller's
// goroutines. The built-in strategies are none (SDK retries off), seed (SDK
// retries off and the classic loop: full jitter, 1 s base, 32 s cap, 8
// attempts), sdk-standard (retry.NewStandard defaults), sdk-adaptive
// (retry.NewAdaptiveMode defaults, set through Options.Retryer: a RetryMode
// set in an option function is ignored by connect.New) and tollgate (per
// caller: what `tollgate serve --adaptive` runs, built by the same functions
// of internal/app — a ratelimit.Hierarchy seeded from the quota table, an
// adaptive.Adapter as its limiter and observer, a governor — and
// awssdk.Govern; callers share nothing). tollgate-redis shares the buckets
// through the Redis at Config.RedisURL; with Config.RedisWorker each of its
// callers is a separate process. Other packages add strategies with
// RegisterStrategy from an init function.
//
// # Scenarios
//
// burst: 500 DescribeUser calls at once (a Lambda fan-out). sustained:
// demand three times the quota for 20 s. fleet: N callers (default 16) with 75
// calls each, four workers per caller, one account bucket. neighbour: an
// ungoverned caller (retries off) takes half the bucket from 15 s to 35 s.
// quota-change: demand three times the quota; the quota doubles at 10 s and
// halves back at 25 s (sim.Server.SetQuota). mixed: one caller polls
// GetCurrentMetricData over its quota, places StartOutboundVoiceContact calls
// over its quota and reads users under its quota, at once.
//
// # Measurements
//
// Per run: completion time ÷ lower bound; goodput ÷ ideal; 429s and HTTP
// calls per success (the simulator's per-caller counts); p50 and p99 time
// per call, admission waits and retries included; calls that gave up;
// fairness (max ÷ min successes across callers while all of them still had
// work); for quota-change, the time to reach 95% of the doubled quota and
// the bursts of 429s after the halving; and a per-second timeline of
// accepted and throttled responses with the quota, charted by WritePNG and
// WriteHTML (go-chart, drawn offline into PNGs; the HTML embeds them as
// data: URIs beside the whole table).
//
// # The lower bound
//
// Each scenario declares its demand per operation (a load: n calls, open
// loop on an arrival schedule or closed loop with w workers). The lower
// bound is the time at which an ideal strategy would have ended as many
// calls as the run's strategy got through (all of them, unless some gave
// up): every call reaches the simulator's bucket (a ratelimit.Bucket, full
// at the start) the moment it has been issued and a token is there, first
// come first served, through the run's quota schedule as it happened (a
// raised burst is not a gift of tokens), after the neighbour's accepted
// requests taken when they were taken (only those before our last call
// count), with the transport's least latency each way (known in memory, 0
// over HTTP) and a closed loop's workers each waiting for their previous
// call. Taking each token as soon as it exists maximises the calls served
// by every instant, so no strategy beats it (completion ÷ bound ≥ 1), and
// an oracle that reads the simulator's bucket reaches it within 1%
// (TestOracleMeetsBound, in virtual time, at several sizes and scales).
// Concurrency quotas (active calls) do not bound the API calls here: a
// StartOutboundVoiceContact beyond them is accepted with a reorder tone.
// Goodput is the successes over what the same ideal strategy had ended by
// the run's last success (at most 1).
package bench
