package sim

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/internal/uuid"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// state is the simulated account. One RWMutex guards everything in it; the
// methods say "requires mu held" where they do.
type state struct {
	mu      sync.RWMutex
	account string
	region  string
	rng     *rand.Rand // requires mu held

	limits   map[string]int // resource quotas by quotas name; requires mu held
	maxCtc   int
	maxToken int

	instances       map[string]*instance
	instanceOrder   []string
	campaigns       map[string]*campaign
	tokens          tokenStore
	dialRate        float64
	dialBurst       int
	callDur         Distribution
	chatDur         Distribution
	taskDur         Distribution
	createdAt       time.Time
	seededInstances int
	participantCtr  int
}

type instance struct {
	id, arn, alias, identity  string
	created                   time.Time
	inbound, outbound         bool
	attrs                     map[string]string // set by UpdateInstanceAttribute (ops_attributes.go)
	seededUsers, seededPhones int

	queues           []*resource
	flows            []*resource
	routingProfiles  []*resource
	securityProfiles []*resource
	agentStatuses    []*resource
	byID             map[string]*resource // queues, flows, profiles, statuses

	users     []*user
	userByID  map[string]*user
	usernames map[string]*user

	phones      []*phone
	phoneByID   map[string]*phone
	phoneByNum  map[string]*phone
	contacts    map[string]*contact
	contactFIFO []string
	fifoHead    int
	active      [numChannels]contactHeap
	tasksByPrev map[string]int
}

type resource struct {
	id, arn, name, typ, kind string
	modified                 time.Time
}

type user struct {
	id, arn, username         string
	first, last, email        string
	routingProfile            string
	securityProfiles          []string
	hierarchyGroup, directory string
	phoneType                 string
	autoAccept                bool
	acw                       int32
	deskPhone                 string
	tags                      map[string]string
	modified                  time.Time
	describe                  []byte // DescribeUser response, built once (users do not change)
}

type phone struct {
	id, arn, number, typ, country, desc string
}

type campaign struct {
	id, arn, name, instanceID, state string
	dial                             ratelimit.Bucket // requires mu held
}

type channel int

const (
	chVoice channel = iota
	chChat
	chTask
	numChannels
)

func (c channel) String() string { return [...]string{"VOICE", "CHAT", "TASK"}[c] }

type contact struct {
	id         string
	ch         channel
	start, end time.Time
	attrs      map[string]string
	prev       string    // tasks: PreviousContactId
	idx        int       // index in the active heap, -1 when not active
	reorder    bool      // rejected with a fast-busy tone
	connected  time.Time // voice: when it was answered (zero: never)
	reason     string    // DisconnectReason once ended ("" means CUSTOMER_DISCONNECT)
	endSent    bool      // the DISCONNECTED event was published
}

// contactHeap orders active contacts by end time.
type contactHeap []*contact

func (h contactHeap) Len() int           { return len(h) }
func (h contactHeap) Less(i, j int) bool { return h[i].end.Before(h[j].end) }
func (h contactHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].idx = i; h[j].idx = j }
func (h *contactHeap) Push(x any)        { c := x.(*contact); c.idx = len(*h); *h = append(*h, c) }
func (h *contactHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	c.idx = -1
	return c
}

