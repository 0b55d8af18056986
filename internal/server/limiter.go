package server

import (
	"fmt"

	"github.com/tollgatehq/tollgate/adaptive"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/redisx"
)

// newLimiter builds the governor's limiter from the limits settings and
// returns the observer that must see every attempt with it (nil if none):
//
//   - limits.redis_url: a redisx.Limiter sharing the buckets of the account
//     and Region across every server pointed at the same Redis. Its
//     Prometheus collector joins the server's registry. With
//     limits.adaptive it is wrapped by an adaptive.Adapter whose learners
//     live in Redis (redisx.LearnerStore): the fleet runs one learner per
//     operation on shared state; the adapter is the observer.
//   - limits.adaptive: the in-memory Hierarchy wrapped by an
//     adaptive.Adapter, which is also the observer feeding its learners.
//   - otherwise the in-memory Hierarchy, paced at the quota table.
func (s *Server) newLimiter(table *quotas.Table, acct ratelimit.Limit, region string) (ratelimit.Limiter, governor.Observer, error) {
	l := s.cfg.Limits
	if l.RedisURL != "" {
		rl, err := redisx.New(redisx.Options{
			URL:          l.RedisURL,
			Account:      l.Account,
			Region:       region,
			Table:        table,
			AccountLimit: acct,
			Logger:       s.log,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("limits.redis_url (%s): %w", redisx.RedactURL(l.RedisURL), err)
		}
		if s.m != nil && s.m.reg != nil {
			if err := s.m.reg.Register(rl.Collector()); err != nil {
				_ = rl.Close()
				return nil, nil, fmt.Errorf("limits.redis_url: registering metrics: %w", err)
			}
		}
		s.shared = rl
		s.log.Info("sharing rate limits through Redis", "redis", redisx.RedactURL(l.RedisURL),
			"account", l.Account, "region", region, "mode", rl.Mode().String(), "worker", rl.WorkerID())
		if l.Adaptive {
			a := adaptive.NewAdapter(rl, adaptive.AdapterOptions{
				Learner: adaptive.Options{Peers: 1}, // the fleet shares one learner: one client, not a crowd
				Store:   redisx.NewLearnerStore(rl),
			})
			s.log.Info("adaptive rate learning on, shared through Redis")
			return a, a, nil
		}
		return rl, nil, nil
	}
	h := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: table, Account: acct})
	if l.Adaptive {
		a := adaptive.NewAdapter(h, adaptive.AdapterOptions{})
		s.log.Info("adaptive rate learning on")
		return a, a, nil
	}
	return h, nil, nil
}

// closeLimiter closes the Redis limiter, if any: it gives leased tokens
// back and leaves the heartbeat set. Safe to call more than once.
func (s *Server) closeLimiter() {
	if s.shared == nil {
		return
	}
	if err := s.shared.Close(); err != nil {
		s.log.Warn("closing the Redis limiter", "err", err)
	}
}

// SharedLimiter returns the Redis limiter when limits.redis_url is set,
// nil otherwise.
func (s *Server) SharedLimiter() *redisx.Limiter { return s.shared }
