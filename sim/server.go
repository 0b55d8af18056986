package sim

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sigv4"
)

// Server is the Amazon Connect simulator: an http.Handler speaking
// Connect's restJson1 protocol for the operations in Operations, plus
// Outbound Campaigns PutDialRequestBatch, the admin API under /_sim/ and
// Prometheus metrics at /metrics. It is safe for concurrent use.
type Server struct {
	o           Options
	now         func() time.Time
	st          *state
	stats       *stats
	rt          [numOps]opRuntime
	account     atomic.Pointer[bucket] // optional account-wide ceiling
	faults      faultRNG
	ids         requestIDs
	dates       dateCache
	adminToken  string
	bufs        sync.Pool
	metrics     http.Handler
	verify      bool // SigV4 verification on (Credentials configured)
	verifier    *sigv4.Verifier
	awsVerifier *sigv4.Verifier // Service Quotas and CloudWatch (aws.go)
	retryAfter  atomic.Bool
	aws         awsServices   // Service Quotas and CloudWatch (aws.go)
	events      *emitter      // contact events (contact_lifecycle.go); nil without a sink
	outage      outageSwitch  // outage.go
	held        chan struct{} // closed by releaseHeld: requests held by an outage return
	heldOnce    sync.Once
}

// opRuntime is the mutable, per-operation part: its bucket, the code a
// throttle returns, and its faults.
type opRuntime struct {
	bucket *bucket
	code   atomic.Pointer[string]
	fault  atomic.Pointer[Fault]
}

// New builds a Server from o (see Options for the defaults).
func New(o Options) (*Server, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	now := o.Now()
	st, err := newState(o, o.State, now)
	if err != nil {
		return nil, err
	}
	s := &Server{
		o:      o,
		now:    o.Now,
		st:     st,
		stats:  newStats(now, o.TimelineSeconds, DefaultMaxCallers),
		verify: len(o.Credentials) > 0 || o.secrets != nil,
		held:   make(chan struct{}),
	}
	secrets := o.secrets
	if secrets == nil {
		secrets = mapSecrets(o.Credentials)
	}
	s.verifier = newVerifier(secrets, o.Region, "connect", "connect-campaigns")
	s.awsVerifier = newVerifier(secrets, o.Region, "servicequotas", "monitoring")
	s.retryAfter.Store(o.RetryAfter)
	s.faults.r = mrand.New(mrand.NewPCG(uint64(o.Seed), 0xfa017))
	var rb [8]byte
	_, _ = rand.Read(rb[:])
	s.ids.hi = binary.LittleEndian.Uint64(rb[:])
	s.bufs.New = func() any { return new(bytes.Buffer) }
	tbl := o.Quotas.Scale(o.RateScale)
	for i := range ops {
		a, _ := tbl.API(ops[i].name)
		s.rt[i].bucket = newBucket(a.Rate, a.Burst, now)
		code := codeThrottling
		if opID(i) == opStartChatContact {
			code = codeTooManyRequests
		}
		if c, ok := o.ThrottleCodes[ops[i].name]; ok {
			code = c
		}
		s.rt[i].code.Store(&code)
	}
	if o.AccountRate > 0 {
		b := max(1, int(float64(o.AccountBurst)*o.RateScale+0.999999))
		s.account.Store(newBucket(o.AccountRate*o.RateScale, b, now))
	}
	for op, f := range o.Faults {
		if err := s.SetFault(op, f); err != nil {
			return nil, err
		}
	}
	s.adminToken = o.AdminToken
	if s.adminToken == "" && s.verify {
		var tb [16]byte
		_, _ = rand.Read(tb[:])
		s.adminToken = hex.EncodeToString(tb[:])
	}
	s.metrics = newMetricsHandler(s)
	s.events = newEmitter(s, o.ContactEvents)
	return s, nil
}

// AdminToken returns the bearer token /_sim/ and /metrics require, or ""
// when they are open.
func (s *Server) AdminToken() string { return s.adminToken }

// AccountID returns the simulated account id.
func (s *Server) AccountID() string { return s.o.AccountID }

// Region returns the simulated Region.
func (s *Server) Region() string { return s.o.Region }

