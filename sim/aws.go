package sim

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"

	"github.com/tollgatehq/tollgate/sim/cloudwatch"
	"github.com/tollgatehq/tollgate/sim/servicequotas"
)

// awsServices are the AWS services the simulator serves besides Connect:
// Service Quotas (awsJson1_1) and CloudWatch (rpc-v2-cbor). They are built
// on first use.
type awsServices struct {
	once sync.Once
	sq   *servicequotas.Service
	cw   *cloudwatch.Service
}

// init builds the services. The Service Quotas values are the quota table's
// (unscaled); an approval raises the simulator's bucket to the new value
// times RateScale, keeping the bucket's burst-to-rate ratio.
func (s *Server) awsInit() {
	s.aws.once.Do(func() {
		s.aws.sq = servicequotas.New(servicequotas.Options{
			Table: s.o.Quotas, AccountID: s.o.AccountID, Region: s.o.Region, Now: s.now, Seed: s.o.Seed,
			OnApprove: s.raiseOnApproval,
		})
		s.aws.cw = cloudwatch.New(simUsage{s}, cloudwatch.Options{AccountID: s.o.AccountID, Region: s.o.Region, Now: s.now})
	})
}

func (s *Server) raiseOnApproval(op string, value float64) {
	id, ok := opByName[op]
	if !ok {
		return
	}
	rate, burst, _ := s.rt[id].bucket.snapshot(s.now())
	newRate := value * s.o.RateScale
	newBurst := max(burst, int(math.Ceil(float64(burst)*newRate/rate)))
	_ = s.SetQuota(op, newRate, newBurst)
}

// ServiceQuotas returns the simulated Service Quotas endpoint (for tests
// and admin: Deny, Advance).
func (s *Server) ServiceQuotas() *servicequotas.Service { s.awsInit(); return s.aws.sq }

// CloudWatch returns the simulated CloudWatch endpoint.
func (s *Server) CloudWatch() *cloudwatch.Service { s.awsInit(); return s.aws.cw }

// awsHandler returns the handler of a Service Quotas or CloudWatch request,
// or nil for anything else. SigV4 is checked as for Connect.
func (s *Server) awsHandler(r *http.Request) http.Handler {
	var h http.Handler
	switch {
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), servicequotas.TargetPrefix):
		h = s.ServiceQuotas()
	case cloudwatch.Match(r):
		h = s.CloudWatch()
	default:
		return nil
	}
	if !s.verify {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, s.o.MaxBodyBytes+1))
		if err != nil || int64(len(body)) > s.o.MaxBodyBytes {
			http.Error(w, "request body unreadable or too large", http.StatusRequestEntityTooLarge)
			return
		}
		if e := verifySigV4(s.awsVerifier, r, body, s.now()); e != nil {
			w.Header().Set("X-Amzn-ErrorType", e.code)
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(e.status())
			_, _ = w.Write([]byte(`{"__type":"` + e.code + `","message":"` + strings.ReplaceAll(e.msg, `"`, `'`) + `"}`))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}

// simUsage feeds the CloudWatch service from the simulator.
type simUsage struct{ s *Server }

func (u simUsage) CallCounts(op string) map[int64]int64 {
	id, ok := opByName[op]
	if !ok {
		return nil
	}
	return u.s.stats.minuteCounts(id)
}

func (u simUsage) Quota(op string) (float64, bool) { return u.s.ServiceQuotas().Applied(op) }

// minuteLog keeps the accepted calls per operation per minute for the last
// MinuteHistory minutes. The zero value is ready; it is guarded by the
// stats mutex.
type minuteLog struct {
	counts [numOps]map[int64]int64 // op → minute (Unix s) → accepted calls
}

// MinuteHistory bounds the per-minute usage kept for CloudWatch (25 h).
const MinuteHistory = 25 * 60

// add counts one accepted call at sec. Requires the stats mutex held.
func (m *minuteLog) add(op opID, sec int64) {
	if int(op) >= len(m.counts) {
		return
	}
	min := sec / 60 * 60
	c := m.counts[op]
	if c == nil {
		c = map[int64]int64{}
		m.counts[op] = c
	}
	if _, ok := c[min]; !ok && len(c) >= MinuteHistory {
		for k := range c {
			if k < min-MinuteHistory*60 {
				delete(c, k)
			}
		}
	}
	c[min]++
}

// minuteCounts returns a copy of op's per-minute accepted calls.
func (s *stats) minuteCounts(op opID) map[int64]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int64]int64, len(s.minutes.counts[op]))
	for k, v := range s.minutes.counts[op] {
		out[k] = v
	}
	return out
}