func newState(o Options, seed *Seed, now time.Time) (*state, error) {
	if seed == nil {
		seed = DefaultSeed()
	}
	if err := seed.validate(); err != nil {
		return nil, err
	}
	st := &state{
		account:   o.AccountID,
		region:    o.Region,
		rng:       rand.New(rand.NewPCG(uint64(o.Seed), 0x70116a7e)),
		limits:    map[string]int{},
		maxCtc:    DefaultMaxContact,
		maxToken:  DefaultMaxTokens,
		instances: map[string]*instance{},
		campaigns: map[string]*campaign{},
		tokens:    tokenStore{m: map[string]tokenEntry{}},
		dialRate:  o.DialRate * o.RateScale,
		dialBurst: max(1, int(float64(o.DialBurst)*o.RateScale+0.999999)),
		callDur:   o.CallDuration,
		chatDur:   o.ChatDuration,
		taskDur:   o.TaskDuration,
		createdAt: now,
	}
	for _, r := range o.Quotas.Resources() {
		st.limits[r.Name] = r.Default
	}
	for _, name := range []string{quotas.InstancesPerAccount, quotas.UsersPerInstance, quotas.PhoneNumbersPerInstance,
		quotas.ConcurrentActiveCalls, quotas.ConcurrentActiveChats, quotas.ConcurrentActiveTasks, quotas.TasksPerPreviousContactID} {
		if _, ok := st.limits[name]; !ok {
			return nil, fmt.Errorf("quotas: resource %q is missing from the quota table", name)
		}
	}
	for _, si := range seed.Instances {
		in := st.addInstance(si.ID, si.Alias, si.IdentityManagementType, true, true, now)
		add := func(list []SeedResource, kind, defType string) []*resource {
			out := make([]*resource, 0, len(list))
			for _, r := range list {
				id := r.ID
				if id == "" {
					id = st.newID()
				}
				typ := r.Type
				if typ == "" {
					typ = defType
				}
				res := &resource{id: id, arn: in.arn + "/" + kind + "/" + id, name: r.Name, typ: typ, kind: kind, modified: now}
				in.byID[id] = res
				out = append(out, res)
			}
			return out
		}
		in.queues = add(si.Queues, "queue", "STANDARD")
		in.flows = add(si.ContactFlows, "contact-flow", "CONTACT_FLOW")
		in.routingProfiles = add(si.RoutingProfiles, "routing-profile", "")
		in.securityProfiles = add(si.SecurityProfiles, "security-profile", "")
		in.agentStatuses = add(si.AgentStatuses, "agent-state", "CUSTOM")
		if len(in.routingProfiles) == 0 {
			in.routingProfiles = add([]SeedResource{{Name: "Basic Routing Profile"}}, "routing-profile", "")
		}
		if len(in.securityProfiles) == 0 {
			in.securityProfiles = add([]SeedResource{{Name: "Agent"}}, "security-profile", "")
		}
		for j, su := range si.Users {
			rp := su.RoutingProfileID
			if rp == "" {
				rp = in.routingProfiles[0].id
			} else if r := in.byID[rp]; r == nil || r.kind != "routing-profile" {
				return nil, fmt.Errorf("state.instances[%s].users[%d].routing_profile_id: no routing profile %q", in.id, j, rp)
			}
			sps := su.SecurityProfileIDs
			if len(sps) == 0 {
				sps = []string{in.securityProfiles[0].id}
			}
			for _, sp := range sps {
				if r := in.byID[sp]; r == nil || r.kind != "security-profile" {
					return nil, fmt.Errorf("state.instances[%s].users[%d].security_profile_ids: no security profile %q", in.id, j, sp)
				}
			}
			id := su.ID
			if id == "" {
				id = st.newID()
			}
			in.addUser(&user{id: id, username: su.Username, first: su.FirstName, last: su.LastName, email: su.Email,
				routingProfile: rp, securityProfiles: sps, phoneType: "SOFT_PHONE", modified: now}, st.region)
		}
		for _, sp := range si.PhoneNumbers {
			id := sp.ID
			if id == "" {
				id = st.newID()
			}
			typ, cc := sp.Type, sp.CountryCode
			if typ == "" {
				typ = "DID"
			}
			if cc == "" {
				cc = countryOf(sp.Number)
			}
			in.addPhone(&phone{id: id, arn: st.phoneARN(id), number: sp.Number, typ: typ, country: cc, desc: sp.Description})
		}
	}
	st.seededInstances = len(st.instances)
	for _, in := range st.instances {
		in.seededUsers, in.seededPhones = len(in.users), len(in.phones)
	}
	for _, sc := range seed.Campaigns {
		id := sc.ID
		if id == "" {
			id = st.newID()
		}
		inst := sc.InstanceID
		if inst == "" {
			inst = st.instanceOrder[0]
		}
		state := sc.State
		if state == "" {
			state = "Running"
		}
		st.campaigns[id] = &campaign{id: id, name: sc.Name, instanceID: inst, state: state,
			arn:  "arn:aws:connect-campaigns:" + st.region + ":" + st.account + ":campaign/" + id,
			dial: ratelimit.NewBucket(ratelimit.Limit{Rate: st.dialRate, Burst: float64(st.dialBurst)}, now)}
	}
	return st, nil
}

