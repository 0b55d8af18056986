package sim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
)

func newMulti(t testing.TB, o Options) *Multi {
	t.Helper()
	m, err := NewMulti(o)
	if err != nil {
		t.Fatalf("NewMulti: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// accountClient is a real Connect client signing as account k.
func accountClient(t testing.TB, h http.Handler, k int) *connect.Client {
	key, secret := AccountKey(k)
	return keyClient(t, h, key, secret, "")
}

func keyClient(t testing.TB, h http.Handler, key, secret, token string) *connect.Client {
	return newClient(t, h, func(o *connect.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(key, secret, token)
	})
}

// admin sends an admin request to h and decodes the JSON answer into out
// (when not nil); it returns the status.
func admin(t testing.TB, h http.Handler, method, path, body string, out any) int {
	t.Helper()
	req := httptest.NewRequest(method, "http://sim.local"+path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if out != nil && rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, rec.Body)
		}
	}
	return rec.Code
}

// fixedClock returns a clock that never moves: bucket tests count tokens,
// not time.
func fixedClock() func() time.Time {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	return func() time.Time { return t0 }
}

// TestSimMultiAccountsIDs: each account has its own id, key, instance,
// flows, queues and phone numbers; a client signing as account k sees
// account k's queues and not another account's instance.
func TestSimMultiAccountsIDs(t *testing.T) {
	m := newMulti(t, Options{Accounts: 3, Seed: 1})
	accts := m.Accounts()
	if len(accts) != 3 {
		t.Fatalf("got %d accounts", len(accts))
	}
	seen := map[string]string{}
	unique := func(what, v string) {
		t.Helper()
		if v == "" {
			t.Fatalf("%s is empty", what)
		}
		if prev, dup := seen[v]; dup {
			t.Fatalf("%s %q is also %s", what, v, prev)
		}
		seen[v] = what
	}
	for i, a := range accts {
		k := i + 1
		key, secret := AccountKey(k)
		if a.Index != k || a.AccountID != MultiAccountID(k) || a.AccessKeyID != key || a.SecretAccessKey != secret {
			t.Fatalf("account %d: %+v", k, a)
		}
		if a.InstanceID == DefaultInstanceID || a.ContactFlowID == DefaultContactFlowID || a.QueueID == DefaultQueueID {
			t.Fatalf("account %d keeps the one-account ids: %+v", k, a)
		}
		unique("instance", a.InstanceID)
		unique("account", a.AccountID)
		unique("phone", a.PhoneNumber)
		for name, id := range a.ContactFlows {
			unique("flow "+name, id)
		}
		for name, id := range a.Queues {
			unique("queue "+name, id)
		}
		if a.ContactFlows["Default outbound"] != a.ContactFlowID || a.Queues["BasicQueue"] != a.QueueID || len(a.Campaigns) != 1 {
			t.Fatalf("account %d: main ids are not the named ones: %+v", k, a)
		}
	}
	if MultiAccountID(1) != "100000000001" || MultiAccountID(2) != "100000000002" {
		t.Fatalf("account ids: %s %s", MultiAccountID(1), MultiAccountID(2))
	}
	for i, a := range accts {
		c := accountClient(t, m, i+1)
		out, err := c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(a.InstanceID), QueueTypes: []types.QueueType{types.QueueTypeStandard}})
		if err != nil {
			t.Fatalf("account %d ListQueues: %v", i+1, err)
		}
		if len(out.QueueSummaryList) != 3 || aws.ToString(out.QueueSummaryList[0].Id) != a.QueueID {
			t.Fatalf("account %d queues: %+v", i+1, out.QueueSummaryList)
		}
		other := accts[(i+1)%len(accts)]
		_, err = c.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(other.InstanceID)})
		asErr[*types.ResourceNotFoundException](t, err)
	}
	// The same seed gives the same ids: a script may note them once.
	again := newMulti(t, Options{Accounts: 3, Seed: 1}).Accounts()
	for i := range accts {
		if again[i].InstanceID != accts[i].InstanceID || again[i].QueueID != accts[i].QueueID {
			t.Fatalf("account %d ids differ between two runs with one seed", i+1)
		}
	}
}

