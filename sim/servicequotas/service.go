package servicequotas

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
)

// ServiceCode is the only service code served.
const ServiceCode = "connect"

// Request statuses (the Service Quotas enum).
const (
	StatusPending    = "PENDING"
	StatusCaseOpened = "CASE_OPENED"
	StatusApproved   = "APPROVED"
	StatusDenied     = "DENIED"
)

// Defaults of the request schedule.
const (
	DefaultCaseAfter   = 2 * time.Minute
	DefaultDecideAfter = 10 * time.Minute
	DefaultDenyAbove   = 10.0
)

// Options configures a Service. The zero value means every default.
type Options struct {
	// Table is the quota table; nil means quotas.Default().
	Table *quotas.Table
	// AccountID and Region build ARNs; empty means 123456789012, us-east-1.
	AccountID, Region string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Seed draws the schedule of each request (a jitter of up to 50% on
	// CaseAfter and DecideAfter).
	Seed int64
	// CaseAfter is when a PENDING request gets a support case
	// (CASE_OPENED); 0 means DefaultCaseAfter.
	CaseAfter time.Duration
	// DecideAfter is when a request is APPROVED or DENIED, counted from its
	// creation; 0 means DefaultDecideAfter.
	DecideAfter time.Duration
	// DenyAbove denies a request whose desired value is more than
	// DenyAbove times the AWS default; 0 means DefaultDenyAbove.
	DenyAbove float64
	// OnApprove is called (without locks held) when a request for an API
	// rate quota is approved, with the operation and the new value.
	OnApprove func(op string, value float64)
}

func (o Options) withDefaults() Options {
	if o.Table == nil {
		o.Table = quotas.Default()
	}
	if o.AccountID == "" {
		o.AccountID = "123456789012"
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CaseAfter <= 0 {
		o.CaseAfter = DefaultCaseAfter
	}
	if o.DecideAfter <= 0 {
		o.DecideAfter = DefaultDecideAfter
	}
	if o.DecideAfter < o.CaseAfter {
		o.DecideAfter = o.CaseAfter
	}
	if o.DenyAbove <= 0 {
		o.DenyAbove = DefaultDenyAbove
	}
	return o
}

// quota is one quota of the table, with its applied value.
type quota struct {
	code       string
	name       string
	op         string // API rate quotas: the operation
	def        float64
	applied    float64
	adjustable bool
	resource   bool // per-instance (QuotaAppliedAtLevel RESOURCE)
}

// request is one increase request.
type request struct {
	id        string
	caseID    string
	code      string
	contextID string
	desired   float64
	status    string
	created   time.Time
	updated   time.Time
	caseAt    time.Time
	decideAt  time.Time
	approve   bool
}

// Service is the simulated Service Quotas endpoint. It is safe for
// concurrent use.
type Service struct {
	o Options

	mu     sync.Mutex
	byCode map[string]*quota // requires mu held
	codes  []string          // sorted; requires mu held
	reqs   []*request        // creation order; requires mu held
	rnd    *rand.Rand        // requires mu held
	denied map[string]bool   // IAM actions refused; requires mu held
	seq    int               // requires mu held
}

// New returns a Service for o.
func New(o Options) *Service {
	o = o.withDefaults()
	s := &Service{o: o, byCode: map[string]*quota{}, denied: map[string]bool{},
		rnd: rand.New(rand.NewPCG(uint64(o.Seed), 0x5e1c0de))}
	for _, a := range o.Table.APIs() {
		if a.Code == "" || a.Service != ServiceCode {
			continue
		}
		s.byCode[a.Code] = &quota{code: a.Code, name: "Rate of " + a.Op + " API requests", op: a.Op,
			def: a.Rate, applied: a.Rate, adjustable: a.Adjustable}
	}
	for _, r := range o.Table.Resources() {
		if r.Code == "" {
			continue
		}
		s.byCode[r.Code] = &quota{code: r.Code, name: r.Title, def: float64(r.Default), applied: float64(r.Default),
			adjustable: r.Adjustable, resource: r.Scope == quotas.ScopeInstance}
	}
	for c := range s.byCode {
		s.codes = append(s.codes, c)
	}
	sort.Strings(s.codes)
	return s
}

// Deny makes every call needing the IAM action (e.g.
// "servicequotas:RequestServiceQuotaIncrease") fail with
// AccessDeniedException, or allows it again.
func (s *Service) Deny(action string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.denied[action] = true
	} else {
		delete(s.denied, action)
	}
}

// Applied returns the applied value of op's rate quota.
func (s *Service) Applied(op string) (float64, bool) {
	s.advance(s.o.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.byCode {
		if q.op == op {
			return q.applied, true
		}
	}
	return 0, false
}

// Advance moves every open request whose time has come; the simulator
// calls it on each request, tests may call it after moving the clock.
func (s *Service) Advance() { s.advance(s.o.Now()) }

func (s *Service) advance(now time.Time) {
	type approval struct {
		op    string
		value float64
	}
	var approved []approval
	s.mu.Lock()
	for _, r := range s.reqs {
		if r.status == StatusPending && !now.Before(r.caseAt) {
			r.status, r.updated = StatusCaseOpened, r.caseAt
			s.seq++
			r.caseID = strconv.Itoa(170000000000 + s.seq)
		}
		if r.status == StatusCaseOpened && !now.Before(r.decideAt) {
			r.updated = r.decideAt
			if !r.approve {
				r.status = StatusDenied
				continue
			}
			r.status = StatusApproved
			q := s.byCode[r.code]
			if q != nil && r.contextID == "" && r.desired > q.applied {
				q.applied = r.desired
				if q.op != "" {
					approved = append(approved, approval{q.op, r.desired})
				}
			}
		}
	}
	s.mu.Unlock()
	for _, a := range approved {
		if s.o.OnApprove != nil {
			s.o.OnApprove(a.op, a.value)
		}
	}
}

// jitter returns d stretched by up to 50%, drawn from the seed. Requires
// mu held.
func (s *Service) jitter(d time.Duration) time.Duration {
	return d + time.Duration(s.rnd.Float64()*0.5*float64(d))
}

// newID returns a request id. Requires mu held.
func (s *Service) newID() string {
	return fmt.Sprintf("%016x%016x", s.rnd.Uint64(), s.rnd.Uint64())
}

func (s *Service) arn(code string) string {
	return "arn:aws:servicequotas:" + s.o.Region + ":" + s.o.AccountID + ":" + ServiceCode + "/" + code
}

func encodeToken(i int) string { return base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(i))) }

