package server

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/poller"
)

// web holds the dashboard: its page, script and style, embedded so it runs
// where there is no internet (no CDN).
//
//go:embed web
var webFS embed.FS

var loginPage = template.Must(template.ParseFS(webFS, "web/login.html"))

// authorized reports whether r carries the bearer token or, for GET and
// HEAD, a dashboard session.
func (s *Server) authorized(r *http.Request) (ok, presented bool) {
	if tok, has := bearer(r); has {
		return s.auth.ok(tok), true
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return s.sessions.valid(r, time.Now()), false
	}
	return false, false
}

// dashboard serves the page to a logged-in viewer and the login form to
// anyone else (401).
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	if ok, _ := s.authorized(r); !ok {
		s.showLogin(w, http.StatusUnauthorized, "")
		return
	}
	b, _ := webFS.ReadFile("web/index.html")
	setPageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b)
}

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (s *Server) showLogin(w http.ResponseWriter, status int, problem string) {
	setPageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = loginPage.Execute(w, struct{ Problem string }{problem})
}

// login checks the token posted by the login form and sets the session
// cookie. The token travels in the POST body only: never in a URL, never
// logged.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.showLogin(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if r.URL.RawQuery != "" {
		s.showLogin(w, http.StatusBadRequest, "Send the token in the form, not in the address.")
		return
	}
	if !s.auth.ok(strings.TrimSpace(r.PostForm.Get("token"))) {
		s.log.Info("dashboard login refused", "remote", r.RemoteAddr)
		s.showLogin(w, http.StatusUnauthorized, "That token does not match this server's token.")
		return
	}
	http.SetCookie(w, sessionCookie(r, s.sessions.create(time.Now()), int(SessionTTL.Seconds())))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.sessions.end(r)
	http.SetCookie(w, sessionCookie(r, "", -1))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// asset serves the dashboard's script and style (authenticated like the
// page).
func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	sub, _ := fs.Sub(webFS, "web")
	b, err := fs.ReadFile(sub, name)
	if err != nil || strings.HasSuffix(name, ".html") {
		writeError(w, http.StatusNotFound, "not_found", "no asset "+name)
		return
	}
	switch {
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	}
	setPageHeaders(w)
	_, _ = w.Write(b)
}

// MetricsResponse is GET /v1/metrics.
type MetricsResponse struct {
	Metrics []poller.Snapshot `json:"metrics"`
}

func (s *Server) listMetrics(w http.ResponseWriter, _ *http.Request) {
	out := MetricsResponse{Metrics: []poller.Snapshot{}}
	if p := s.app.Poller; p != nil {
		out.Metrics = p.List(time.Now())
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getMetric(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if p := s.app.Poller; p != nil {
		if snap, ok := p.Snapshot(name, time.Now()); ok {
			writeJSON(w, http.StatusOK, snap)
			return
		}
	}
	writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no poll query %q (see GET /v1/metrics and the poll section of the configuration)", clipName(name)))
}

func clipName(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func (s *Server) getState(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.state.get(time.Now()))
}

// events is the Server-Sent Events stream: every query's snapshot (with
// history) at once, then each new value ("metric") as it is polled and
// Tollgate's own state ("state") every second.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	var sub <-chan poller.Event
	if p := s.app.Poller; p != nil {
		c, stop, err := p.Subscribe(16)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "too_many_viewers", err.Error())
			return
		}
		defer stop()
		sub = c
	}
	// A stream outlives the server's read and write timeouts.
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, data []byte) bool {
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if p := s.app.Poller; p != nil {
		for _, snap := range p.List(time.Now()) {
			full, _ := p.Snapshot(snap.Name, time.Now())
			b, _ := json.Marshal(full)
			if !send("metric", b) {
				return
			}
		}
	}
	if !send("state", s.state.get(time.Now())) {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev := <-sub:
			b, _ := json.Marshal(ev.Snapshot)
			if !send("metric", b) {
				return
			}
		case <-tick.C:
			if !send("state", s.state.get(time.Now())) {
				return
			}
		}
	}
}