// TestSimMultiOneAccount: with one account the router is today's
// simulator: default ids, any key accepted.
func TestSimMultiOneAccount(t *testing.T) {
	m := newMulti(t, Options{})
	a := m.Accounts()
	if len(a) != 1 || a[0].AccountID != DefaultAccountID || a[0].InstanceID != DefaultInstanceID || a[0].QueueID != DefaultQueueID || a[0].ContactFlowID != DefaultContactFlowID {
		t.Fatalf("one account: %+v", a)
	}
	for _, key := range []string{testAccessKey, "AKIDSIMACCOUNT000001", "AKIDANYTHING"} {
		if _, err := keyClient(t, m, key, "x", "").ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst}); err != nil {
			t.Fatalf("key %s: %v", key, err)
		}
	}
	var st map[string]any
	if code := admin(t, m, "GET", "/_sim/stats", "", &st); code != 200 {
		t.Fatalf("stats: %d", code)
	}
	if _, ok := st["accounts"]; ok {
		t.Fatalf("one account's stats have an accounts array: %v", st)
	}
	if st["account_id"] != DefaultAccountID {
		t.Fatalf("account_id %v", st["account_id"])
	}
	if _, err := NewMulti(Options{Accounts: 2, AccountID: "111111111111"}); err == nil || !strings.Contains(err.Error(), "account_id") {
		t.Fatalf("account_id with accounts 2: %v", err)
	}
	for _, n := range []int{-1, MaxAccounts + 1} {
		if _, err := NewMulti(Options{Accounts: n}); err == nil || !strings.Contains(err.Error(), "accounts: must be in 1..64") {
			t.Fatalf("accounts %d: %v", n, err)
		}
	}
}

// TestSimMultiBucketsIndependent: throttling one account does not throttle
// another; the statistics say which account throttled, and their sum.
func TestSimMultiBucketsIndependent(t *testing.T) {
	m := newMulti(t, Options{Accounts: 2, Now: fixedClock()})
	for k := 1; k <= 2; k++ {
		if code := admin(t, m, "POST", "/_sim/accounts/"+itoa(int64(k))+"/quotas", `{"op":"ListQueues","rate":1,"burst":1}`, nil); code != 200 {
			t.Fatalf("quota %d: %d", k, code)
		}
	}
	accts := m.Accounts()
	list := func(k int) error {
		_, err := accountClient(t, m, k).ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(accts[k-1].InstanceID)})
		return err
	}
	if err := list(1); err != nil {
		t.Fatal(err)
	}
	asErr[*types.ThrottlingException](t, list(1))
	if err := list(2); err != nil {
		t.Fatalf("account 2 throttled by account 1's bucket: %v", err)
	}
	asErr[*types.ThrottlingException](t, list(2))

	var a1, a2 Stats
	admin(t, m, "GET", "/_sim/accounts/1/stats", "", &a1)
	admin(t, m, "GET", "/_sim/accounts/2/stats", "", &a2)
	if a1.AccountID != MultiAccountID(1) || a1.Totals.Throttled != 1 || a2.Totals.Throttled != 1 || a2.Operations["ListQueues"].Accepted != 1 {
		t.Fatalf("per-account stats: %+v / %+v", a1.Totals, a2.Totals)
	}
	if c := a1.Callers[accts[0].AccessKeyID]; c.Requests != 2 {
		t.Fatalf("account 1 callers: %+v", a1.Callers)
	}
}

// TestSimMultiUnknownKey: with several accounts a key of none is refused
// as AWS refuses it, in Connect's error shape; so is a key past the last
// account and an unsigned request.
func TestSimMultiUnknownKey(t *testing.T) {
	m := newMulti(t, Options{Accounts: 2})
	for _, key := range []string{"AKIDNOBODY", "AKIDSIMACCOUNT000003", "AKIDSIMACCOUNT00000x"} {
		_, err := keyClient(t, m, key, "x", "").ListQueues(ctx, &connect.ListQueuesInput{InstanceId: inst})
		if code := genericCode(t, err); code != "UnrecognizedClientException" || httpStatus(t, err) != 403 {
			t.Fatalf("key %s: %v", key, err)
		}
	}
	req := httptest.NewRequest("GET", "http://sim.local/queues-summary/"+DefaultInstanceID, nil)
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)
	if rec.Code != 403 || rec.Header().Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" || !strings.Contains(rec.Body.String(), `"Message"`) {
		t.Fatalf("unsigned: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	var st Stats
	admin(t, m, "GET", "/_sim/stats", "", &st)
	if st.Totals.Requests != 0 {
		t.Fatalf("refused requests were counted in an account: %+v", st.Totals)
	}
}

