package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/queue"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern, route string, auth bool, h http.HandlerFunc) {
		mux.Handle(pattern, s.instrument(route, auth, h))
		s.patterns = append(s.patterns, pattern)
	}
	handle("POST /v1/jobs", "/v1/jobs", true, s.submit)
	handle("GET /v1/jobs/{id}", "/v1/jobs/{id}", true, s.getJob)
	handle("POST /v1/jobs/{id}/cancel", "/v1/jobs/{id}/cancel", true, s.cancelJob) // jobsmanage.go
	handle("POST /v1/jobs/purge", "/v1/jobs/purge", true, s.purgeJobs)
	handle("POST /v1/jobs/lookup", "/v1/jobs/lookup", true, s.lookupJobs)
	handle("GET /v1/stats", "/v1/stats", true, s.stats)
	handle("GET /v1/ops", "/v1/ops", true, s.ops)
	handle("GET /v1/dlq", "/v1/dlq", true, s.listDead)
	handle("GET /v1/dlq/{id}", "/v1/dlq/{id}", true, s.getDead)
	handle("POST /v1/dlq/redrive", "/v1/dlq/redrive", true, s.redrive)
	metrics := promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{})
	handle("GET /metrics", "/metrics", true, metrics.ServeHTTP)
	handle("GET /healthz", "/healthz", false, s.healthz)
	mux.Handle(StaggerRoute, s.staggerHandler())          // desktop token only (stagger.go)
	s.patterns = append(s.patterns, "POST "+StaggerRoute) // the stagger service answers other methods with 405
	// The metrics poller's cache and the dashboard (dashboard.go).
	handle("GET /v1/metrics", "/v1/metrics", true, s.listMetrics)
	handle("GET /v1/metrics/{name}", "/v1/metrics/{name}", true, s.getMetric)
	handle("GET /v1/events", "/v1/events", true, s.events)
	handle("GET /v1/state", "/v1/state", true, s.getState)
	handle("GET /assets/{file}", "/assets", true, s.asset)
	handle("GET /{$}", "/", false, s.dashboard)
	handle("POST /login", "/login", false, s.login)
	handle("POST /logout", "/logout", false, s.logout)
	handle("/", "other", false, func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := mux.Handler(r2); p != "/" && p != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path+"; use "+strings.Join(allow, " or "))
			return
		}
		writeError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+r.URL.Path+" (see the package documentation of internal/server)")
	})
	return mux
}

// statusWriter records the status for the request counter.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (flushes and
// deadlines of the event stream).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument counts requests and checks the bearer token.
func (s *Server) instrument(route string, auth bool, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			st := sw.status
			if st == 0 {
				st = http.StatusOK
			}
			s.m.requests.WithLabelValues(route, strconv.Itoa(st)).Inc()
		}()
		if auth {
			authed, ok := s.authorized(r)
			if !authed {
				sw.Header().Set("WWW-Authenticate", `Bearer realm="tollgate"`)
				msg := "missing bearer token: send Authorization: Bearer <token> (see <data dir>/token)"
				if ok {
					msg = "wrong bearer token"
				}
				writeError(sw, http.StatusUnauthorized, "unauthorized", msg)
				return
			}
		}
		h(sw, r)
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, api.ErrorBody{Error: api.ErrorDetail{Code: code, Message: msg}})
}

// readBody reads the body up to the cap; it answers 413 itself.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("body is %d bytes; the limit is %d bytes (max_body_bytes): split the submission", r.ContentLength, s.cfg.MaxBodyBytes))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large",
				fmt.Sprintf("body is larger than the limit of %d bytes (max_body_bytes): split the submission", s.cfg.MaxBodyBytes))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "bad_body", "reading the body: "+err.Error())
		return nil, false
	}
	return body, true
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	specs, lines, err := parseJobs(body)
	if err == nil {
		var jobs []queue.Job
		if jobs, err = prepareJobs(specs, lines, time.Now(), s.cfg.Limits.Account, s.app.CheckJob); err == nil {
			s.enqueue(w, r, jobs, lines)
			return
		}
	}
	var se *SubmitError
	if errors.As(err, &se) {
		d := api.ErrorDetail{Code: "invalid_job", Message: "nothing was stored: " + se.Error(), Line: se.Line, Field: se.Field}
		if se.Index >= 0 {
			d.Index = &se.Index
		} else {
			d.Code = "bad_body"
		}
		writeJSON(w, http.StatusBadRequest, api.ErrorBody{Error: d})
		return
	}
	writeError(w, http.StatusBadRequest, "invalid_job", "nothing was stored: "+err.Error())
}

