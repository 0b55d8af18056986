package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// StatePath is the gateway's state as JSON (State), for serve's dashboard.
// Like GET /metrics it needs the bearer token (Options.Token). No Connect or
// Outbound Campaigns operation has a path starting with /_tollgate/.
const StatePath = "/_tollgate/state"

// State is the gateway's state per caller and operation, since start: what
// GET StatePath serves and serve's dashboard shows. It is read from the
// same series as /metrics.
type State struct {
	Time    time.Time     `json:"time"`
	Uptime  float64       `json:"uptime"` // seconds
	Callers []CallerState `json:"callers"`
	// Refused counts requests refused before forwarding (signature, access,
	// size), the unauthenticated ones included.
	Refused int64 `json:"refused_total"`
}

// CallerState is one caller (principal) × operation row of State.
type CallerState struct {
	Principal string `json:"principal"`
	Operation string `json:"operation"`
	// Admitted counts upstream attempts admitted by the limiter (retries
	// included); ThrottledUpstream the rate throttles (429) the service
	// answered to them.
	Admitted          int64 `json:"admitted"`
	ThrottledUpstream int64 `json:"throttled_upstream"`
	// Answers counts the answers to the caller by class (ok,
	// rate-throttle, client-fault, …); Refused the requests refused before
	// forwarding.
	Answers map[string]int64 `json:"answers"`
	Refused int64            `json:"refused"`
	// Requests is the number of verified requests answered; WaitedMean and
	// LatencyMean their mean admission wait and whole-request time, and
	// LatencyP95 the upper bound of the latency bucket holding the 95th
	// percentile (seconds; +Inf is reported as -1).
	Requests    int64   `json:"requests"`
	WaitedMean  float64 `json:"waited_mean_seconds"`
	LatencyMean float64 `json:"latency_mean_seconds"`
	LatencyP95  float64 `json:"latency_p95_seconds"`
}

// State returns the gateway's state at now.
func (g *Gateway) State(now time.Time) State {
	st := State{Time: now, Uptime: now.Sub(g.started).Seconds(), Callers: []CallerState{}}
	rows := map[[2]string]*CallerState{}
	row := func(m *dto.Metric) *CallerState {
		var k [2]string
		for _, lp := range m.GetLabel() {
			switch lp.GetName() {
			case "principal":
				k[0] = lp.GetValue()
			case "operation":
				k[1] = lp.GetValue()
			}
		}
		r := rows[k]
		if r == nil {
			r = &CallerState{Principal: k[0], Operation: k[1], Answers: map[string]int64{}}
			rows[k] = r
		}
		return r
	}
	label := func(m *dto.Metric, name string) string {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == name {
				return lp.GetValue()
			}
		}
		return ""
	}
	collect(g.m.admitted, func(m *dto.Metric) { row(m).Admitted = int64(m.GetCounter().GetValue()) })
	collect(g.m.throttled, func(m *dto.Metric) { row(m).ThrottledUpstream = int64(m.GetCounter().GetValue()) })
	collect(g.m.responses, func(m *dto.Metric) { row(m).Answers[label(m, "class")] += int64(m.GetCounter().GetValue()) })
	collect(g.m.rejected, func(m *dto.Metric) {
		n := int64(m.GetCounter().GetValue())
		st.Refused += n
		if label(m, "principal") != "-" {
			row(m).Refused += n
		}
	})
	collect(g.m.waited, func(m *dto.Metric) {
		h := m.GetHistogram()
		if n := h.GetSampleCount(); n > 0 {
			row(m).WaitedMean = h.GetSampleSum() / float64(n)
		}
	})
	collect(g.m.latency, func(m *dto.Metric) {
		h := m.GetHistogram()
		r := row(m)
		r.Requests = int64(h.GetSampleCount())
		if r.Requests > 0 {
			r.LatencyMean = h.GetSampleSum() / float64(r.Requests)
			r.LatencyP95 = quantileBound(h, 0.95)
		}
	})
	for _, r := range rows {
		st.Callers = append(st.Callers, *r)
	}
	sort.Slice(st.Callers, func(i, j int) bool {
		a, b := st.Callers[i], st.Callers[j]
		if a.Principal != b.Principal {
			return a.Principal < b.Principal
		}
		return a.Operation < b.Operation
	})
	return st
}

// collect calls f with every series of c.
func collect(c prometheus.Collector, f func(*dto.Metric)) {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	for pm := range ch {
		var m dto.Metric
		if pm.Write(&m) == nil {
			f(&m)
		}
	}
}

// quantileBound returns the upper bound of the bucket holding quantile q
// (-1 when it is past the last bucket).
func quantileBound(h *dto.Histogram, q float64) float64 {
	want := uint64(math.Ceil(q * float64(h.GetSampleCount())))
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCount() >= want {
			return b.GetUpperBound()
		}
	}
	return -1
}

// adminRequest reports whether r is for one of the gateway's own
// endpoints (GET /metrics, GET StatePath) rather than a signed Connect
// request: those never carry a SigV4 Authorization.
func adminRequest(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.URL.Path != "/metrics" && r.URL.Path != StatePath {
		return false
	}
	return !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-")
}

// serveAdmin serves GET /metrics and GET StatePath to a holder of the
// bearer token (the same rule as serve's /metrics), else 401.
func (g *Gateway) serveAdmin(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if g.tokenSum == nil || !ok || !g.tokenOK(strings.TrimSpace(tok)) {
		g.m.rejected.WithLabelValues("-", "other", "Unauthorized").Inc()
		w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate gateway"`)
		msg := "GET " + r.URL.Path + " needs the gateway's bearer token (Authorization: Bearer …)"
		if g.tokenSum == nil {
			msg = "GET " + r.URL.Path + " is off: the gateway has no token configured"
		}
		writeJSONError(w, http.StatusUnauthorized, msg)
		return
	}
	if r.URL.Path == "/metrics" {
		g.metricsH.ServeHTTP(w, r)
		return
	}
	b, _ := json.Marshal(g.State(time.Now()))
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// tokenOK compares a presented token with Options.Token in constant time
// (over SHA-256 digests, so the length does not leak either).
func (g *Gateway) tokenOK(presented string) bool {
	s := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(s[:], g.tokenSum[:]) == 1
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	_, _ = w.Write(b)
}
