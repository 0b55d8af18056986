package stagger

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

var t0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

func TestReservationsSteps(t *testing.T) {
	r := NewReservations(ratelimit.Limit{Rate: 2, Burst: 2}, t0, ReservationOptions{Hold: time.Minute, MaxLogins: 4})
	type step struct {
		at     time.Duration // asked at t0 + at
		login  string
		start  time.Duration // want start at t0 + start
		repeat bool
		err    error
	}
	for i, s := range []step{
		{0, "ann", 0, false, nil},
		{0, "bob", 0, false, nil},
		{0, "cid", sec(0.5), false, nil},
		{0, "ann", 0, true, nil},              // the same login: same start, no token
		{sec(0.2), "dan", sec(1), false, nil}, // behind cid
		{sec(0.2), "eve", 0, false, ErrFull},  // MaxLogins 4 held
		{sec(30), "cid", sec(0.5), true, nil}, // still held
		{sec(61), "ann", sec(61), false, nil}, // ann's hold ended: a new reservation (pruned the rest)
		{sec(61), "", 0, false, ErrBadLogin},
		{sec(61), "a\nb", 0, false, ErrBadLogin},
		{sec(61), strings.Repeat("x", 257), 0, false, ErrBadLogin},
	} {
		at, repeat, err := r.Reserve(t0.Add(s.at), s.login)
		if !errors.Is(err, s.err) || (err == nil && (at != t0.Add(s.start) || repeat != s.repeat)) {
			t.Errorf("step %d (%q at %v): got %v repeat %v err %v; want %v repeat %v err %v", i, s.login, s.at, at.Sub(t0), repeat, err, s.start, s.repeat, s.err)
		}
	}
}

