package sim

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

const maxAdminBody = 64 << 10

// adminAllowed checks the bearer token when one is configured.
func (s *Server) adminAllowed(w http.ResponseWriter, r *http.Request) bool {
	if s.adminToken == "" {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok && subtle.ConstantTimeCompare([]byte(tok), []byte(s.adminToken)) == 1 {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate-sim"`)
	adminError(w, http.StatusUnauthorized, codeUnauthorizedAdmin, "a bearer token is required")
	return false
}

func adminError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "message": msg})
}

func adminJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func readAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		adminError(w, http.StatusBadRequest, codeAdminInvalidArgument, "body: "+err.Error())
		return false
	}
	return true
}

// QuotaChange is the body of POST /_sim/quotas. Op "*" is the account-wide
// ceiling (rate 0 removes it). Code, when set, changes the throttle code;
// RetryAfter, when set, turns x-amz-retry-after on or off for all
// operations.
type QuotaChange struct {
	Op         string  `json:"op"`
	Rate       float64 `json:"rate"`
	Burst      int     `json:"burst"`
	Code       string  `json:"code,omitempty"`
	RetryAfter *bool   `json:"retry_after,omitempty"`
}

// FaultChange is the body of POST /_sim/faults: an operation (or "*") and
// its faults; a zero Fault clears them.
type FaultChange struct {
	Op string `json:"op"`
	Fault
}

// ResourceChange is the body of POST /_sim/resources.
type ResourceChange struct {
	Name  string `json:"name"`
	Value int    `json:"value"`
}

// serveAdmin serves /_sim/…:
//
//	GET    /_sim/stats[?last=N]   Stats (timeline limited to the last N seconds)
//	POST   /_sim/stats/reset      zero the counters
//	GET    /_sim/quotas           every bucket
//	POST   /_sim/quotas           QuotaChange
//	GET    /_sim/resources        resource quotas
//	POST   /_sim/resources        ResourceChange
//	GET    /_sim/faults           faults by operation
//	POST   /_sim/faults           FaultChange
//	DELETE /_sim/faults[?op=X]    clear faults (all, or one operation)
//	GET    /_sim/info             account, instances and their resource ids
//	GET    /_sim/outage           the outage mode in force (OutageStatus)
//	POST   /_sim/outage           OutageChange: start or end an outage
//	GET    /_sim/healthz          "ok"
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	if path == "/_sim/healthz" {
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	if !s.adminAllowed(w, r) {
		return
	}
	switch r.Method + " " + path {
	case "GET /_sim/stats":
		last, _ := strconv.Atoi(r.URL.Query().Get("last"))
		adminJSON(w, s.StatsLast(last))
	case "POST /_sim/stats/reset":
		s.ResetStats()
		adminJSON(w, map[string]bool{"ok": true})
	case "GET /_sim/quotas":
		adminJSON(w, s.Quotas())
	case "POST /_sim/quotas":
		var c QuotaChange
		if !readAdmin(w, r, &c) {
			return
		}
		if c.Rate != 0 || c.Burst != 0 || c.Op == "*" {
			if err := s.SetQuota(c.Op, c.Rate, c.Burst); err != nil {
				adminError(w, http.StatusBadRequest, codeAdminInvalidArgument, err.Error())
				return
			}
		}
		if c.Code != "" {
			if err := s.SetThrottleCode(c.Op, c.Code); err != nil {
				adminError(w, http.StatusBadRequest, codeAdminInvalidArgument, err.Error())
				return
			}
		}
		if c.RetryAfter != nil {
			s.SetRetryAfter(*c.RetryAfter)
		}
		adminJSON(w, s.Quotas())
	case "GET /_sim/resources":
		s.st.mu.RLock()
		out := make(map[string]int, len(s.st.limits))
		for k, v := range s.st.limits {
			out[k] = v
		}
		s.st.mu.RUnlock()
		adminJSON(w, out)
	case "POST /_sim/resources":
		var c ResourceChange
		if !readAdmin(w, r, &c) {
			return
		}
		if err := s.SetResourceQuota(c.Name, c.Value); err != nil {
			adminError(w, http.StatusBadRequest, codeAdminInvalidArgument, err.Error())
			return
		}
		adminJSON(w, map[string]int{c.Name: c.Value})
	case "GET /_sim/faults":
		adminJSON(w, s.Faults())
	case "POST /_sim/faults":
		var c FaultChange
		if !readAdmin(w, r, &c) {
			return
		}
		if err := s.SetFault(c.Op, c.Fault); err != nil {
			adminError(w, http.StatusBadRequest, codeAdminInvalidArgument, err.Error())
			return
		}
		adminJSON(w, s.Faults())
	case "DELETE /_sim/faults":
		if op := r.URL.Query().Get("op"); op != "" {
			if err := s.SetFault(op, Fault{}); err != nil {
				adminError(w, http.StatusBadRequest, codeAdminInvalidArgument, err.Error())
				return
			}
		} else {
			for i := range s.rt {
				s.rt[i].fault.Store(nil)
			}
		}
		adminJSON(w, s.Faults())
	case "GET /_sim/info":
		adminJSON(w, s.Info())
	case "GET /_sim/outage", "POST /_sim/outage":
		s.serveOutage(w, r)
	default:
		adminError(w, http.StatusNotFound, "NotFound", "no admin endpoint "+r.Method+" "+path)
	}
}

