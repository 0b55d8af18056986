package server

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// SessionCookie is the dashboard's session cookie. It holds a random
// session id, never the token; it is HttpOnly and SameSite=Strict, and it
// authenticates GET requests only (the API's writes need the bearer token).
const SessionCookie = "tollgate_session"

// SessionTTL is how long a dashboard login lasts.
const SessionTTL = 12 * time.Hour

// maxSessions bounds the sessions kept; the oldest go first.
const maxSessions = 10000

// sessions are the dashboard's logins, in memory: a restart logs everyone
// out.
type sessions struct {
	mu sync.Mutex // guards m
	m  map[string]time.Time
}

func newSessions() *sessions { return &sessions{m: map[string]time.Time{}} }

// create returns a new session id valid until now+SessionTTL.
func (s *sessions) create(now time.Time) string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxSessions {
		var oldest string
		var at time.Time
		for k, exp := range s.m {
			if oldest == "" || exp.Before(at) {
				oldest, at = k, exp
			}
		}
		delete(s.m, oldest)
	}
	s.m[id] = now.Add(SessionTTL)
	return id
}

// valid reports whether r carries a live session at now.
func (s *sessions) valid(r *http.Request, now time.Time) bool {
	c, err := r.Cookie(SessionCookie)
	if err != nil || len(c.Value) != 64 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.m[c.Value]
	if !ok {
		return false
	}
	if !now.Before(exp) {
		delete(s.m, c.Value)
		return false
	}
	return true
}

// end removes r's session.
func (s *sessions) end(r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		s.mu.Lock()
		delete(s.m, c.Value)
		s.mu.Unlock()
	}
}

func sessionCookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode}
}
