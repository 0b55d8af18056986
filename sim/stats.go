package sim

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

type outcome uint8

const (
	outAccepted  outcome = iota // 2xx
	outThrottled                // rejected by a rate bucket
	outError                    // any other error response, fault or reset
)

// Counts are the request counts of one operation, one caller or the total.
type Counts struct {
	Requests        int64            `json:"requests"`
	Accepted        int64            `json:"accepted"`
	Throttled       int64            `json:"throttled"`
	ThrottledByCode map[string]int64 `json:"throttled_by_code,omitempty"`
	Errors          int64            `json:"errors"`
	ErrorsByCode    map[string]int64 `json:"errors_by_code,omitempty"`
}

func (c *Counts) add(kind outcome, code string) {
	c.Requests++
	switch kind {
	case outAccepted:
		c.Accepted++
	case outThrottled:
		c.Throttled++
		if c.ThrottledByCode == nil {
			c.ThrottledByCode = map[string]int64{}
		}
		c.ThrottledByCode[code]++
	default:
		c.Errors++
		if c.ErrorsByCode == nil {
			c.ErrorsByCode = map[string]int64{}
		}
		c.ErrorsByCode[code]++
	}
}

func (c *Counts) clone() Counts {
	out := *c
	out.ThrottledByCode = cloneMap(c.ThrottledByCode)
	out.ErrorsByCode = cloneMap(c.ErrorsByCode)
	return out
}