// addInstance requires mu held (or construction).
func (st *state) addInstance(id, alias, identity string, inbound, outbound bool, now time.Time) *instance {
	if id == "" {
		id = st.newID()
	}
	if identity == "" {
		identity = "CONNECT_MANAGED"
	}
	if alias == "" {
		alias = "instance-" + id[:8]
	}
	in := &instance{
		id: id, arn: "arn:aws:connect:" + st.region + ":" + st.account + ":instance/" + id,
		alias: alias, identity: identity, created: now, inbound: inbound, outbound: outbound,
		byID: map[string]*resource{}, userByID: map[string]*user{}, usernames: map[string]*user{},
		phoneByID: map[string]*phone{}, phoneByNum: map[string]*phone{},
		contacts: map[string]*contact{}, tasksByPrev: map[string]int{},
	}
	st.instances[id] = in
	st.instanceOrder = append(st.instanceOrder, id)
	return in
}

func (in *instance) addUser(u *user, region string) {
	u.arn = in.arn + "/agent/" + u.id
	u.describe, _ = json.Marshal(struct{ User userOut }{makeUserOut(u, region, true)})
	in.users = append(in.users, u)
	in.userByID[u.id] = u
	in.usernames[u.username] = u
}

func (in *instance) addPhone(p *phone) {
	in.phones = append(in.phones, p)
	in.phoneByID[p.id] = p
	in.phoneByNum[p.number] = p
}

func (st *state) phoneARN(id string) string {
	return "arn:aws:connect:" + st.region + ":" + st.account + ":phone-number/" + id
}

// newID returns a seeded UUIDv4; requires mu held.
func (st *state) newID() string {
	var b [16]byte
	a, c := st.rng.Uint64(), st.rng.Uint64()
	for i := 0; i < 8; i++ {
		b[i] = byte(a >> (8 * i))
		b[8+i] = byte(c >> (8 * i))
	}
	return uuid.V4(b)
}