// InstanceIDs returns the ids of the account's instances, oldest first.
func (s *Server) InstanceIDs() []string {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	return append([]string(nil), s.st.instanceOrder...)
}

// ServeHTTP serves one request: admin and metrics paths, otherwise a Connect
// operation: route → SigV4 → outage → rate buckets → faults → decode and
// validate → run against the state → restJson1 response.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The body must arrive within BodyTimeout (wall clock: connection
	// deadlines are real time). Handlers without a connection (in-memory
	// transports, recorders) do not support deadlines and need none.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.o.BodyTimeout))
	path := r.URL.Path
	if strings.HasPrefix(path, "/_sim") {
		s.serveAdmin(w, r)
		return
	}
	if h := s.awsHandler(r); h != nil {
		h.ServeHTTP(w, r)
		return
	}
	if path == "/metrics" && r.Method == http.MethodGet {
		if s.adminAllowed(w, r) {
			s.metrics.ServeHTTP(w, r)
		}
		return
	}
	now := s.now()
	reqID := s.ids.next()
	date := s.dates.get(now)
	caller := callerKey(r.Header.Get("Authorization"))
	if caller == "" {
		caller = CallerAnonymous
	}
	op, labels, ok := route(r.Method, r.URL.EscapedPath())
	if !ok {
		s.fail(w, opUnknown, caller, errf(codeUnknownOperation, "The requested operation "+r.Method+" "+clip(path)+" is not recognized by the service."), reqID, date, now, false)
		return
	}
	def := &ops[op]
	if !utf8.ValidString(r.URL.Path) {
		s.fail(w, op, caller, errf(codeSerialization, "The request path is not valid UTF-8."), reqID, date, now, def.campaigns)
		return
	}
	if r.ContentLength > s.o.MaxBodyBytes {
		s.fail(w, op, caller, errf(codeRequestTooLarge, "Request body of "+itoa(r.ContentLength)+" bytes exceeds the limit of "+itoa(s.o.MaxBodyBytes)+" bytes."), reqID, date, now, def.campaigns)
		return
	}
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer s.bufs.Put(buf)
	if r.Body != nil && r.Body != http.NoBody {
		_, err := buf.ReadFrom(io.LimitReader(r.Body, s.o.MaxBodyBytes+1))
		if int64(buf.Len()) > s.o.MaxBodyBytes {
			s.fail(w, op, caller, errf(codeRequestTooLarge, "Request body exceeds the limit of "+itoa(s.o.MaxBodyBytes)+" bytes."), reqID, date, now, def.campaigns)
			return
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.fail(w, op, caller, errf(codeRequestTimeout, "The request body was not received within "+s.o.BodyTimeout.String()+"."), reqID, date, now, def.campaigns)
			return
		}
		if err != nil {
			s.fail(w, op, caller, errf(codeSerialization, "Unable to read the request body."), reqID, date, now, def.campaigns)
			return
		}
	}
	body := buf.Bytes()
	if s.verify {
		if e := verifySigV4(s.verifier, r, body, now); e != nil {
			s.fail(w, op, caller, e, reqID, date, now, def.campaigns)
			return
		}
	}
	if st := s.outage.state(); st != nil {
		if st.mode != OutageLostResponse {
			s.refuse(w, r, st, op, caller, reqID, date, now, def.campaigns)
			return
		}
		// Served as usual, the answer lost (outage.go).
		defer s.loseAnswer(w, r, st, reqID, date)
		w = &lostWriter{h: http.Header{}}
	}
	rt := &s.rt[op]
	if ok, wait := s.admit(rt, now); !ok {
		e := &apiError{code: *rt.code.Load(), msg: "Rate exceeded", retryIn: wait}
		s.stats.record(op, caller, outThrottled, e.code, now)
		writeError(w, e, reqID, date, def.campaigns, s.retryAfter.Load())
		return
	}
	if f := rt.fault.Load(); f != nil {
		action, lat := s.faults.draw(f)
		if action == faultReset {
			s.stats.record(op, caller, outError, codeConnectionReset, now)
			resetConn(w)
			return
		}
		if !sleepCtx(r.Context(), lat) {
			s.stats.record(op, caller, outError, codeClientClosedRequest, now)
			return
		}
		switch action {
		case faultUnavailable:
			s.stats.record(op, caller, outError, codeServiceUnavailable, now)
			writeUnavailable(w, reqID, date)
			return
		case faultError:
			code := codeInternalService
			if def.campaigns {
				code = codeInternalServer
			}
			s.fail(w, op, caller, errf(code, "Internal service error (injected fault)."), reqID, date, now, def.campaigns)
			return
		}
		now = s.now()
	}
	rc := reqCtx{op: op, name: def.name, valCode: def.valCode, labels: labels, rawQuery: r.URL.RawQuery, body: body, now: now, caller: caller}
	resp, e := def.handle(s, &rc)
	if e != nil {
		s.fail(w, op, caller, e, reqID, date, now, def.campaigns)
		return
	}
	var out []byte
	var err error
	if raw, ok := resp.(rawJSON); ok {
		out = raw
	} else {
		out, err = json.Marshal(resp)
	}
	if err != nil {
		s.fail(w, op, caller, errf(codeInternalService, "Unable to encode the response."), reqID, date, now, def.campaigns)
		return
	}
	s.stats.record(op, caller, outAccepted, "", now)
	h := w.Header()
	// Canonical keys assigned directly: no canonicalization on the hot path.
	h["Content-Type"] = jsonContentType
	h["X-Amzn-Requestid"] = []string{reqID}
	h["Date"] = []string{date}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// rawJSON is a response body already encoded.