func (s *Server) enqueue(w http.ResponseWriter, r *http.Request, jobs []queue.Job, lines []int) {
	stored, err := s.app.Queue.Enqueue(r.Context(), jobs...)
	if s.enqueueProblem(w, jobs, stored, lines, err) {
		return
	}
	if err != nil {
		var je *queue.JobError
		if errors.As(err, &je) {
			field := jsonField(je.Field)
			se := &SubmitError{Index: je.Index, Field: field, Message: field + " " + jsonNames.Replace(je.Problem)}
			if lines != nil && je.Index < len(lines) {
				se.Line = lines[je.Index]
				if je.Repeats > 0 && je.Repeats <= len(lines) {
					se.Message = fmt.Sprintf("%s repeats job %d (line %d) of the same request", field, je.Repeats, lines[je.Repeats-1])
				}
			}
			writeJSON(w, http.StatusBadRequest, api.ErrorBody{Error: api.ErrorDetail{
				Code: "invalid_job", Message: "nothing was stored: " + se.Error(), Index: &se.Index, Line: se.Line, Field: se.Field}})
			return
		}
		s.log.Error("enqueue failed", "jobs", len(jobs), "err", err)
		writeError(w, http.StatusServiceUnavailable, "queue_unavailable", "the queue did not store the jobs: "+err.Error())
		return
	}
	out := api.SubmitResponse{Accepted: len(stored), Jobs: make([]api.SubmittedID, len(stored))}
	for i, j := range stored {
		out.Jobs[i] = api.SubmittedID{ID: j.ID, ClientToken: j.ClientToken, Status: j.Status}
		s.m.submitted.WithLabelValues(j.Op).Inc()
	}
	s.app.Dispatcher.Wake()
	writeJSON(w, http.StatusAccepted, out)
}

func (s *Server) jobID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !queue.ValidID(id) {
		writeError(w, http.StatusBadRequest, "bad_id", "job id must be 1-64 characters of A-Z a-z 0-9 _ . : -")
		return "", false
	}
	return id, true
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	id, ok := s.jobID(w, r)
	if !ok {
		return
	}
	j, err := s.app.Queue.Get(r.Context(), id)
	if s.queueError(w, err, "job "+id) {
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (s *Server) getDead(w http.ResponseWriter, r *http.Request) {
	id, ok := s.jobID(w, r)
	if !ok {
		return
	}
	j, err := s.app.Queue.Get(r.Context(), id)
	if s.queueError(w, err, "job "+id) {
		return
	}
	if j.Status != queue.StatusDead {
		writeError(w, http.StatusNotFound, "not_dead", fmt.Sprintf("job %s is %s, not a dead letter", id, j.Status))
		return
	}
	writeJSON(w, http.StatusOK, j)
}

// queueError answers a queue error; it reports whether there was one.
func (s *Server) queueError(w http.ResponseWriter, err error, what string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, queue.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", what+" is not known (or its record has expired)")
	case errors.Is(err, queue.ErrInvalidArgument):
		writeError(w, http.StatusBadRequest, "bad_argument", err.Error())
	case errors.Is(err, context.Canceled):
		writeError(w, http.StatusServiceUnavailable, "canceled", "the request was canceled")
	default:
		s.log.Error("queue error", "what", what, "err", err)
		writeError(w, http.StatusServiceUnavailable, "queue_unavailable", err.Error())
	}
	return true
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	st, err := s.app.Queue.Stats(r.Context())
	if s.queueError(w, err, "stats") {
		return
	}
	writeJSON(w, http.StatusOK, api.StatsResponse{Queue: st, Dispatch: s.app.Dispatcher.Stats(), Uptime: time.Since(s.started).Seconds(),
		Pools: s.app.PoolStats()})
}

func (s *Server) ops(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string][]string{"ops": dispatch.Ops()})
}

