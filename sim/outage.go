package sim

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Outage modes (SetOutage, POST /_sim/outage): what every Connect request
// of the account gets while the outage lasts.
const (
	OutageOff          = "off"           // served normally
	OutageAccessDenied = "access-denied" // 403 AccessDeniedException
	OutageUnavailable  = "unavailable"   // 503 with an HTML body, as a load balancer sends
	OutageTimeout      = "timeout"       // held until the client gives up (at most OutageHold)
	// OutageLostResponse serves the request (a call is placed, a contact
	// started) and then holds the answer as OutageTimeout does: the
	// client sees a timeout although the call took effect — the unknown
	// outcome a ClientToken exists for.
	OutageLostResponse = "lost-response"
)

// OutageHold bounds how long a request is held in OutageTimeout mode; a
// request still held then gets the 503 of OutageUnavailable. Held requests
// are also answered so when the mode changes or the server shuts down.
const OutageHold = 60 * time.Second

// codeOutageHeld is the stats code of a request held past OutageHold (or
// released by a mode change or a shutdown).
const codeOutageHeld = "OutageHeld"

// outageSwitch is an account's outage mode. The request path reads it with
// one atomic load.
type outageSwitch struct {
	mu  sync.Mutex // serializes set
	cur atomic.Pointer[outageState]
}

// outageState is one outage; release is closed when it ends (timeout mode).
type outageState struct {
	mode    string
	release chan struct{}
}

// mode returns the mode in force.
func (o *outageSwitch) mode() string {
	if st := o.cur.Load(); st != nil {
		return st.mode
	}
	return OutageOff
}

// state returns the outage in force, nil when off.
func (o *outageSwitch) state() *outageState { return o.cur.Load() }

// set changes the mode; requests held by an ending timeout outage are
// released.
func (o *outageSwitch) set(mode string) error {
	switch mode {
	case OutageOff, OutageAccessDenied, OutageUnavailable, OutageTimeout, OutageLostResponse:
	default:
		return fmt.Errorf("outage: mode: must be %q, %q, %q, %q or %q, got %q", OutageAccessDenied, OutageUnavailable, OutageTimeout, OutageLostResponse, OutageOff, mode)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	old := o.cur.Load()
	if old != nil && old.mode == mode {
		return nil
	}
	var next *outageState
	if mode != OutageOff {
		next = &outageState{mode: mode, release: make(chan struct{})}
	}
	o.cur.Store(next)
	if old != nil {
		close(old.release)
	}
	return nil
}

// SetOutage starts or ends an outage of the account: mode OutageOff,
// OutageAccessDenied, OutageUnavailable, OutageTimeout or
// OutageLostResponse. Refused requests and lost answers count in
// Stats.RefusedOutage.
func (s *Server) SetOutage(mode string) error {
	if err := s.outage.set(mode); err != nil {
		return err
	}
	s.o.Logger.Info("sim: outage", "account", s.o.AccountID, "mode", mode)
	return nil
}

// Outage returns the outage mode in force (OutageOff when none).
func (s *Server) Outage() string { return s.outage.mode() }

// refuse answers a Connect request during the outage st.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, st *outageState, op opID, caller, reqID, date string, now time.Time, lower bool) {
	s.stats.refusedOutage.Add(1)
	switch st.mode {
	case OutageAccessDenied:
		s.fail(w, op, caller, errf(codeAccessDenied, "User: "+caller+" is not authorized to perform: connect:"+ops[op].name+
			" on account "+s.o.AccountID+" (simulated outage)"), reqID, date, now, lower)
		return
	case OutageUnavailable:
		s.stats.record(op, caller, outError, codeServiceUnavailable, now)
		writeUnavailable(w, reqID, date)
		return
	}
	if s.hold(r, st) {
		s.stats.record(op, caller, outError, codeOutageHeld, s.now())
		writeUnavailable(w, reqID, date)
		return
	}
	s.stats.record(op, caller, outError, codeClientClosedRequest, s.now())
}

// hold holds a request during the outage st until the client gives up
// (false), OutageHold passes, the outage ends or the server shuts down
// (true: answer it now).
func (s *Server) hold(r *http.Request, st *outageState) bool {
	t := time.NewTimer(OutageHold)
	defer t.Stop()
	select {
	case <-r.Context().Done():
		return false
	case <-t.C:
	case <-st.release:
	case <-s.held:
	}
	return true
}

// lostWriter swallows the answer of a request served during an
// OutageLostResponse outage.
type lostWriter struct{ h http.Header }

func (l *lostWriter) Header() http.Header         { return l.h }
func (l *lostWriter) Write(p []byte) (int, error) { return len(p), nil }
func (l *lostWriter) WriteHeader(int)             {}

// loseAnswer is deferred by ServeHTTP in an OutageLostResponse outage: the
// request has been served into a lostWriter; the client gets nothing until
// it gives up, or a 503 when the hold ends first.
func (s *Server) loseAnswer(w http.ResponseWriter, r *http.Request, st *outageState, reqID, date string) {
	s.stats.refusedOutage.Add(1)
	if s.hold(r, st) {
		writeUnavailable(w, reqID, date)
	}
}

// releaseHeld answers every request an outage holds, now and later (the
// server is shutting down). ListenAndServe calls it when it shuts down.
func (s *Server) releaseHeld() { s.heldOnce.Do(func() { close(s.held) }) }

// OutageChange is the body of POST /_sim/outage.
type OutageChange struct {
	Mode string `json:"mode"`
}

// OutageStatus is the answer of GET and POST /_sim/outage.
type OutageStatus struct {
	AccountID string `json:"account_id"`
	Mode      string `json:"mode"`
}

// serveOutage serves GET and POST /_sim/outage.
func (s *Server) serveOutage(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var c OutageChange
		if !readAdmin(w, r, &c) {
			return
		}
		if err := s.SetOutage(c.Mode); err != nil {
			adminError(w, http.StatusBadRequest, codeAdminInvalidArgument, err.Error())
			return
		}
	}
	adminJSON(w, OutageStatus{AccountID: s.o.AccountID, Mode: s.Outage()})
}
