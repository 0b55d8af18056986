// Package adaptive learns, per operation, the rate actually available to one
// client from the responses it gets, and feeds it to a ratelimit.Limiter.
//
// Amazon Connect limits each API operation with one token bucket per account
// and Region, and every caller in the account drinks from it. The quota table
// says what the bucket refills at; what is left for us depends on everybody
// else and changes. A Learner starts from the table (the seed), holds just
// under the point where throttles start, and notices within a few calls when
// a newcomer arrives, when a neighbour leaves, and when the quota is raised.
// The Adapter wires learners to a limiter and to the governor:
//
//	a := adaptive.NewAdapter(ratelimit.NewHierarchy(ratelimit.HierarchyOptions{}), adaptive.AdapterOptions{})
//	g := governor.New(a, governor.Options{Observer: a})
//
// # What a throttle says
//
// A rate throttle (429 ThrottlingException) means the server's bucket was
// empty when our request arrived. Between two such instants every token the
// bucket earned went to somebody, so the calls accepted for us between two of
// our throttles, divided by the time between them, is exactly the rate that
// was left for us: our share. That is the learner's main measurement. It is
// exact however full the bucket was in between, as long as it did not
// overflow (it can only err low, which is safe). When there is no usable
// earlier throttle, the learner measures over its last 16 attempts instead
// (accepted ÷ window), which can err high by what the bucket held when the
// window began; the lower of the two wins. Time is a parameter: Observe(now,
// outcome) and Rate(now) take it; nothing reads a clock.
//
// # The rules
//
// Cut. At a throttle with a measurement m under our rate, the rate becomes
// m × (1 − Margin − Yield × (1 − m/ceiling)): a lone client at the quota
// gives back the 5% margin; a member of a crowd, holding a small share of the
// ceiling, about 15%, which settles a crowd under the quota instead of at it.
// A lone throttle at or under the measured share (another caller's burst,
// jitter) changes nothing; repeated ones trim by the same factor. A throttle
// with no measurement at all halves the rate, once per reaction (a request
// sent before the last cut proves nothing new).
//
// Start. A new learner starts at a quarter of the seed with a burst of 1 and
// doubles every two seed-rate calls while nothing is throttled (slow start).
// If it is throttled while still cold, it is one of a crowd of unknown size
// that started together; it assumes the crowd it is tuned for (Peers, 16) and
// takes a 1/Peers share. Every member of such a crowd does the same, so the
// crowd starts fair, and nobody fired a whole burst into a shared bucket.
//
// Probe. After a hold the learner raises its rate by one bounded step
// (ProbeStep, 1/16 of its rate) and holds again; a step that meets no
// throttle is kept. The hold is measured in calls: at the client's own rate
// for a client holding more than a 1/Peers share of the seed, at the rate of
// such a share otherwise. That detail is what makes a crowd fair: its members
// probe equally often whatever their rates, their steps are proportional to
// their rates, and throttles land on each in proportion to its rate, so the
// cuts (proportional too) weigh on the larger ones twice: shares converge. A
// client under a crowd share doubles toward it at each probe. Each new
// throttle episode doubles the hold (up to ProbeAfterMax): in a crowd, a
// probe's consequences land mostly on the others, so a client cannot tell its
// own overshoot from theirs and can only probe less while throttles keep
// coming. A client above two crowd shares doubles its next step and halves
// its next hold after each step that met no throttle at all (up to 8×): a
// departed neighbour's capacity is taken back within a few seconds.
//
// Ceiling. The learner never goes above the seed unless a probe proves the
// quota was raised. After CeilingProbeAfter (100, doubling to 200 on failure)
// saturated calls at the ceiling without a throttle it probes above it, by
// at most CeilingStep (50%), and raises the ceiling only to what it can prove:
// the server's bucket holds at most the seeded burst B, so n calls accepted
// over t seconds without a throttle mean the quota is at least (n − B) ÷ t.
// A full bucket cannot fool it. Every throttle brings the ceiling back to what
// was measured, never under the seed. A probe that fails costs what is sent
// over the quota before the cut takes hold. The first throttle comes only
// once the probe has drained what the server's bucket held, by when the
// rate exceeds the quota by about the square root of the ramp's slope; a
// lone client sends that excess for one call more, a fleet sharing one
// learner for about one call per process (Lag), each holding a call
// admitted ahead. Above the ceiling the ramp is therefore Lag² times
// slower, so that a failed probe costs a fleet about what it costs a lone
// client; a fleet finds a raised quota that much later.
//
// Dither. Clients paced at a fixed rate lock into phase with the bucket's
// refill: the one that happens to arrive first after each refill gets every
// token, and throttles land on whoever is late rather than on each client in
// proportion to its rate; a client paced at exactly the quota can even lock
// every other caller out without ever being throttled itself. The Adapter
// therefore delays each send by a uniform random fraction of one interval
// after admission while the learner is young (its first 100 seed-rate calls'
// time, when a crowd starts) or contended (throttled and under its ceiling).
// A lone client settled at the quota is paced exactly: dithering it would
// cost it throttles whenever the bucket runs near empty.
//
// # State and stores
//
// An Adapter keeps its learners in a Store (AdapterOptions.Store): the
// in-process MemoryStore by default, or a shared one, so that every process
// of a fleet runs the same learner on shared state (package redisx
// provides the Redis store). Each observation is one Store.Update: the
// store hands the current learner to a function that observes and returns
// it, and saves the result atomically. A shared store may run that
// function again on a newer state when another process saved first, so
// the function depends only on the learner it is given and the
// observation. A Learner encodes its whole state and options with
// MarshalBinary; a decoded learner behaves exactly like the original (the
// tests feed both the same attempts step by step). A fleet sharing one
// learner is one client, so it runs with Peers 1, and with Lag set to its
// size (each process has a call admitted ahead); observations from its
// processes may arrive a hair out of order, and the learner takes them at
// its latest time (time never runs backwards for a learner). When the
// store fails, the observation is dropped and counted (StoreErrors);
// admission goes on at the limits last set.
//
// # Why not CUBIC
//
// The SDK's adaptive mode (connect-api.md §6.4) measures the rate it sends,
// throttled attempts included, cuts it by 30% at any throttle, and regrows
// along a cubic whose time constants are in absolute requests per second, one
// bucket for every operation of a client. Measured against a shared bucket it
// cuts too deep at low rates and too little at high ones, keeps 20% 429s with
// four clients and a 3.4× spread between equal clients (§6.5). Here the
// measurement is the accepted rate between empty-bucket instants (what is
// actually left), the cut lands just under it, every count is in calls at the
// seeded rate (so a learner behaves the same at 2/s and at 200/s), there is
// one learner per operation, and fairness is designed rather than hoped for.
//
// # Limits
//
// The crowd rules assume up to Peers (16) independent clients. A larger
// crowd starts at 1/Peers each, overshoots, and keeps more throttles; a
// smaller one starts under the quota and climbs back by small steps (four
// clients reach the quota only after minutes). Set Peers to the fleet size,
// or share one learner through Redis (AdapterOptions.Store). A client that
// has run alone at the quota for a while is paced exactly, so callers that join it later can be locked
// out until it meets a throttle (a probe of its own will do). Learning needs
// traffic: an idle client learns nothing, and after MaxReferenceAge of
// silence it forgets its probe schedule. Noticing freed capacity costs a
// throttle now and then by construction: a probe that meets no change ends
// in one. The account-wide learner (AdapterOptions.Account) can only guess
// which bucket was empty: a throttle on an operation that was not using its
// own limit is counted against the account. Connect itself has no
// account-wide bucket (each operation has its own, per account), so the
// account learner is for a self-imposed or simulated ceiling.
//
// The package imports only the standard library and other core packages.
package adaptive
