// Package stagger spreads the start-ups of agent desktops that come online
// together (a shift change, a VDI farm restart) so that their first API
// calls do not drain the account's Amazon Connect buckets at once.
//
// It owns three things:
//
//   - The planner (Compute): given the number of agents, the calls one
//     start-up makes and the share of each operation's quota left for
//     start-ups, it computes the start-up bucket of coordinated
//     reservations and the exact time the last agent starts with them, the
//     window random or hashed jitter needs to keep the throttled calls
//     under a target with a given probability (seeded simulations, with the
//     estimate's standard error), and each strategy's expected peak per
//     second, throttled calls and ready times. The model (Simulate) is the
//     simulator's token bucket per operation and the Go SDK's standard
//     retry mode (3 attempts, throttle backoff rand × 1 s × 2^(attempt−1)).
//   - The reservations (Reservations, and Service, its http.Handler for
//     `tollgate serve`'s POST /v1/stagger/reserve): a ratelimit.Bucket whose
//     rate is the quota share ÷ the calls per start-up hands each login a
//     start time; the same login asking again while its reservation stands
//     gets the same one.
//   - The fallback slot (Hash, Slot, SlotDelay): the FNV-1a hash of the
//     login's UTF-8 bytes (after an optional per-deployment salt) modulo
//     the number of slots, identical to the JavaScript module in
//     js/stagger-start (both test suites check testdata/slots.json). When
//     every desktop knows the roster, RankDelay spreads it evenly instead.
//
// Random and hashed jitter cluster like balls in bins, so they need a
// window several times the quota's lower bound; only reservations space
// start-ups evenly, adapting to how many agents actually arrive.
//
// Time is a parameter: Reservations.Reserve takes now, Service takes a
// clock, the planner works on offsets from the shift start. Start (the Go
// twin of the JavaScript staggerStart) sleeps on runtime timers; its tests
// run in a testing/synctest bubble. The package imports only the standard
// library and the core packages quotas and ratelimit.
package stagger