// Info describes the simulated account for humans and scripts.
type Info struct {
	AccountID  string         `json:"account_id"`
	Region     string         `json:"region"`
	Operations []string       `json:"operations"`
	Instances  []InstanceInfo `json:"instances"`
	Campaigns  []NamedID      `json:"campaigns"`
}

// InstanceInfo lists one instance's resources.
type InstanceInfo struct {
	ID               string    `json:"id"`
	Arn              string    `json:"arn"`
	Alias            string    `json:"alias"`
	Queues           []NamedID `json:"queues"`
	ContactFlows     []NamedID `json:"contact_flows"`
	RoutingProfiles  []NamedID `json:"routing_profiles"`
	SecurityProfiles []NamedID `json:"security_profiles"`
	Users            []NamedID `json:"users"`
	PhoneNumbers     []NamedID `json:"phone_numbers"`
}

// NamedID is a resource id with its name.
type NamedID struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

// Info returns the account's instances and resource ids.
func (s *Server) Info() Info {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	info := Info{AccountID: s.o.AccountID, Region: s.o.Region, Operations: Operations()}
	conv := func(list []*resource) []NamedID {
		out := make([]NamedID, 0, len(list))
		for _, r := range list {
			out = append(out, NamedID{ID: r.id, Name: r.name, Type: r.typ})
		}
		return out
	}
	for _, id := range s.st.instanceOrder {
		in := s.st.instances[id]
		ii := InstanceInfo{ID: in.id, Arn: in.arn, Alias: in.alias, Queues: conv(in.queues), ContactFlows: conv(in.flows),
			RoutingProfiles: conv(in.routingProfiles), SecurityProfiles: conv(in.securityProfiles)}
		for _, u := range in.users {
			ii.Users = append(ii.Users, NamedID{ID: u.id, Name: u.username})
		}
		for _, p := range in.phones {
			ii.PhoneNumbers = append(ii.PhoneNumbers, NamedID{ID: p.id, Name: p.number, Type: p.typ})
		}
		info.Instances = append(info.Instances, ii)
	}
	for _, c := range s.st.campaigns {
		info.Campaigns = append(info.Campaigns, NamedID{ID: c.id, Name: c.name, Type: c.state})
	}
	sort.Slice(info.Campaigns, func(i, j int) bool { return info.Campaigns[i].ID < info.Campaigns[j].ID })
	return info
}