type rawJSON []byte

var jsonContentType = []string{"application/json"}

func (s *Server) fail(w http.ResponseWriter, op opID, caller string, e *apiError, reqID, date string, now time.Time, lower bool) {
	s.stats.record(op, caller, outError, e.code, now)
	writeError(w, e, reqID, date, lower, false)
}

// admit takes a token from the account ceiling (if any) and the operation's
// bucket; a token taken from the ceiling is returned when the operation's
// bucket is empty.
func (s *Server) admit(rt *opRuntime, now time.Time) (bool, time.Duration) {
	acct := s.account.Load()
	if acct != nil {
		if ok, wait := acct.take(now); !ok {
			return false, wait
		}
	}
	if ok, wait := rt.bucket.take(now); !ok {
		if acct != nil {
			acct.refund(now)
		}
		return false, wait
	}
	return true, 0
}

// SetQuota changes an operation's rate (requests/s) and burst at run time.
// The values are used as given (RateScale is not applied). op "*" sets the
// account-wide ceiling; rate 0 with "*" removes it.
func (s *Server) SetQuota(op string, rate float64, burst int) error {
	now := s.now()
	if op == "*" {
		if rate == 0 {
			s.account.Store(nil)
			s.o.Logger.Info("sim: account ceiling removed")
			return nil
		}
		if err := (quotas.API{Op: "*", Rate: rate, Burst: burst}).Validate(); err != nil {
			return err
		}
		if b := s.account.Load(); b != nil {
			b.set(now, rate, burst)
		} else {
			s.account.Store(newBucket(rate, burst, now))
		}
		s.o.Logger.Info("sim: account ceiling set", "rate", rate, "burst", burst)
		return nil
	}
	id, ok := opByName[op]
	if !ok {
		return fmt.Errorf("quota: op: unknown operation %q", op)
	}
	if err := (quotas.API{Op: op, Rate: rate, Burst: burst}).Validate(); err != nil {
		return err
	}
	s.rt[id].bucket.set(now, rate, burst)
	s.o.Logger.Info("sim: quota set", "op", op, "rate", rate, "burst", burst)
	return nil
}

// SetThrottleCode changes the error code op's rate throttles return
// (ThrottlingException, TooManyRequestsException or LimitExceededException).
func (s *Server) SetThrottleCode(op, code string) error {
	id, ok := opByName[op]
	if !ok {
		return fmt.Errorf("throttle code: op: unknown operation %q", op)
	}
	if !validThrottleCode(code) {
		return fmt.Errorf("throttle code: code: unsupported %q", code)
	}
	s.rt[id].code.Store(&code)
	return nil
}