// TestSimMultiStats: GET /_sim/stats sums every account's counters (the
// fields scripts read) and lists each account's own.
func TestSimMultiStats(t *testing.T) {
	m := newMulti(t, Options{Accounts: 3, Seed: 4, CallDuration: Distribution{Kind: DistFixed, Min: 90 * time.Second, Max: 90 * time.Second}})
	for i, a := range m.Accounts() {
		c := accountClient(t, m, i+1)
		for j := 0; j <= i; j++ { // account k starts k calls
			in := &connect.StartOutboundVoiceContactInput{InstanceId: aws.String(a.InstanceID), ContactFlowId: aws.String(a.ContactFlowID),
				QueueId: aws.String(a.QueueID), DestinationPhoneNumber: aws.String("+12065550100"), ClientToken: aws.String("tok-" + itoa(int64(j)))}
			if _, err := c.StartOutboundVoiceContact(ctx, in); err != nil {
				t.Fatalf("account %d: %v", i+1, err)
			}
			if j == 0 { // the same token again: deduplicated
				if _, err := c.StartOutboundVoiceContact(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "http://sim.local/_sim/stats", nil))
	var raw map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	num := func(path ...string) float64 {
		var v any = raw
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		f, _ := v.(float64)
		return f
	}
	if num("contacts_started") != 6 || num("duplicate_client_tokens") != 3 || num("rejected_reorder") != 0 ||
		num("operations", "StartOutboundVoiceContact", "requests") != 9 || num("totals", "throttled") != 0 || num("call_seconds") != 6*90 {
		t.Fatalf("summed stats: %s", rec.Body)
	}
	accts, _ := raw["accounts"].([]any)
	if len(accts) != 3 {
		t.Fatalf("accounts: %v", raw["accounts"])
	}
	for i, a := range accts {
		a := a.(map[string]any)
		if a["index"] != float64(i+1) || a["account_id"] != MultiAccountID(i+1) || a["contacts_started"] != float64(i+1) {
			t.Fatalf("account %d: index %v id %v started %v", i+1, a["index"], a["account_id"], a["contacts_started"])
		}
	}
	var st Stats
	admin(t, m, "GET", "/_sim/stats", "", &st)
	if len(st.Active) != 3 || st.Callers[AccountKeyID(2)].Requests != 3 {
		t.Fatalf("active %v callers %v", st.Active, st.Callers)
	}
	if code := admin(t, m, "POST", "/_sim/stats/reset", "", nil); code != 200 {
		t.Fatal(code)
	}
	admin(t, m, "GET", "/_sim/stats", "", &st)
	if st.ContactsStarted != 0 || st.Accounts[2].Totals.Requests != 0 {
		t.Fatalf("reset left %+v", st)
	}
}

// AccountKeyID is AccountKey's access key id (test shorthand).
func AccountKeyID(k int) string { key, _ := AccountKey(k); return key }

// TestSimMultiAdminRoutes: /_sim/accounts lists the accounts; every admin
// route is also under /_sim/accounts/{k}/ and acts on account k only; the
// unprefixed routes act on account 1; the admin token guards them all.
func TestSimMultiAdminRoutes(t *testing.T) {
	m := newMulti(t, Options{Accounts: 2, AdminToken: "tok"})
	get := func(path string, out any) int {
		t.Helper()
		req := httptest.NewRequest("GET", "http://sim.local"+path, nil)
		req.Header.Set("Authorization", "Bearer tok")
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		if out != nil && rec.Code == 200 {
			if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		return rec.Code
	}
	if code := admin(t, m, "GET", "/_sim/accounts", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	if code := admin(t, m, "GET", "/_sim/accounts/2/stats", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("no token, prefixed: %d", code)
	}
	var list []map[string]any
	if code := get("/_sim/accounts", &list); code != 200 || len(list) != 2 {
		t.Fatalf("accounts: %d %v", code, list)
	}
	for _, key := range []string{"index", "account_id", "access_key_id", "instance_id", "contact_flows", "queues", "phone_numbers"} {
		if _, ok := list[1][key]; !ok {
			t.Fatalf("account entry lacks %q: %v", key, list[1])
		}
	}
	var one AccountInfo
	if code := get("/_sim/accounts/2", &one); code != 200 || one.AccountID != MultiAccountID(2) || one.Index != 2 {
		t.Fatalf("account 2: %d %+v", code, one)
	}
	var info Info
	if code := get("/_sim/accounts/2/info", &info); code != 200 || info.AccountID != MultiAccountID(2) {
		t.Fatalf("account 2 info: %d %+v", code, info.AccountID)
	}
	if code := get("/_sim/info", &info); code != 200 || info.AccountID != MultiAccountID(1) {
		t.Fatalf("unprefixed info: %d %s", code, info.AccountID)
	}
	for _, p := range []string{"/_sim/accounts/3/stats", "/_sim/accounts/0/info", "/_sim/accounts/x/info", "/_sim/accounts/2/nothing"} {
		if code := get(p, nil); code != 404 {
			t.Fatalf("%s: %d", p, code)
		}
	}
	if code := get("/_sim/accounts/2/metrics", nil); code != 200 {
		t.Fatalf("account 2 metrics: %d", code)
	}
	req := httptest.NewRequest("POST", "http://sim.local/_sim/accounts/2/faults", strings.NewReader(`{"op":"ListQueues","error_rate":1}`))
	req.Header.Set("Authorization", "Bearer tok")
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)
	if rec.Code != 200 || len(m.Account(2).Faults()) != 1 || len(m.Account(1).Faults()) != 0 {
		t.Fatalf("account 2 fault: %d %s; account 1 faults %v", rec.Code, rec.Body, m.Account(1).Faults())
	}
	if m.Account(0) != nil || m.Account(3) != nil || m.Len() != 2 {
		t.Fatal("Account out of range")
	}
}

// TestSimMultiSeed: a seed file's ids and references are remapped per
// account consistently (users keep their profiles, a campaign its
// instance) and phone numbers move per account.
func TestSimMultiSeed(t *testing.T) {
	sd := &Seed{
		Instances: []SeedInstance{{ID: "inst-a", Queues: []SeedResource{{ID: "q-1", Name: "sales"}}, ContactFlows: []SeedResource{{ID: "f-1", Name: "outbound-sales"}},
			RoutingProfiles: []SeedResource{{ID: "rp-1", Name: "RP"}}, SecurityProfiles: []SeedResource{{ID: "sp-1", Name: "SP"}},
			Users:        []SeedUser{{Username: "u", RoutingProfileID: "rp-1", SecurityProfileIDs: []string{"sp-1"}}},
			PhoneNumbers: []SeedPhone{{ID: "p-1", Number: "+12065559950"}}}},
		Campaigns: []SeedCampaign{{ID: "c-1", Name: "spring", InstanceID: "inst-a"}},
	}
	m := newMulti(t, Options{Accounts: 2, State: sd})
	a := m.Accounts()
	if a[0].InstanceID == a[1].InstanceID || a[0].Queues["sales"] == a[1].Queues["sales"] || a[0].Campaigns["spring"] == a[1].Campaigns["spring"] {
		t.Fatalf("ids shared: %+v", a)
	}
	if a[0].PhoneNumber != "+12065559950" || a[1].PhoneNumber != "+12065550050" {
		t.Fatalf("phones %s %s", a[0].PhoneNumber, a[1].PhoneNumber)
	}
	if sd.Instances[0].ID != "inst-a" {
		t.Fatal("the caller's seed was changed")
	}
	for k := 1; k <= 2; k++ {
		info := m.Account(k).Info()
		if len(info.Campaigns) != 1 || len(info.Instances[0].Users) != 1 {
			t.Fatalf("account %d: %+v", k, info)
		}
		mustInvariants(t, m.Account(k))
	}
	for i, st := range []struct {
		in   string
		k    int
		want string
	}{
		{"+12025550100", 1, "+12025550100"},
		{"+12025550100", 2, "+12025550200"},
		{"+12025559999", 3, "+12025550199"},
		{"+1", 5, "+1"},
		{"+1202555-100", 2, "+1202555-100"},
	} {
		if got := shiftNumber(st.in, st.k); got != st.want {
			t.Errorf("step %d: shiftNumber(%s, %d) = %s want %s", i, st.in, st.k, got, st.want)
		}
	}
}

// TestSimMultiContactEvents: every account publishes its calls' contact
// events to the one sink, each with its own account id and instance.
func TestSimMultiContactEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &sinkRecorder{}
		m := newMulti(t, Options{Accounts: 2, ContactEvents: rec, CallDuration: Distribution{Kind: DistFixed, Min: 3 * time.Second, Max: 3 * time.Second}})
		ids := map[string]int{}
		for i, a := range m.Accounts() {
			out, err := accountClient(t, m, i+1).StartOutboundVoiceContact(t.Context(), &connect.StartOutboundVoiceContactInput{
				InstanceId: aws.String(a.InstanceID), ContactFlowId: aws.String(a.ContactFlowID), QueueId: aws.String(a.QueueID),
				DestinationPhoneNumber: aws.String("+12065550100"), SourcePhoneNumber: aws.String(a.PhoneNumber)})
			if err != nil {
				t.Fatalf("account %d: %v", i+1, err)
			}
			ids[aws.ToString(out.ContactId)] = i + 1
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		_ = m.Close()
		for id, k := range ids {
			types, _, evs := rec.of(id)
			if len(types) != 3 {
				t.Fatalf("account %d contact %s: events %v", k, id, types)
			}
			for _, ev := range evs {
				if ev.Account != MultiAccountID(k) || ev.InstanceID() != m.Accounts()[k-1].InstanceID {
					t.Fatalf("account %d: event of account %s instance %s", k, ev.Account, ev.InstanceID())
				}
			}
		}
		if st := m.Stats(); st.ContactEvents != 6 {
			t.Fatalf("contact_events summed: %d", st.ContactEvents)
		}
	})
}
