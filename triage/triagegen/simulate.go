package triagegen

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// The generator simulates callers against Connect's token buckets, in
// milliseconds, and records every attempt as CloudTrail would.

// identity is who calls: the CloudTrail userIdentity plus agent and IP.
type identity struct {
	typ         string // "AssumedRole" or "IAMUser"
	arn         string // the principal ARN
	roleArn     string // the role (sessionIssuer) ARN
	roleName    string
	principalID string
	accessKey   string
	agent       string
	ip          string
	created     string // session creation time
}

// retryPolicy is a client's retry behaviour after a refused call.
type retryPolicy struct {
	maxAttempts int
	base        time.Duration // exponential backoff: U(0, min(cap, base·2^(attempt-1)))
	cap         time.Duration
	fixed       time.Duration // > 0: retry after fixed ±40%, no backoff
}

func (p retryPolicy) delay(rng *rand.Rand, attempt int) int64 {
	if p.fixed > 0 {
		f := float64(p.fixed.Milliseconds()) * (0.6 + 0.8*rng.Float64())
		return max(int64(f), 1)
	}
	c := float64(p.base.Milliseconds()) * math.Pow(2, float64(attempt-1))
	if capMs := float64(p.cap.Milliseconds()); p.cap > 0 && c > capMs {
		c = capMs
	}
	return max(int64(rng.Float64()*c), 1)
}

// Retry policies of the SDKs and of the misbehaving clients.
var (
	goSDKRetry     = retryPolicy{maxAttempts: 3, base: time.Second, cap: 20 * time.Second}
	jsSDKRetry     = retryPolicy{maxAttempts: 3, base: 500 * time.Millisecond, cap: 20 * time.Second}
	pySDKRetry     = retryPolicy{maxAttempts: 3, base: time.Second, cap: 20 * time.Second}
	terraformRetry = retryPolicy{maxAttempts: 25, base: time.Second, cap: 20 * time.Second}
	noRetry        = retryPolicy{maxAttempts: 1}
)

// request is one logical call and its attempts.
type request struct {
	op       string
	id       *identity
	params   []byte // requestParameters JSON
	resp     func(rng *rand.Rand) []byte
	retry    retryPolicy
	attempt  int
	readOnly bool
	hold     int64                    // ms a successful call holds a concurrency slot (a chat's length)
	done     func(now int64, ok bool) // called after the last attempt
}

// event is a scheduled attempt or callback.
type event struct {
	at  int64 // Unix ms
	seq uint64
	req *request
	fn  func(now int64)
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// concurrency is a concurrency quota.
type concurrency struct{ limit, active int }

// outcome is what the simulated server answered.
type outcome struct {
	code, message string
}

// sim is the event loop, the server and the record sink.
type sim struct {
	rng     *rand.Rand
	q       eventQueue
	seq     uint64
	end     int64 // Unix ms; nothing is scheduled at or after end
	quotas  *quotas.Table
	buckets map[string]*ratelimit.Bucket
	// limits counts what is left of a hard resource quota per operation.
	limits map[string]int
	// conc is a concurrency quota per operation (active chats, tasks): a
	// successful call holds one slot for its request's hold time.
	conc map[string]*concurrency
	emit func(r *request, at int64, out outcome)
}

func newSim(seed int64, qt *quotas.Table, end int64, emit func(*request, int64, outcome)) *sim {
	return &sim{
		rng:     rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
		end:     end,
		quotas:  qt,
		buckets: map[string]*ratelimit.Bucket{},
		limits:  map[string]int{},
		conc:    map[string]*concurrency{},
		emit:    emit,
	}
}

func (s *sim) push(e *event) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.q, e)
}

// at schedules fn at time t (dropped at or after the end).
func (s *sim) at(t int64, fn func(now int64)) {
	if t >= s.end {
		return
	}
	s.push(&event{at: t, fn: fn})
}

// call schedules the first attempt of r at time t.
func (s *sim) call(t int64, r *request) {
	if t >= s.end {
		return
	}
	r.attempt = 0
	s.push(&event{at: t, req: r})
}

// bucket returns op's server-side token bucket, full at its first use.
func (s *sim) bucket(op string, now int64) *ratelimit.Bucket {
	b := s.buckets[op]
	if b == nil {
		a, _ := s.quotas.API(op)
		nb := ratelimit.NewBucket(ratelimit.Limit{Rate: a.Rate, Burst: float64(a.Burst)}, time.UnixMilli(now))
		b = &nb
		s.buckets[op] = b
	}
	return b
}

// serve decides one attempt.
func (s *sim) serve(r *request, now int64) outcome {
	if !s.bucket(r.op, now).AllowN(time.UnixMilli(now), 1) {
		if r.op == "StartChatContact" {
			return outcome{"TooManyRequestsException", "Rate exceeded"}
		}
		return outcome{"ThrottlingException", "Rate exceeded"}
	}
	if c, ok := s.conc[r.op]; ok {
		if c.active >= c.limit {
			return outcome{"LimitExceededException", "The allowed limit for the resource has been exceeded."}
		}
		c.active++
		s.at(now+max(r.hold, 1), func(int64) { c.active-- })
	}
	if left, ok := s.limits[r.op]; ok {
		if left <= 0 {
			return outcome{"ServiceQuotaExceededException", "The service quota has been exceeded."}
		}
		s.limits[r.op] = left - 1
	}
	return outcome{}
}

// run processes events in time order.
func (s *sim) run() {
	for s.q.Len() > 0 {
		e := heap.Pop(&s.q).(*event)
		if e.fn != nil {
			e.fn(e.at)
			continue
		}
		r := e.req
		r.attempt++
		out := s.serve(r, e.at)
		s.emit(r, e.at, out)
		// The SDKs retry all three as throttles (LimitExceededException
		// included, though on Connect it is a concurrency quota).
		throttled := out.code == "ThrottlingException" || out.code == "TooManyRequestsException" || out.code == "LimitExceededException"
		if throttled && r.attempt < r.retry.maxAttempts {
			next := e.at + r.retry.delay(s.rng, r.attempt)
			if next < s.end {
				s.push(&event{at: next, req: r})
				continue
			}
		}
		if r.done != nil {
			r.done(e.at, out.code == "")
		}
	}
}

// poisson schedules arrivals at rate per second in [from, to) and calls
// mk for each.
func (s *sim) poisson(from, to int64, rate float64, mk func(now int64)) {
	if rate <= 0 {
		return
	}
	var next func(now int64)
	next = func(now int64) {
		mk(now)
		t := now + int64(s.rng.ExpFloat64()/rate*1000) + 1
		if t < to {
			s.at(t, next)
		}
	}
	first := from + int64(s.rng.ExpFloat64()/rate*1000)
	if first < to {
		s.at(first, next)
	}
}

// periodic schedules mk every interval ± jitter in [from, to).
func (s *sim) periodic(from, to int64, interval, jitter time.Duration, mk func(now int64)) {
	iv, j := interval.Milliseconds(), jitter.Milliseconds()
	var next func(now int64)
	next = func(now int64) {
		mk(now)
		d := iv
		if j > 0 {
			d += s.rng.Int64N(2*j+1) - j
		}
		if t := now + max(d, 1); t < to {
			s.at(t, next)
		}
	}
	s.at(from, next)
}