func cloneMap(m map[string]int64) map[string]int64 {
	if m == nil {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Second is one second of the timeline.
type Second struct {
	T         int64 `json:"t"` // Unix seconds
	Accepted  int64 `json:"accepted"`
	Throttled int64 `json:"throttled"`
	Errors    int64 `json:"errors"`
}

// Active is the number of contacts active in one instance.
type Active struct {
	Calls int `json:"calls"`
	Chats int `json:"chats"`
	Tasks int `json:"tasks"`
}

// Stats is the simulator's view of the traffic it served (GET /_sim/stats).
// With several accounts (Multi) GET /_sim/stats is the sum of the
// accounts' counters, AccountID is empty and Accounts holds each account's
// own, with its Index.
type Stats struct {
	Index                 int               `json:"index,omitempty"`
	AccountID             string            `json:"account_id"`
	Region                string            `json:"region"`
	Since                 time.Time         `json:"since"`
	Now                   time.Time         `json:"now"`
	Totals                Counts            `json:"totals"`
	Operations            map[string]Counts `json:"operations"`
	Callers               map[string]Counts `json:"callers"`
	ContactsStarted       int64             `json:"contacts_started"`
	DuplicateClientTokens int64             `json:"duplicate_client_tokens"`
	RejectedReorder       int64             `json:"rejected_reorder"`
	// CallSeconds is the summed duration of the voice calls started (as
	// sampled when each started; StopContact does not shorten it).
	CallSeconds float64 `json:"call_seconds"`
	// ContactEvents and ContactEventErrors count the contact events
	// published to Options.ContactEvents and those whose publishing failed.
	ContactEvents      int64            `json:"contact_events"`
	ContactEventErrors int64            `json:"contact_event_errors,omitempty"`
	DialRequests       map[string]int64 `json:"dial_requests,omitempty"` // PutDialRequestBatch items by outcome
	// RefusedOutage counts the Connect requests refused (or held) by an
	// outage (SetOutage); Outage is the mode in force ("" when off).
	RefusedOutage int64             `json:"refused_outage"`
	Outage        string            `json:"outage,omitempty"`
	Active        map[string]Active `json:"active"`
	Timeline      []Second          `json:"timeline"`
	Accounts      []Stats           `json:"accounts,omitempty"`
}

// Caller keys used when no access key is known.
const (
	CallerAnonymous = "anonymous" // unsigned request
	CallerOther     = "other"     // more distinct access keys than tracked
)

// stats are the counters behind Stats. One mutex guards everything; the
// hot path takes it once per request.
type stats struct {
	mu         sync.Mutex
	since      time.Time          // requires mu held
	total      Counts             // requires mu held
	ops        [numOps + 1]Counts // requires mu held; last slot: unknown operation
	callers    map[string]*Counts // requires mu held
	timeline   []Second           // requires mu held; ring indexed by sec % len
	dials      map[string]int64   // requires mu held
	maxCallers int
	minutes    minuteLog // accepted calls per op per minute (aws.go); requires mu held

	contactsStarted    atomic.Int64
	duplicates         atomic.Int64
	rejectedReorder    atomic.Int64
	callMillis         atomic.Int64
	contactEvents      atomic.Int64
	contactEventErrors atomic.Int64
	refusedOutage      atomic.Int64
}

func newStats(now time.Time, timeline, maxCallers int) *stats {
	return &stats{since: now, callers: map[string]*Counts{}, timeline: make([]Second, timeline), maxCallers: maxCallers}
}

func (s *stats) record(op opID, caller string, kind outcome, code string, now time.Time) {
	sec := now.Unix()
	s.mu.Lock()
	s.total.add(kind, code)
	s.ops[op].add(kind, code)
	c := s.callers[caller]
	if c == nil {
		if len(s.callers) >= s.maxCallers {
			caller = CallerOther
			c = s.callers[caller]
		}
		if c == nil {
			c = &Counts{}
			s.callers[caller] = c
		}
	}
	c.add(kind, code)
	slot := &s.timeline[uint64(sec)%uint64(len(s.timeline))]
	if slot.T != sec {
		*slot = Second{T: sec}
	}
	switch kind {
	case outAccepted:
		slot.Accepted++
		s.minutes.add(op, sec)
	case outThrottled:
		slot.Throttled++
	default:
		slot.Errors++
	}
	s.mu.Unlock()
}

// snapshot fills the traffic part of st; last limits the timeline to the
// last seconds (0: all kept).
func (s *stats) snapshot(st *Stats, now time.Time, last int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st.Since = s.since
	st.Now = now
	st.Totals = s.total.clone()
	st.Operations = map[string]Counts{}
	for i := range s.ops {
		if s.ops[i].Requests == 0 {
			continue
		}
		name := "Unknown"
		if i < int(numOps) {
			name = ops[i].name
		}
		st.Operations[name] = s.ops[i].clone()
	}
	st.Callers = make(map[string]Counts, len(s.callers))
	for k, c := range s.callers {
		st.Callers[k] = c.clone()
	}
	nowSec := now.Unix()
	n := int64(len(s.timeline))
	if last > 0 && int64(last) < n {
		n = int64(last)
	}
	st.Timeline = make([]Second, 0, 16)
	for _, sl := range s.timeline {
		if sl.T != 0 && sl.T <= nowSec && sl.T > nowSec-n {
			st.Timeline = append(st.Timeline, sl)
		}
	}
	sort.Slice(st.Timeline, func(i, j int) bool { return st.Timeline[i].T < st.Timeline[j].T })
	st.DialRequests = cloneMap(s.dials)
	st.ContactsStarted = s.contactsStarted.Load()
	st.DuplicateClientTokens = s.duplicates.Load()
	st.RejectedReorder = s.rejectedReorder.Load()
	st.CallSeconds = float64(s.callMillis.Load()) / 1000
	st.ContactEvents = s.contactEvents.Load()
	st.ContactEventErrors = s.contactEventErrors.Load()
	st.RefusedOutage = s.refusedOutage.Load()
}

// dial counts one PutDialRequestBatch item by outcome.
func (s *stats) dial(outcome string) {
	s.mu.Lock()
	if s.dials == nil {
		s.dials = map[string]int64{}
	}
	s.dials[outcome]++
	s.mu.Unlock()
}

func (s *stats) reset(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.since = now
	s.total = Counts{}
	s.ops = [numOps + 1]Counts{}
	s.callers = map[string]*Counts{}
	clear(s.timeline)
	s.dials = nil
	s.contactsStarted.Store(0)
	s.duplicates.Store(0)
	s.rejectedReorder.Store(0)
	s.callMillis.Store(0)
	s.contactEvents.Store(0)
	s.contactEventErrors.Store(0)
	s.refusedOutage.Store(0)
}
