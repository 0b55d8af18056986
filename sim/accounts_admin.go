package sim

import (
	"net/http"
	"strconv"
	"strings"
)

// AccountInfo describes one account of a Multi (GET /_sim/accounts): its
// index, id, the access key that signs as it, its (first) instance and
// that instance's contact flows, queues and campaigns by name, and its
// phone numbers. ContactFlowID, QueueID and PhoneNumber are the first of
// each: the ids a demo dials with. RoleARN is a role STS lets any caller
// assume into the account (any role name is accepted).
type AccountInfo struct {
	Index           int               `json:"index"`
	AccountID       string            `json:"account_id"`
	AccessKeyID     string            `json:"access_key_id"`
	SecretAccessKey string            `json:"secret_access_key"`
	Region          string            `json:"region"`
	RoleARN         string            `json:"role_arn"`
	InstanceID      string            `json:"instance_id"`
	ContactFlowID   string            `json:"contact_flow_id"`
	QueueID         string            `json:"queue_id"`
	PhoneNumber     string            `json:"phone_number"`
	ContactFlows    map[string]string `json:"contact_flows"`
	Queues          map[string]string `json:"queues"`
	PhoneNumbers    []string          `json:"phone_numbers"`
	Campaigns       map[string]string `json:"campaigns"`
	Outage          string            `json:"outage"`
}

// Accounts describes every account, in index order.
func (m *Multi) Accounts() []AccountInfo {
	out := make([]AccountInfo, 0, len(m.accounts))
	for i, s := range m.accounts {
		k := i + 1
		key, secret := AccountKey(k)
		info := s.Info()
		a := AccountInfo{Index: k, AccountID: s.AccountID(), AccessKeyID: key, SecretAccessKey: secret, Region: s.Region(),
			RoleARN:      "arn:aws:iam::" + s.AccountID() + ":role/tollgate",
			ContactFlows: map[string]string{}, Queues: map[string]string{}, PhoneNumbers: []string{}, Campaigns: map[string]string{},
			Outage: s.Outage()}
		byName := func(dst map[string]string, list []NamedID) {
			for _, r := range list {
				if _, dup := dst[r.Name]; !dup {
					dst[r.Name] = r.ID
				}
			}
		}
		if len(info.Instances) > 0 {
			in := info.Instances[0]
			a.InstanceID = in.ID
			byName(a.ContactFlows, in.ContactFlows)
			byName(a.Queues, in.Queues)
			if len(in.ContactFlows) > 0 {
				a.ContactFlowID = in.ContactFlows[0].ID
			}
			if len(in.Queues) > 0 {
				a.QueueID = in.Queues[0].ID
			}
			for _, p := range in.PhoneNumbers {
				a.PhoneNumbers = append(a.PhoneNumbers, p.Name)
			}
			if len(a.PhoneNumbers) > 0 {
				a.PhoneNumber = a.PhoneNumbers[0]
			}
		}
		byName(a.Campaigns, info.Campaigns)
		out = append(out, a)
	}
	return out
}

// serveAdmin serves the admin paths of a Multi:
//
//	GET  /_sim/accounts                 []AccountInfo
//	GET  /_sim/accounts/{k}             account k's AccountInfo
//	*    /_sim/accounts/{k}/<route>     account k's /_sim/<route> (stats, quotas, faults, outage, …)
//	GET  /_sim/accounts/{k}/metrics     account k's Prometheus metrics
//	GET  /_sim/stats[?last=N]           with several accounts: the sum, and "accounts"
//	POST /_sim/stats/reset              with several accounts: resets every account
//
// Every other /_sim/ route is account 1's (Server.serveAdmin).
func (m *Multi) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	a1 := m.accounts[0]
	rest, prefixed := strings.CutPrefix(path, "/_sim/accounts/")
	switch {
	case path == "/_sim/accounts":
		if !a1.adminAllowed(w, r) {
			return
		}
		if r.Method != http.MethodGet {
			adminError(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, "use GET "+path)
			return
		}
		adminJSON(w, m.Accounts())
	case prefixed:
		if !a1.adminAllowed(w, r) {
			return
		}
		ks, sub, _ := strings.Cut(rest, "/")
		k, err := strconv.Atoi(ks)
		if err != nil || k < 1 || k > len(m.accounts) {
			adminError(w, http.StatusNotFound, "NotFound", "no account "+clip(ks)+" (accounts are 1.."+strconv.Itoa(len(m.accounts))+")")
			return
		}
		if sub == "" && r.Method == http.MethodGet {
			adminJSON(w, m.Accounts()[k-1])
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath = "/_sim/"+sub, ""
		if sub == "metrics" {
			u.Path = "/metrics"
		}
		r2.URL = &u
		m.accounts[k-1].ServeHTTP(w, r2)
	case len(m.accounts) > 1 && path == "/_sim/stats" && r.Method == http.MethodGet:
		if !a1.adminAllowed(w, r) {
			return
		}
		last, _ := strconv.Atoi(r.URL.Query().Get("last"))
		adminJSON(w, m.StatsLast(last))
	case len(m.accounts) > 1 && path == "/_sim/stats/reset" && r.Method == http.MethodPost:
		if !a1.adminAllowed(w, r) {
			return
		}
		m.ResetStats()
		adminJSON(w, map[string]bool{"ok": true})
	default:
		a1.ServeHTTP(w, r)
	}
}

// Stats is StatsLast(0).
func (m *Multi) Stats() Stats { return m.StatsLast(0) }

// StatsLast returns the statistics: with one account, exactly its own;
// with several, their sum (counters, per-operation and per-caller counts,
// dial requests, the timeline; active contacts per instance side by side)
// and, in Accounts, each account's own (with its Index).
func (m *Multi) StatsLast(n int) Stats {
	if len(m.accounts) == 1 {
		return m.accounts[0].StatsLast(n)
	}
	parts := make([]Stats, len(m.accounts))
	for i, s := range m.accounts {
		parts[i] = s.StatsLast(n)
		parts[i].Index = i + 1
	}
	return sumStats(parts)
}

// ResetStats zeroes every account's statistics.
func (m *Multi) ResetStats() {
	for _, s := range m.accounts {
		s.ResetStats()
	}
}