func (s *Server) listDead(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := queue.ListOptions{Reason: q.Get("reason"), After: q.Get("after")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > queue.MaxListLimit {
			writeError(w, http.StatusBadRequest, "bad_argument", fmt.Sprintf("limit must be 1-%d, got %q", queue.MaxListLimit, v))
			return
		}
		o.Limit = n
	}
	if o.After != "" && !queue.ValidID(o.After) {
		writeError(w, http.StatusBadRequest, "bad_argument", "after must be a job id")
		return
	}
	jobs, err := s.app.Queue.ListDead(r.Context(), o)
	if s.queueError(w, err, "dead letters") {
		return
	}
	out := api.DeadLettersResponse{Jobs: jobs}
	if jobs == nil {
		out.Jobs = []queue.Job{}
	}
	if len(jobs) > 0 && len(jobs) == queue.ListLimit(o) {
		out.Next = jobs[len(jobs)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) redrive(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	var req api.RedriveRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_body", "redrive request: "+err.Error()+` (want {"ids":[…]} or {"all":true,"reason":"…"})`)
		return
	}
	if req.All == (len(req.IDs) > 0) {
		writeError(w, http.StatusBadRequest, "bad_body", `redrive request: set exactly one of "ids" and "all"`)
		return
	}
	if !req.All && req.Reason != "" {
		writeError(w, http.StatusBadRequest, "bad_body", `redrive request: "reason" applies only with "all"`)
		return
	}
	for _, id := range req.IDs {
		if !queue.ValidID(id) {
			writeError(w, http.StatusBadRequest, "bad_id", fmt.Sprintf("redrive request: %q is not a job id", id))
			return
		}
	}
	if !s.redrivable(w, r, req) {
		return
	}
	n, err := s.app.Queue.Redrive(r.Context(), queue.Redrive{
		Selector:      queue.Selector{IDs: req.IDs, All: req.All, Reason: req.Reason},
		ClearNotAfter: req.ClearNotAfter,
	})
	if s.queueError(w, err, "redrive") {
		return
	}
	// The redriven jobs go through the dispatcher like any other: admitted
	// by the governor, so a redrive is never faster than the quota.
	s.app.Dispatcher.Wake()
	s.log.Info("dead letters redriven", "count", n, "all", req.All, "reason", req.Reason)
	writeJSON(w, http.StatusOK, api.RedriveResponse{Redriven: n})
}

// healthChecker is a queue that can tell whether it can serve (the
// embedded store: corruption, failed writes, its background check).
type healthChecker interface {
	Health(ctx context.Context) error
}

// checkState is a queue that reports its start-up integrity check.
type checkState interface{ CheckState() string }

// healthz answers 200 {"status":"ok"} only when the queue answers; a queue
// that fails (a corrupt or unreadable embedded store) gives 503
// {"status":"unhealthy","error":…}, as every API call would.
// redrivable checks a redrive request's selection before anything moves:
// every id must be a dead letter (404 for an unknown job, 409 for one that
// is not dead), and a reason must be one some dead letter has (404 listing
// the reasons there are). It answers itself and reports false on a problem.
func (s *Server) redrivable(w http.ResponseWriter, r *http.Request, req api.RedriveRequest) bool {
	for _, id := range req.IDs {
		j, err := s.app.Queue.Get(r.Context(), id)
		if errors.Is(err, queue.ErrNotFound) {
			writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("redrive request: job %s is not known (or its record has expired); nothing was redriven", id))
			return false
		}
		if s.queueError(w, err, "redrive") {
			return false
		}
		if j.Status != queue.StatusDead {
			writeError(w, http.StatusConflict, "not_dead", fmt.Sprintf("redrive request: job %s is %s, not a dead letter; nothing was redriven", id, j.Status))
			return false
		}
	}
	if req.Reason == "" {
		return true
	}
	if _, err := queue.CheckDeadLetter(req.Reason, ""); err != nil {
		writeError(w, http.StatusBadRequest, "bad_argument", `redrive request: "reason" must be 1-64 printable ASCII characters`)
		return false
	}
	st, err := s.app.Queue.Stats(r.Context())
	if s.queueError(w, err, "redrive") {
		return false
	}
	if st.DeadByReason[req.Reason] > 0 || st.Approximate {
		return true
	}
	reasons := make([]string, 0, len(st.DeadByReason))
	for k, n := range st.DeadByReason {
		if n > 0 {
			reasons = append(reasons, fmt.Sprintf("%s (%d)", k, n))
		}
	}
	sort.Strings(reasons)
	have := "there are no dead letters"
	if len(reasons) > 0 {
		have = "dead letters have: " + strings.Join(reasons, ", ")
	}
	writeError(w, http.StatusNotFound, "no_such_reason", fmt.Sprintf("redrive request: no dead letter has reason %q (%s); nothing was redriven", req.Reason, have))
	return false
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{"status": "ok", "dispatching": s.app.Dispatcher.Stats().Running}
	if cs, ok := s.app.Queue.(checkState); ok {
		body["store_check"] = cs.CheckState()
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var err error
	if hc, ok := s.app.Queue.(healthChecker); ok {
		err = hc.Health(ctx)
	} else {
		_, err = s.app.Queue.Stats(ctx)
	}
	if err != nil {
		s.log.Error("health check: the queue fails", "err", err)
		body["status"] = "unhealthy"
		body["error"] = "queue: " + err.Error()
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("has data after the JSON object")
	}
	return nil
}
