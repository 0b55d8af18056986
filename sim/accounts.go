package sim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// MaxAccounts bounds Options.Accounts.
const MaxAccounts = 64

// accountSeedStride separates the seeds of the accounts NewMulti builds.
const accountSeedStride = 0x5bd1e995

// MultiAccountID returns the account id of account k (1-based) when the
// simulator serves several: 100000000001, 100000000002, …
func MultiAccountID(k int) string { return fmt.Sprintf("%012d", 100000000000+k) }

// AccountKey returns the access key id and secret that sign as account k
// (1-based): AKIDSIMACCOUNT000001 and sim-secret-1, … The secret is checked
// only when signatures are verified (Options.Credentials set).
func AccountKey(k int) (accessKeyID, secret string) {
	return fmt.Sprintf("AKIDSIMACCOUNT%06d", k), "sim-secret-" + strconv.Itoa(k)
}

// accountOfKey returns k for an access key id of AccountKey's form.
func accountOfKey(akid string) (int, bool) {
	const p = "AKIDSIMACCOUNT"
	if len(akid) != len(p)+6 || !strings.HasPrefix(akid, p) {
		return 0, false
	}
	k := 0
	for _, c := range akid[len(p):] {
		if c < '0' || c > '9' {
			return 0, false
		}
		k = k*10 + int(c-'0')
	}
	return k, k > 0
}

// Multi serves Options.Accounts simulated accounts on one endpoint: an
// http.Handler in front of one Server per account, each with its own
// state (instance, contact flows, queues, phone numbers, campaigns),
// buckets, statistics, contacts, faults and outage switch. The access key
// of a request's SigV4 Authorization header chooses the account
// (AccountKey, the temporary keys its STS issued, and Options.Credentials'
// keys for account 1); with several accounts an unknown key gets 403
// UnrecognizedClientException. It also serves STS AssumeRole and
// GetCallerIdentity (sts.go) and the admin routes of every account under
// /_sim/accounts/{k}/ (accounts_admin.go).
//
// With one account (the default) it is exactly the Server New builds
// (account 123456789012, the default ids), plus STS and /_sim/accounts.
type Multi struct {
	o          Options   // defaults filled
	accounts   []*Server // account k is accounts[k-1]
	byAccount  map[string]int
	creds      map[string]string // Options.Credentials: keys of account 1
	verify     bool
	adminToken string
	sts        *stsService
}

// NewMulti builds the accounts of o (o.Accounts of them; see Multi). With
// several accounts, account k's id is MultiAccountID(k), its state is o.State
// (or DefaultSeed) with every id replaced by one derived from the account,
// phone numbers moved by 100·(k-1) in their last four digits, and its random
// choices seeded from o.Seed and k; o.AccountID must then be empty.
func NewMulti(o Options) (*Multi, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Multi{o: o, byAccount: map[string]int{}, creds: o.Credentials, verify: len(o.Credentials) > 0, adminToken: o.AdminToken}
	if m.adminToken == "" && m.verify {
		var tb [16]byte
		_, _ = rand.Read(tb[:])
		m.adminToken = hex.EncodeToString(tb[:])
	}
	m.sts = newSTS(m)
	n := o.Accounts
	base := o.State
	if base == nil {
		base = DefaultSeed()
	}
	for k := 1; k <= n; k++ {
		ao := o
		ao.Accounts = 1
		if n > 1 {
			ao.AccountID = MultiAccountID(k)
			ao.Seed = o.Seed + int64(k)*accountSeedStride
			ao.State = accountSeed(base, ao.AccountID, k)
			ao.Logger = o.Logger.With("account", ao.AccountID)
		}
		ao.AdminToken = m.adminToken
		if m.verify {
			ao.secrets = m.secret
		}
		s, err := New(ao)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("account %d: %w", k, err)
		}
		m.accounts = append(m.accounts, s)
		m.byAccount[s.AccountID()] = k
	}
	return m, nil
}

// Len returns the number of accounts.
func (m *Multi) Len() int { return len(m.accounts) }

// Account returns account k (1-based), or nil.
func (m *Multi) Account(k int) *Server {
	if k < 1 || k > len(m.accounts) {
		return nil
	}
	return m.accounts[k-1]
}

// AdminToken returns the bearer token /_sim/ and /metrics require, or ""
// when they are open.
func (m *Multi) AdminToken() string { return m.adminToken }

// Close closes every account (Server.Close).
func (m *Multi) Close() error {
	for _, s := range m.accounts {
		_ = s.Close()
	}
	return nil
}

// releaseHeld answers the requests every account's outage holds
// (ListenAndServe's shutdown).
func (m *Multi) releaseHeld() {
	for _, s := range m.accounts {
		s.releaseHeld()
	}
}

// secret looks up the signing secret of an access key: Options.Credentials,
// AccountKey's keys and unexpired STS keys.
func (m *Multi) secret(akid string) (string, bool) {
	if s, ok := m.creds[akid]; ok {
		return s, true
	}
	if k, ok := accountOfKey(akid); ok && k <= len(m.accounts) {
		_, s := AccountKey(k)
		return s, true
	}
	if t, ok := m.sts.lookup(akid); ok && m.o.Now().Before(t.expires) {
		return t.secret, true
	}
	return "", false
}

// ServeHTTP routes a request: admin paths (accounts_admin.go), STS
// (sts.go), otherwise to the account its access key signs for.
func (m *Multi) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim") {
		m.serveAdmin(w, r)
		return
	}
	if isSTS(r) {
		m.sts.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == "/metrics" {
		m.accounts[0].ServeHTTP(w, r)
		return
	}
	s, e := m.route(r)
	if e != nil {
		a1 := m.accounts[0]
		now := m.o.Now()
		op, _, _ := route(r.Method, r.URL.EscapedPath())
		writeError(w, e, a1.ids.next(), a1.dates.get(now), int(op) < len(ops) && ops[op].campaigns, false)
		return
	}
	s.ServeHTTP(w, r)
}

// route picks the account of a Connect request by its signing key.
func (m *Multi) route(r *http.Request) (*Server, *apiError) {
	key := callerKey(r.Header.Get("Authorization"))
	if k, ok := accountOfKey(key); ok && k <= len(m.accounts) {
		return m.accounts[k-1], nil
	}
	if t, ok := m.sts.lookup(key); ok {
		if !m.o.Now().Before(t.expires) {
			return nil, errf(codeExpiredToken, "The security token included in the request is expired")
		}
		if m.verify && r.Header.Get("X-Amz-Security-Token") != t.token {
			return nil, errf(codeUnrecognizedClient, "The security token included in the request is invalid.")
		}
		return m.accounts[t.index-1], nil
	}
	if _, ok := m.creds[key]; ok || len(m.accounts) == 1 {
		return m.accounts[0], nil
	}
	if key == "" {
		return nil, errf(codeMissingAuthToken, "Missing Authentication Token")
	}
	return nil, errf(codeUnrecognizedClient, "The security token included in the request is invalid.")
}
