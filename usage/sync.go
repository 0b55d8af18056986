package usage

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// DefaultSyncInterval is how often Sync reads Service Quotas.
const DefaultSyncInterval = 5 * time.Minute

// Limits is the part of a limiter Sync changes.
type Limits interface {
	SetLimit(ctx context.Context, op string, l ratelimit.Limit) error
	Limit(op string) ratelimit.Limit
}

// setLimit is the one call of the limiter's SetLimit.
func setLimit(ctx context.Context, l Limits, op string, lim ratelimit.Limit) error {
	return l.SetLimit(ctx, op, lim)
}

// SyncOptions configures a Sync. The zero value means the defaults.
type SyncOptions struct {
	Interval  time.Duration // 0 means DefaultSyncInterval
	RateScale float64       // multiplies applied values, as serve's --rate-scale; 0 means 1
	Logger    *slog.Logger  // nil discards
}

// Sync keeps a limiter's per-operation rates at the applied Service Quotas
// values. It is safe for concurrent use.
type Sync struct {
	sq QuotaReader
	l  Limits
	o  SyncOptions

	mu      sync.Mutex
	last    map[string]Quota // last values read; requires mu held
	failing bool             // the last read failed (logged once); requires mu held
}

// NewSync returns a Sync reading sq and setting l.
func NewSync(sq QuotaReader, l Limits, o SyncOptions) *Sync {
	if o.Interval <= 0 {
		o.Interval = DefaultSyncInterval
	}
	if o.RateScale <= 0 {
		o.RateScale = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sync{sq: sq, l: l, o: o}
}

// Quotas returns the last values read (nil before the first success).
func (s *Sync) Quotas() map[string]Quota {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Refresh reads the applied values once and sets the rate of every
// operation whose applied value changed since the last read (on the first
// read: differs from the limiter's). The burst keeps its ratio to the
// rate. On a read failure the last values stay in force and the failure is
// logged once, until a read succeeds again. It returns the operations
// changed.
func (s *Sync) Refresh(ctx context.Context) ([]string, error) {
	q, err := ReadQuotas(ctx, s.sq)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if !s.failing {
			s.o.Logger.Warn("quota sync: reading Service Quotas failed; keeping the last known values", "err", err)
			s.failing = true
		}
		return nil, err
	}
	if s.failing {
		s.o.Logger.Info("quota sync: Service Quotas readable again")
		s.failing = false
	}
	var changed []string
	for _, op := range sortedOps(q) {
		nq := q[op]
		if prev, ok := s.last[op]; ok && prev.Applied == nq.Applied {
			continue
		}
		cur := s.l.Limit(op)
		rate := nq.Applied * s.o.RateScale
		if rate <= 0 || cur.Rate == rate {
			continue
		}
		burst := cur.Burst
		if cur.Rate > 0 {
			burst = math.Max(1, math.Ceil(cur.Burst*rate/cur.Rate))
		}
		if burst <= 0 {
			burst = math.Max(1, math.Ceil(rate))
		}
		if err := setLimit(ctx, s.l, op, ratelimit.Limit{Rate: rate, Burst: burst}); err != nil {
			s.o.Logger.Warn("quota sync: setting a limit failed", "op", op, "err", err)
			continue
		}
		if s.last != nil { // the first read aligns quietly
			s.o.Logger.Info("quota sync: applied quota changed", "op", op, "code", nq.Code, "from", cur.Rate, "to", rate, "burst", burst)
		}
		changed = append(changed, op)
	}
	s.last = q
	return changed, nil
}

// Run refreshes at once and then every interval until ctx ends.
func (s *Sync) Run(ctx context.Context) error {
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	for {
		_, _ = s.Refresh(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