// SetRetryAfter turns the x-amz-retry-after header on rate throttles on or off.
func (s *Server) SetRetryAfter(on bool) { s.retryAfter.Store(on) }

// SetFault sets the faults of op ("*": every operation without its own
// entry). A zero Fault clears them.
func (s *Server) SetFault(op string, f Fault) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("fault %s: %w", op, err)
	}
	var fp *Fault
	if !f.isZero() {
		fp = &f
	}
	if op == "*" {
		for i := range s.rt {
			if cur := s.rt[i].fault.Load(); cur == nil || cur.wildcard {
				if fp != nil {
					c := *fp
					c.wildcard = true
					s.rt[i].fault.Store(&c)
				} else {
					s.rt[i].fault.Store(nil)
				}
			}
		}
		return nil
	}
	id, ok := opByName[op]
	if !ok {
		return fmt.Errorf("fault: op: unknown operation %q", op)
	}
	s.rt[id].fault.Store(fp)
	return nil
}

// Faults returns the faults in force, by operation.
func (s *Server) Faults() map[string]Fault {
	out := map[string]Fault{}
	for i := range s.rt {
		if f := s.rt[i].fault.Load(); f != nil {
			out[ops[i].name] = *f
		}
	}
	return out
}

// SetResourceQuota changes a resource quota (quotas.UsersPerInstance,
// quotas.ConcurrentActiveCalls, …) at run time.
func (s *Server) SetResourceQuota(name string, value int) error {
	if value < 0 {
		return fmt.Errorf("resource quota %s: value: must be >= 0, got %d", name, value)
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if _, ok := s.st.limits[name]; !ok {
		return fmt.Errorf("resource quota: name: unknown resource %q", name)
	}
	s.st.limits[name] = value
	s.o.Logger.Info("sim: resource quota set", "name", name, "value", value)
	return nil
}

// QuotaStatus is the state of one rate bucket.
type QuotaStatus struct {
	Op     string  `json:"op"`
	Rate   float64 `json:"rate"`
	Burst  int     `json:"burst"`
	Tokens float64 `json:"tokens"`
	Code   string  `json:"code,omitempty"`
}

// Quotas returns every bucket (the account ceiling as op "*", if set).
func (s *Server) Quotas() []QuotaStatus {
	now := s.now()
	out := make([]QuotaStatus, 0, numOps+1)
	if b := s.account.Load(); b != nil {
		r, bu, t := b.snapshot(now)
		out = append(out, QuotaStatus{Op: "*", Rate: r, Burst: bu, Tokens: t})
	}
	for i := range s.rt {
		r, bu, t := s.rt[i].bucket.snapshot(now)
		out = append(out, QuotaStatus{Op: ops[i].name, Rate: r, Burst: bu, Tokens: t, Code: *s.rt[i].code.Load()})
	}
	return out
}

// Stats returns the traffic counts, the contact counters, the active
// contacts per instance and the whole kept timeline.
func (s *Server) Stats() Stats { return s.StatsLast(0) }

// StatsLast is Stats with the timeline limited to the last n seconds
// (0: all kept).
func (s *Server) StatsLast(n int) Stats {
	now := s.now()
	st := Stats{AccountID: s.o.AccountID, Region: s.o.Region}
	s.stats.snapshot(&st, now, n)
	if m := s.Outage(); m != OutageOff {
		st.Outage = m
	}
	st.Active = map[string]Active{}
	s.st.mu.Lock()
	for id, in := range s.st.instances {
		in.prune(now)
		st.Active[id] = Active{Calls: in.activeCount(chVoice), Chats: in.activeCount(chChat), Tasks: in.activeCount(chTask)}
	}
	s.st.mu.Unlock()
	return st
}

// ResetStats zeroes the counters and the timeline.
func (s *Server) ResetStats() { s.stats.reset(s.now()) }

// checkInvariants verifies the state (tests and fuzzing).
func (s *Server) checkInvariants() error {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	return s.st.checkInvariants(s.now())
}

func itoa(n int64) string { return fmt.Sprint(n) }
