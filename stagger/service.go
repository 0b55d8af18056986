package stagger

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// MaxReserveBody caps the body of a reservation request.
const MaxReserveBody = 4 << 10

// MinTokenLen is the shortest desktop token a Service accepts.
const MinTokenLen = 16

// ReserveRequest is the body of POST /v1/stagger/reserve.
type ReserveRequest struct {
	Login string `json:"login"`
}

// ReserveResponse is the answer: wait DelayMS milliseconds (from when the
// answer arrives), then start.
type ReserveResponse struct {
	DelayMS int64     `json:"delay_ms"`
	StartAt time.Time `json:"start_at"`
	Repeat  bool      `json:"repeat"` // the login's standing reservation
}

// ServiceOptions configure a Service. Token and Limit are required.
type ServiceOptions struct {
	// Token is the desktop token desktops present as a bearer token. It
	// must be a different secret from the admin API's token, and reaches
	// only this handler.
	Token string
	// Limit is the start-up bucket (see StartUpLimit).
	Limit ratelimit.Limit
	// Reservations tunes the per-login reservations.
	Reservations ReservationOptions
	// AllowedOrigins lists the browser origins (e.g.
	// "https://desktop.example.com") answered with CORS headers; "*"
	// allows any. Empty: no CORS headers (same-origin or server callers).
	AllowedOrigins []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the reservation endpoint as an http.Handler: POST a JSON
// {"login": "…"} with "Authorization: Bearer <desktop token>", get
// ReserveResponse. Errors are JSON {"error": {"code", "message"}}. It
// answers CORS preflights (OPTIONS) for AllowedOrigins.
type Service struct {
	res     *Reservations
	sum     [32]byte
	origins []string
	now     func() time.Time
}

// NewService returns the reservation handler.
func NewService(o ServiceOptions) (*Service, error) {
	if len(o.Token) < MinTokenLen {
		return nil, &FieldError{Field: "desktop token", Msg: "must be at least 16 characters (its value is not shown)"}
	}
	if !(o.Limit.Rate > 0) || o.Limit.Burst < 1 {
		return nil, bad("limit", "start-up bucket needs rate > 0 and burst >= 1, got %v/%v", o.Limit.Rate, o.Limit.Burst)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Service{
		res: NewReservations(o.Limit, now(), o.Reservations), sum: sha256.Sum256([]byte(o.Token)),
		origins: slices.Clone(o.AllowedOrigins), now: now,
	}, nil
}

// Reservations returns the service's reservations.
func (s *Service) Reservations() *Reservations { return s.res }

func (s *Service) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], s.sum[:]) == 1
}

func (s *Service) cors(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	if slices.Contains(s.origins, "*") {
		w.Header().Set("Access-Control-Allow-Origin", "*")
	} else if slices.Contains(s.origins, origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Add("Vary", "Origin")
	} else {
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	w.Header().Set("Access-Control-Max-Age", "600")
}

// ServeHTTP answers one reservation request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.cors(w, r)
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed; use POST")
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate-desktop"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong desktop token: send Authorization: Bearer <desktop token>")
		return
	}
	var req ReserveRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxReserveBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the body is larger than 4096 bytes")
			return
		}
		writeError(w, http.StatusBadRequest, "bad_body", `the body must be JSON {"login": "…"}`)
		return
	}
	now := s.now()
	at, repeat, err := s.res.Reserve(now, req.Login)
	switch {
	case errors.Is(err, ErrBadLogin):
		writeError(w, http.StatusBadRequest, "bad_login", "login: "+strings.TrimPrefix(err.Error(), "stagger: "))
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "full", strings.TrimPrefix(err.Error(), "stagger: "))
		return
	}
	d := max(at.Sub(now), 0)
	writeJSON(w, http.StatusOK, ReserveResponse{DelayMS: (d + time.Millisecond - 1).Milliseconds(), StartAt: at.UTC(), Repeat: repeat})
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}
