// Package ratelimittest is the conformance suite every ratelimit.Limiter
// passes: the in-memory ratelimit.Hierarchy and the Redis-backed limiter.
//
// Run uses real time (not testing/synctest) so that a limiter whose clock is
// a remote server can pass it too. Cases use rates of 2–200 tokens per
// second over at most about a second each, and the whole suite finishes in
// about four seconds.
//
//	func TestConformance(t *testing.T) {
//		ratelimittest.Run(t, func(t *testing.T, account ratelimit.Limit, ops map[string]ratelimit.Limit) ratelimit.Limiter {
//			return ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Account: account, Ops: ops})
//		})
//	}
//
// Priority ordering between waiters is not part of the suite: it is tested
// per implementation, in virtual time.
package ratelimittest