func decodeToken(t string) (int, bool) {
	if t == "" {
		return 0, true
	}
	b, err := base64.StdEncoding.DecodeString(t)
	if err != nil {
		return 0, false
	}
	i, err := strconv.Atoi(string(b))
	return i, err == nil && i >= 0
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// SetApplied sets the applied value of the quota with code, as an increase
// granted outside the request flow (a support case) would; for an API rate
// quota it calls OnApprove like an approval. The value must be a finite
// number > 0; an unknown code is an error naming it.
func (s *Service) SetApplied(code string, value float64) error {
	if !finite(value) || value <= 0 {
		return fmt.Errorf("servicequotas: value: must be a finite number > 0, got %v", value)
	}
	s.mu.Lock()
	q := s.byCode[code]
	if q == nil {
		s.mu.Unlock()
		return fmt.Errorf("servicequotas: code: unknown quota code %q", code)
	}
	q.applied = value
	op := q.op
	s.mu.Unlock()
	if op != "" && s.o.OnApprove != nil {
		s.o.OnApprove(op, value)
	}
	return nil
}

// SetSchedule changes when future requests get a case and a decision
// (0 keeps the current value); requests already made keep theirs.
func (s *Service) SetSchedule(caseAfter, decideAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if caseAfter > 0 {
		s.o.CaseAfter = caseAfter
	}
	if decideAfter > 0 {
		s.o.DecideAfter = decideAfter
	}
	if s.o.DecideAfter < s.o.CaseAfter {
		s.o.DecideAfter = s.o.CaseAfter
	}
}