// newToken returns a random opaque token; requires mu held.
func (st *state) newToken(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[st.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// instance resolves an InstanceId given as an id or an instance ARN;
// requires mu held (read).
func (st *state) instance(idOrARN string) *instance {
	if strings.HasPrefix(idOrARN, "arn:") {
		i := strings.LastIndex(idOrARN, "instance/")
		if i < 0 {
			return nil
		}
		idOrARN = idOrARN[i+len("instance/"):]
		if j := strings.IndexByte(idOrARN, '/'); j >= 0 {
			idOrARN = idOrARN[:j]
		}
	}
	return st.instances[idOrARN]
}

// prune ends the contacts whose time is up; requires mu held (write).
func (in *instance) prune(now time.Time) {
	for ch := range in.active {
		h := &in.active[ch]
		for h.Len() > 0 && !(*h)[0].end.After(now) {
			c := heap.Pop(h).(*contact)
			if c.prev != "" {
				in.decPrev(c.prev)
			}
		}
	}
}

func (in *instance) decPrev(prev string) {
	if in.tasksByPrev[prev] <= 1 {
		delete(in.tasksByPrev, prev)
	} else {
		in.tasksByPrev[prev]--
	}
}

// activeCount requires mu held (write) and a prior prune.
func (in *instance) activeCount(ch channel) int { return in.active[ch].Len() }

// addContact stores c, makes it active unless it already ended, and evicts
// the oldest remembered contacts beyond max; requires mu held (write).
func (in *instance) addContact(c *contact, maxContacts int) {
	c.idx = -1
	in.contacts[c.id] = c
	in.contactFIFO = append(in.contactFIFO, c.id)
	if c.end.After(c.start) {
		heap.Push(&in.active[c.ch], c)
		if c.prev != "" {
			in.tasksByPrev[c.prev]++
		}
	}
	for len(in.contactFIFO)-in.fifoHead > maxContacts {
		old := in.contactFIFO[in.fifoHead]
		in.contactFIFO[in.fifoHead] = ""
		in.fifoHead++
		if oc := in.contacts[old]; oc != nil && oc.idx < 0 {
			delete(in.contacts, old)
		}
	}
	if in.fifoHead > 1024 && in.fifoHead*2 > len(in.contactFIFO) {
		in.contactFIFO = append([]string(nil), in.contactFIFO[in.fifoHead:]...)
		in.fifoHead = 0
	}
}

// stopContact ends an active contact now; requires mu held (write).
func (in *instance) stopContact(c *contact, now time.Time) {
	if c.idx >= 0 {
		heap.Remove(&in.active[c.ch], c.idx)
		if c.prev != "" {
			in.decPrev(c.prev)
		}
	}
	c.end = now
	c.reason = ReasonOther // what Connect records for a disconnect by API
}

// tokenStore remembers ClientTokens for 7 days (bounded by maxToken,
// oldest evicted first). Requires state.mu held (write).
type tokenStore struct {
	m    map[string]tokenEntry
	fifo []string
	head int
}

type tokenEntry struct {
	id  string
	exp time.Time
}

func (t *tokenStore) get(key string, now time.Time) (string, bool) {
	e, ok := t.m[key]
	if !ok || !now.Before(e.exp) {
		return "", false
	}
	return e.id, true
}

func (t *tokenStore) put(key, id string, now time.Time, maxN int) {
	if _, ok := t.m[key]; !ok {
		t.fifo = append(t.fifo, key)
	}
	t.m[key] = tokenEntry{id: id, exp: now.Add(clientTokenTTL)}
	for t.head < len(t.fifo) {
		k := t.fifo[t.head]
		e, ok := t.m[k]
		if ok && len(t.fifo)-t.head <= maxN && now.Before(e.exp) {
			break
		}
		delete(t.m, k)
		t.fifo[t.head] = ""
		t.head++
	}
	if t.head > 1024 && t.head*2 > len(t.fifo) {
		t.fifo = append([]string(nil), t.fifo[t.head:]...)
		t.head = 0
	}
}

func countryOf(num string) string {
	switch {
	case strings.HasPrefix(num, "+1"):
		return "US"
	case strings.HasPrefix(num, "+44"):
		return "GB"
	case strings.HasPrefix(num, "+49"):
		return "DE"
	case strings.HasPrefix(num, "+33"):
		return "FR"
	case strings.HasPrefix(num, "+61"):
		return "AU"
	case strings.HasPrefix(num, "+81"):
		return "JP"
	}
	return "US"
}

// checkInvariants verifies the state's internal consistency (used by tests
// and the fuzz target); requires mu held (read).
func (st *state) checkInvariants(now time.Time) error {
	if n := len(st.instances); n != len(st.instanceOrder) {
		return fmt.Errorf("instances: map has %d, order has %d", n, len(st.instanceOrder))
	}
	if n := len(st.instances); n > max(st.limits[quotas.InstancesPerAccount], st.seededInstances) {
		return fmt.Errorf("instances: %d exceed the quota %d", n, st.limits[quotas.InstancesPerAccount])
	}
	for id, in := range st.instances {
		if len(in.users) != len(in.userByID) || len(in.users) != len(in.usernames) {
			return fmt.Errorf("instance %s: user indexes disagree (%d/%d/%d)", id, len(in.users), len(in.userByID), len(in.usernames))
		}
		if n := len(in.users); n > max(st.limits[quotas.UsersPerInstance], in.seededUsers) {
			return fmt.Errorf("instance %s: %d users exceed the quota %d", id, n, st.limits[quotas.UsersPerInstance])
		}
		if n := len(in.phones); n > max(st.limits[quotas.PhoneNumbersPerInstance], in.seededPhones) {
			return fmt.Errorf("instance %s: %d phone numbers exceed the quota %d", id, n, st.limits[quotas.PhoneNumbersPerInstance])
		}
		if len(in.phones) != len(in.phoneByID) || len(in.phones) != len(in.phoneByNum) {
			return fmt.Errorf("instance %s: phone indexes disagree", id)
		}
		limits := [numChannels]int{st.limits[quotas.ConcurrentActiveCalls], st.limits[quotas.ConcurrentActiveChats], st.limits[quotas.ConcurrentActiveTasks]}
		for ch := range in.active {
			h := in.active[ch]
			if h.Len() > limits[ch] && limits[ch] > 0 {
				// Only possible if an admin lowered the quota below the active count.
				return fmt.Errorf("instance %s: %d active %s contacts exceed the quota %d", id, h.Len(), channel(ch), limits[ch])
			}
			for i, c := range h {
				if c.idx != i || c.ch != channel(ch) {
					return fmt.Errorf("instance %s: heap index broken at %d", id, i)
				}
			}
		}
	}
	if len(st.tokens.m) > len(st.tokens.fifo)-st.tokens.head {
		return fmt.Errorf("client tokens: map has %d, queue has %d", len(st.tokens.m), len(st.tokens.fifo)-st.tokens.head)
	}
	_ = now
	return nil
}
