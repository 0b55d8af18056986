package server

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// liveSeconds is how many seconds of per-operation history the dashboard
// gets.
const liveSeconds = 120

// liveCounts counts governed attempts per operation per second, accepted
// and throttled, for the dashboard's charts.
type liveCounts struct {
	mu  sync.Mutex // guards ops
	ops map[string]*opRing
}

type opRing struct {
	sec   [liveSeconds]int64 // unix second of each slot
	ok    [liveSeconds]int64
	thr   [liveSeconds]int64
	total [2]int64 // ok, throttled since start
}

func newLiveCounts() *liveCounts { return &liveCounts{ops: map[string]*opRing{}} }

// observer is the governor observer feeding the counts.
func (l *liveCounts) observer() governor.Observer {
	return governor.ObserverFuncs{Attempt: func(a governor.Attempt) {
		l.add(a.Op, time.Now(), a.Err != nil && a.Info.Class == awserr.ClassRateThrottle, a.Err == nil)
	}}
}

// add counts one attempt of op at now.
func (l *liveCounts) add(op string, now time.Time, throttled, ok bool) {
	if !throttled && !ok {
		return
	}
	s := now.Unix()
	i := int(s % liveSeconds)
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.ops[op]
	if r == nil {
		if len(l.ops) >= 256 {
			return
		}
		r = &opRing{}
		l.ops[op] = r
	}
	if r.sec[i] != s {
		r.sec[i], r.ok[i], r.thr[i] = s, 0, 0
	}
	if throttled {
		r.thr[i]++
		r.total[1]++
	} else {
		r.ok[i]++
		r.total[0]++
	}
}

// secondPoint is one second of one operation.
type secondPoint struct {
	T         int64 `json:"t"` // unix seconds
	OK        int64 `json:"ok"`
	Throttled int64 `json:"throttled"`
}

// series returns op's last n whole seconds before now, oldest first.
func (l *liveCounts) series(op string, now time.Time, n int) ([]secondPoint, [2]int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.ops[op]
	out := make([]secondPoint, 0, n)
	end := now.Unix() - 1
	for s := end - int64(n) + 1; s <= end; s++ {
		p := secondPoint{T: s}
		if r != nil {
			i := int(s % liveSeconds)
			if r.sec[i] == s {
				p.OK, p.Throttled = r.ok[i], r.thr[i]
			}
		}
		out = append(out, p)
	}
	if r == nil {
		return out, [2]int64{}
	}
	return out, r.total
}

func (l *liveCounts) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.ops))
	for op := range l.ops {
		out = append(out, op)
	}
	return out
}

// OpState is one operation's live state on the dashboard.
type OpState struct {
	Op        string        `json:"op"`
	Quota     float64       `json:"quota"`            // published rate (scaled), requests/s
	Burst     int           `json:"burst"`            // published burst (scaled)
	Rate      float64       `json:"rate"`             // the limiter's current (learned) rate
	Tokens    *float64      `json:"tokens,omitempty"` // bucket level, when the limiter tells
	Stretch   float64       `json:"poll_stretch,omitempty"`
	Accepted  int64         `json:"accepted_total"`
	Throttled int64         `json:"throttled_total"`
	Seconds   []secondPoint `json:"seconds"`
}

// LiveState is Tollgate's own state as the dashboard shows it.
type LiveState struct {
	Time     time.Time      `json:"time"`
	Ops      []OpState      `json:"ops"`
	Queue    map[string]any `json:"queue"`
	Redis    string         `json:"redis"`    // "off" or the Redis limiter's mode
	Adaptive bool           `json:"adaptive"` // per-client learning on
	Uptime   float64        `json:"uptime"`
	Gateway  *GatewayPanel  `json:"gateway,omitempty"` // gateway_url's state (gateway.go)
	// Pools are the quota pools' figures (the pools section); absent for
	// one account.
	Pools []api.PoolStats `json:"pools,omitempty"`
}

type tokensAt interface {
	TokensAt(now time.Time, op string) (opTokens, account float64)
}

// liveState builds the state at now.
func (s *Server) liveState(ctx context.Context, now time.Time) LiveState {
	st := LiveState{Time: now, Redis: "off", Adaptive: s.app.Admission.Adapter != nil, Uptime: now.Sub(s.started).Seconds()}
	if sh := s.app.Admission.Shared; sh != nil {
		st.Redis = sh.Mode().String()
	}
	names := map[string]bool{}
	for _, op := range s.live.names() {
		names[op] = true
	}
	stretch := map[string]float64{}
	if p := s.app.Poller; p != nil {
		stretch = p.Stretch()
		for op := range stretch {
			names[op] = true
		}
	}
	ops := make([]string, 0, len(names))
	for op := range names {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	lim := s.app.Admission.Limiter
	var tk tokensAt
	if t, ok := lim.(tokensAt); ok {
		tk = t
	} else if in, ok := lim.(interface{ Inner() ratelimit.Limiter }); ok {
		tk, _ = in.Inner().(tokensAt)
	}
	for _, op := range ops {
		o := OpState{Op: op, Stretch: stretch[op]}
		if a, ok := s.app.Admission.Table.API(op); ok {
			o.Quota, o.Burst = a.Rate, a.Burst
		}
		o.Rate = lim.Limit(op).Rate
		if tk != nil {
			v, _ := tk.TokensAt(now, op)
			o.Tokens = &v
		}
		var tot [2]int64
		o.Seconds, tot = s.live.series(op, now, 60)
		o.Accepted, o.Throttled = tot[0], tot[1]
		st.Ops = append(st.Ops, o)
	}
	if s.gateway != nil {
		p := s.gateway.read(ctx)
		st.Gateway = &p
	}
	st.Pools = s.app.PoolStats()
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if qs, err := s.app.Queue.Stats(qctx); err == nil {
		st.Queue = map[string]any{"ready": qs.Ready, "in_flight": qs.InFlight, "delayed": qs.Delayed, "dead": qs.Dead,
			"succeeded": qs.Succeeded, "oldest_age": qs.OldestAge.Seconds(), "dead_by_reason": qs.DeadByReason}
	} else {
		st.Queue = map[string]any{"error": err.Error()}
	}
	return st
}

// stateCache computes the live state at most once a second for every
// viewer together.
type stateCache struct {
	mu   sync.Mutex // guards at and b
	at   time.Time
	b    []byte
	make func(now time.Time) LiveState
}

func (c *stateCache) get(now time.Time) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.b != nil && now.Sub(c.at) < time.Second {
		return c.b
	}
	c.b, _ = json.Marshal(c.make(now))
	c.at = now
	return c.b
}
