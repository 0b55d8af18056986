// Package poller is "poll once, serve many": scheduled polling of named
// Amazon Connect read queries (GetCurrentMetricData, GetMetricDataV2,
// GetCurrentUserData, or any read operation with an input document) into a
// cache that every dashboard reads, never Connect.
//
// Each Query has a name, an operation, an input document and an interval.
// A Poller runs one loop per query; a poll follows NextToken to the last
// page and merges the pages. Readers (Snapshot, List, Subscribe) only read
// the cache, so a thousand viewers cost no more Connect calls than one.
//
// One poll per query per interval for the whole deployment:
//
//   - inside a process, Refresh is single-flight: concurrent refreshes of
//     one query share one poll;
//   - across processes, when Options.Shared is set (a redisx.Cache), polls
//     fall on slots of the wall clock (multiples of the interval, so the
//     same in every process whose clock is within an interval of the
//     others) and go through GetOrRefresh with one key per slot: the first
//     process to ask polls, the others wait for the value it stores. The
//     count is one per slot whatever the call's latency.
//
// Stale-while-revalidate: a reader always gets the last value at once,
// marked stale when it is older than the query's interval or was restored
// from disk and not yet re-polled. With Options.StateFile the last value of
// every query is written to disk after each poll (atomically), so a
// restarted process answers at once, stale, before its first poll returns.
//
// Quota-aware scheduling: Fit checks at start that the queries fit in a
// share of each operation's quota (every query of one operation counted
// together) and names the smallest interval that would fit when they do
// not. When throttles appear anyway (Throttled, fed by the governor's
// observer), the intervals of that operation stretch (×2 per throttled
// interval, up to ×16) and recover (÷2 per clean interval).
//
// The Caller does the call; internal/app gives one that goes through the
// process's governor at the lowest priority (ratelimit.PriorityLow), so
// real work always wins the shared budget.
package poller
