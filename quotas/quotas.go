package quotas

import (
	"fmt"
	"sort"
	"strings"
)

// Scope says what a rate quota is counted against.
type Scope string

// Scopes of API rate quotas.
const (
	ScopeAccount  Scope = "account"  // per account and Region (every Connect API)
	ScopeInstance Scope = "instance" // per Connect instance (Participant Service)
)

// API is the rate quota of one API operation.
type API struct {
	Op            string  // operation name, e.g. "StartOutboundVoiceContact"
	Rate          float64 // steady requests per second
	Burst         int     // bucket size in requests
	Code          string  // Service Quotas code, e.g. "L-4E9BCC96"; empty if none is known
	Adjustable    bool    // whether AWS accepts an increase request
	BurstVerified bool    // false when the burst is inferred, not published
	Scope         Scope
	Service       string // "connect" or "connect-campaigns"
}

// Resource is an account or instance resource quota (not a rate).
type Resource struct {
	Name       string // key, e.g. "concurrent-active-chats"
	Title      string // Service Quotas name
	Code       string // Service Quotas code
	Default    int
	Scope      Scope
	Adjustable bool
	Note       string
}

// Table is a set of API and resource quotas. The zero value is empty; use
// Default for the published defaults. A Table is not safe for concurrent
// mutation; treat a built table as read-only.
type Table struct {
	apis      map[string]API
	resources map[string]Resource
}

// DefaultRate and DefaultBurst apply to any Connect operation not listed:
// the admin guide's "all other operations" rule.
const (
	DefaultRate  = 2.0
	DefaultBurst = 5
)

// Default returns a fresh copy of the published default quotas.
func Default() *Table {
	t := &Table{apis: make(map[string]API, len(defaultAPIs)), resources: make(map[string]Resource, len(defaultResources))}
	for _, a := range defaultAPIs {
		if a.Scope == "" {
			a.Scope = ScopeAccount
		}
		if a.Service == "" {
			a.Service = "connect"
		}
		t.apis[a.Op] = a
	}
	for _, r := range defaultResources {
		t.resources[r.Name] = r
	}
	return t
}

// Clone returns a deep copy of t.
func (t *Table) Clone() *Table {
	c := &Table{apis: make(map[string]API, len(t.apis)), resources: make(map[string]Resource, len(t.resources))}
	for k, v := range t.apis {
		c.apis[k] = v
	}
	for k, v := range t.resources {
		c.resources[k] = v
	}
	return c
}

// API returns the rate quota of op. Operations not in the table get the
// default 2/s burst 5 with ok=false.
func (t *Table) API(op string) (a API, ok bool) {
	a, ok = t.apis[op]
	if !ok {
		return API{Op: op, Rate: DefaultRate, Burst: DefaultBurst, Adjustable: true, Scope: ScopeAccount, Service: "connect"}, false
	}
	return a, true
}

// APIs returns every listed operation, sorted by name.
func (t *Table) APIs() []API {
	out := make([]API, 0, len(t.apis))
	for _, a := range t.apis {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Op < out[j].Op })
	return out
}

// Resource returns the resource quota called name.
func (t *Table) Resource(name string) (Resource, bool) {
	r, ok := t.resources[name]
	return r, ok
}

// Resources returns every resource quota, sorted by name.
func (t *Table) Resources() []Resource {
	out := make([]Resource, 0, len(t.resources))
	for _, r := range t.resources {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SetAPI adds or replaces the rate quota of a.Op after validating it.
func (t *Table) SetAPI(a API) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if t.apis == nil {
		t.apis = map[string]API{}
	}
	if a.Scope == "" {
		a.Scope = ScopeAccount
	}
	if a.Service == "" {
		a.Service = "connect"
	}
	t.apis[a.Op] = a
	return nil
}

// SetResource adds or replaces a resource quota after validating it.
func (t *Table) SetResource(r Resource) error {
	if r.Name == "" {
		return fmt.Errorf("resource quota: name: must not be empty")
	}
	if r.Default < 0 {
		return fmt.Errorf("resource quota %q: default: must be >= 0, got %d", r.Name, r.Default)
	}
	if t.resources == nil {
		t.resources = map[string]Resource{}
	}
	t.resources[r.Name] = r
	return nil
}

// Scale returns a copy of t with every API rate and burst multiplied by f
// (bursts rounded up, at least 1). Used for fast simulations.
func (t *Table) Scale(f float64) *Table {
	c := t.Clone()
	if f <= 0 || f == 1 {
		return c
	}
	for k, a := range c.apis {
		a.Rate *= f
		b := int(float64(a.Burst)*f + 0.999999)
		if b < 1 {
			b = 1
		}
		a.Burst = b
		c.apis[k] = a
	}
	return c
}

// Validate checks one API entry; errors name the operation and the field.
func (a API) Validate() error {
	switch {
	case strings.TrimSpace(a.Op) == "":
		return fmt.Errorf("api quota: op: must not be empty")
	case a.Rate <= 0 || a.Rate != a.Rate:
		return fmt.Errorf("api quota %s: rate: must be > 0, got %v", a.Op, a.Rate)
	case a.Burst < 1:
		return fmt.Errorf("api quota %s: burst: must be >= 1, got %d", a.Op, a.Burst)
	case a.Scope != "" && a.Scope != ScopeAccount && a.Scope != ScopeInstance:
		return fmt.Errorf("api quota %s: scope: must be %q or %q, got %q", a.Op, ScopeAccount, ScopeInstance, a.Scope)
	}
	return nil
}
