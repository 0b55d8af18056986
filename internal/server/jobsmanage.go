package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/queue"
)

// Patterns returns every route pattern the server registers ("METHOD
// /path"), for the OpenAPI conformance test.
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }

// enqueueProblem answers the Enqueue errors that are about the caller's
// jobs rather than the queue: a conflict (409 naming the job) and a partial
// store (503 with every job's result). It reports whether it answered.
func (s *Server) enqueueProblem(w http.ResponseWriter, jobs, stored []queue.Job, lines []int, err error) bool {
	var ce *queue.ConflictError
	if errors.As(err, &ce) {
		d := api.ErrorDetail{Code: "conflict", Index: &ce.Index, ID: ce.ID, Field: "id"}
		what := fmt.Sprintf("id %q is already stored with a different op, input or client_token: submit new work under a new id", ce.ID)
		if ce.Field == "ClientToken" {
			d.Field = "client_token"
			what = fmt.Sprintf("job %q: its client_token is already used by job %q (a client token names one call)", ce.ID, ce.Other)
		}
		where := fmt.Sprintf("job %d", ce.Index)
		if lines != nil && ce.Index < len(lines) {
			d.Line = lines[ce.Index]
			where += fmt.Sprintf(" (line %d)", d.Line)
		}
		d.Message = "nothing was stored: " + where + ": " + what
		writeJSON(w, http.StatusConflict, api.ErrorBody{Error: d})
		return true
	}
	var be *queue.BatchError
	if !errors.As(err, &be) || len(be.Errs) != len(jobs) || len(stored) != len(jobs) {
		return false
	}
	out := api.PartialSubmit{Jobs: make([]api.SubmittedID, len(jobs))}
	var firstErr error
	for i, j := range stored {
		out.Jobs[i] = api.SubmittedID{ID: j.ID, ClientToken: j.ClientToken, Status: j.Status}
		if e := be.Errs[i]; e != nil {
			out.Jobs[i].Status, out.Jobs[i].Error = api.StatusNotStored, e.Error()
			if firstErr == nil {
				firstErr = e
			}
			continue
		}
		out.Accepted++
		s.m.submitted.WithLabelValues(j.Op).Inc()
	}
	out.Error = api.ErrorDetail{Code: "partially_stored", Message: fmt.Sprintf(
		"the queue stored %d of %d jobs (see jobs[].status); resubmit the ones not_stored, or all of them with their ids: a stored id is not stored twice. First error: %v",
		out.Accepted, len(jobs), firstErr)}
	s.log.Error("enqueue stored part of a submission", "stored", out.Accepted, "jobs", len(jobs), "err", firstErr)
	if out.Accepted > 0 {
		s.app.Dispatcher.Wake()
	}
	writeJSON(w, http.StatusServiceUnavailable, out)
	return true
}

// canceler returns the queue's Canceler or answers 501.
func (s *Server) canceler(w http.ResponseWriter) (queue.Canceler, bool) {
	c, ok := s.app.Queue.(queue.Canceler)
	if !ok {
		writeError(w, http.StatusNotImplemented, "not_supported",
			fmt.Sprintf("the %s queue backend cannot cancel or purge jobs by id or status", s.cfg.Queue.Backend))
	}
	return c, ok
}

// cancelJob: POST /v1/jobs/{id}/cancel.
func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	id, ok := s.jobID(w, r)
	if !ok {
		return
	}
	c, ok := s.canceler(w)
	if !ok {
		return
	}
	j, err := c.Cancel(r.Context(), id)
	var se *queue.StateError
	if errors.As(err, &se) {
		writeError(w, http.StatusConflict, "not_cancelable", strings.TrimPrefix(se.Error(), "queue: "))
		return
	}
	if s.queueError(w, err, "job "+id) {
		return
	}
	s.log.Info("job canceled", "id", id)
	writeJSON(w, http.StatusOK, j)
}

// purgeJobs: POST /v1/jobs/purge.
func (s *Server) purgeJobs(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	var req api.PurgeRequest
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := decodeStrict(body, &req); err != nil {
			writeError(w, http.StatusBadRequest, "bad_body", `purge request: `+err.Error()+` (want {"status":"queued|delayed","before":"RFC 3339 time"})`)
			return
		}
	}
	p := queue.Purge{Before: req.Before}
	switch req.Status {
	case "":
	case "queued":
		p.Queued = true
	case "delayed":
		p.Delayed = true
	default:
		writeError(w, http.StatusBadRequest, "bad_body", fmt.Sprintf(`purge request: status must be "queued", "delayed" or absent, got %q`, req.Status))
		return
	}
	c, ok := s.canceler(w)
	if !ok {
		return
	}
	n, err := c.Purge(r.Context(), p)
	if s.queueError(w, err, "purge") {
		return
	}
	s.log.Info("jobs purged", "count", n, "status", req.Status, "before", req.Before)
	writeJSON(w, http.StatusOK, api.PurgeResponse{Purged: n})
}

// lookupJobs: POST /v1/jobs/lookup, the status of many jobs at once (what
// `queue submit --wait` polls).
func (s *Server) lookupJobs(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	var req api.LookupRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_body", `lookup request: `+err.Error()+` (want {"ids":[…]})`)
		return
	}
	if len(req.IDs) == 0 || len(req.IDs) > api.MaxLookupIDs {
		writeError(w, http.StatusBadRequest, "bad_body", fmt.Sprintf("lookup request: ids must hold 1-%d job ids, got %d", api.MaxLookupIDs, len(req.IDs)))
		return
	}
	out := api.LookupResponse{Jobs: make([]queue.Job, 0, len(req.IDs))}
	for _, id := range req.IDs {
		if !queue.ValidID(id) {
			writeError(w, http.StatusBadRequest, "bad_id", fmt.Sprintf("lookup request: %q is not a job id", id))
			return
		}
		j, err := s.app.Queue.Get(r.Context(), id)
		if errors.Is(err, queue.ErrNotFound) {
			out.Missing = append(out.Missing, id)
			continue
		}
		if s.queueError(w, err, "job "+id) {
			return
		}
		j.Input = nil
		out.Jobs = append(out.Jobs, j)
	}
	writeJSON(w, http.StatusOK, out)
}