func newTestService(t *testing.T, now func() time.Time) *Service {
	t.Helper()
	s, err := NewService(ServiceOptions{Token: "desktop-token-0123456789", Limit: ratelimit.Limit{Rate: 2, Burst: 1}, Now: now, AllowedOrigins: []string{"https://desk.example"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestServiceHTTP(t *testing.T) {
	now := t0
	s := newTestService(t, func() time.Time { return now })
	do := func(method, token, body string, hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/v1/stagger/reserve", strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	const tok = "desktop-token-0123456789"
	type step struct {
		method, token, body string
		status              int
		want                string
	}
	for i, st := range []step{
		{"POST", "", `{"login":"ann"}`, 401, "unauthorized"},
		{"POST", "wrong-token-0123456789", `{"login":"ann"}`, 401, "unauthorized"},
		{"GET", tok, ``, 405, "method_not_allowed"},
		{"POST", tok, `{"login":`, 400, "bad_body"},
		{"POST", tok, `{"login":"ann","x":1}`, 400, "bad_body"},
		{"POST", tok, `{"login":""}`, 400, "bad_login"},
		{"POST", tok, `{"login":"` + strings.Repeat("x", 5000) + `"}`, 413, "body_too_large"},
		{"POST", tok, `{"login":"ann"}`, 200, `"delay_ms":0`},
		{"POST", tok, `{"login":"bob"}`, 200, `"delay_ms":500`},
		{"POST", tok, `{"login":"cid"}`, 200, `"delay_ms":1000`},
		{"POST", tok, `{"login":"bob"}`, 200, `"repeat":true`},
	} {
		w := do(st.method, st.token, st.body)
		if w.Code != st.status || !strings.Contains(w.Body.String(), st.want) {
			t.Errorf("step %d: %s %s: got %d %s; want %d with %s", i, st.method, st.body[:min(len(st.body), 30)], w.Code, w.Body.String(), st.status, st.want)
		}
		if strings.Contains(w.Body.String(), tok) {
			t.Errorf("step %d: the answer echoes the token", i)
		}
	}
	// CORS: the allowed origin gets its headers, others none.
	w := do("OPTIONS", "", "", "Origin", "https://desk.example", "Access-Control-Request-Method", "POST")
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "https://desk.example" || !strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
	}
	if w := do("POST", tok, `{"login":"dan"}`, "Origin", "https://evil.example"); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a foreign origin got CORS headers: %v", w.Header())
	}
	if _, err := NewService(ServiceOptions{Token: "short", Limit: ratelimit.Limit{Rate: 1, Burst: 1}}); err == nil || strings.Contains(err.Error(), "short") {
		t.Errorf("short token: %v", err)
	}
}

// handlerClient reaches h in memory (no sockets: synctest bubbles).
type handlerClient struct{ h http.Handler }

func (c handlerClient) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	resp := w.Result()
	resp.Request = r
	return resp, nil
}

// hanging never answers: serve is unreachable and the request times out.
type hanging struct{}

func (hanging) RoundTrip(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

type refused struct{}

func (refused) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("dial tcp 127.0.0.1:8787: connect: connection refused")
}

// TestStartWaits checks Start in virtual time: the reservation's delay when
// serve answers, the hashed slot when it hangs or refuses.
func TestStartWaits(t *testing.T) {
	const login = "agent-0001" // slot 2 of 60
	type step struct {
		name   string
		rt     func(h http.Handler) http.RoundTripper
		url    string
		source string
		waited time.Duration
	}
	for i, st := range []step{
		{"reservation (third in line, 2/s, burst 1)", func(h http.Handler) http.RoundTripper { return handlerClient{h} }, "http://serve.test/v1/stagger/reserve", SourceReserve, sec(1)},
		{"serve hangs: slot 2 s, the 2 s timeout already spent", func(http.Handler) http.RoundTripper { return hanging{} }, "http://serve.test/v1/stagger/reserve", SourceFallback, sec(2)},
		{"serve refuses", func(http.Handler) http.RoundTripper { return refused{} }, "http://serve.test/v1/stagger/reserve", SourceFallback, sec(2)},
		{"no URL", func(http.Handler) http.RoundTripper { return refused{} }, "", SourceFallback, sec(2)},
	} {
		synctest.Test(t, func(t *testing.T) {
			s := newTestService(t, time.Now)
			// Two others ask first.
			for _, l := range []string{"x", "y"} {
				if _, _, err := s.Reservations().Reserve(time.Now(), l); err != nil {
					t.Fatal(err)
				}
			}
			begin := time.Now()
			got, err := Start(context.Background(), login, StartOptions{
				ReserveURL: st.url, Token: "desktop-token-0123456789", Window: time.Minute,
				HTTPClient: &http.Client{Transport: st.rt(s)},
			})
			if err != nil || got.Source != st.source || time.Since(begin) != st.waited {
				t.Errorf("step %d (%s): got %+v after %v, err %v; want %s after %v", i, st.name, got, time.Since(begin), err, st.source, st.waited)
			}
		})
	}
	// A longer slot: the fallback waits the slot, counted from the call.
	synctest.Test(t, func(t *testing.T) {
		begin := time.Now()
		got, err := Start(context.Background(), "foobar", StartOptions{ReserveURL: "http://serve.test/", Window: time.Minute, HTTPClient: &http.Client{Transport: hanging{}}})
		if err != nil || got.Source != SourceFallback || time.Since(begin) != sec(40) {
			t.Errorf("foobar: got %+v after %v, %v; want the fallback at 40 s", got, time.Since(begin), err)
		}
	})
	// Cancellation ends the wait.
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), sec(5))
		defer cancel()
		_, err := Start(ctx, "foobar", StartOptions{Window: time.Minute})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want the context's error", err)
		}
	})
}

func TestReserveAnswerDecodes(t *testing.T) {
	s := newTestService(t, func() time.Time { return t0 })
	srv := httptest.NewServer(s)
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(`{"login":"ann"}`))
	req.Header.Set("Authorization", "Bearer desktop-token-0123456789")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var rr ReserveResponse
	if err := json.Unmarshal(b, &rr); err != nil || !rr.StartAt.Equal(t0) || rr.DelayMS != 0 {
		t.Fatalf("got %s (%+v, %v)", b, rr, err)
	}
}
