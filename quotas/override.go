package quotas

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Override changes one quota of a Table: either the rate quota of an
// operation (Op with Rate, Burst and/or Code) or the value of a resource
// quota (Resource with Value). An empty Account or Region matches every
// account or Region; Apply lets more specific entries win.
type Override struct {
	Account string // 12-digit AWS account ID; empty matches every account
	Region  string // e.g. "us-east-1"; empty matches every Region

	Op    string   // operation whose rate quota changes
	Rate  *float64 // new steady rate (requests/s); nil keeps the current one
	Burst *int     // new burst; nil keeps the current one
	Code  string   // new Service Quotas code; empty keeps the current one

	Resource string // resource quota name (e.g. ConcurrentActiveCalls) whose value changes
	Value    *int   // new value of the resource quota

	// Source says where the entry came from (e.g. `quotas.yaml:7:
	// overrides[1]`); when set, errors about the entry start with it.
	Source string
}

// FieldError is a validation error about one field of one Override.
type FieldError struct {
	Index  int    // position of the entry in the slice given to Apply; -1 if unknown
	Name   string // the entry's Op or Resource
	Source string // the entry's Source
	Field  string // "op", "rate", "burst", "code", "resource", "value", "account", "region"
	Msg    string // e.g. "must be > 0, got -1"
}

func (e *FieldError) Error() string {
	switch {
	case e.Source != "":
		return e.Source + "." + e.Field + ": " + e.Msg
	case e.Index >= 0 && e.Name != "":
		return fmt.Sprintf("quota override %d (%s): %s: %s", e.Index, e.Name, e.Field, e.Msg)
	case e.Index >= 0:
		return fmt.Sprintf("quota override %d: %s: %s", e.Index, e.Field, e.Msg)
	case e.Name != "":
		return fmt.Sprintf("quota override %s: %s: %s", e.Name, e.Field, e.Msg)
	}
	return "quota override: " + e.Field + ": " + e.Msg
}

// MaxRate bounds an overridden rate; no Connect quota comes near it.
const MaxRate = 100000

// Validate checks o on its own; the error is a *FieldError naming the field.
func (o Override) Validate() error {
	fe := func(field, format string, args ...any) error {
		name := o.Op
		if name == "" {
			name = o.Resource
		}
		return &FieldError{Index: -1, Name: name, Source: o.Source, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if o.Account != "" && !isAccountID(o.Account) {
		return fe("account", "must be a 12-digit AWS account ID, got %q", o.Account)
	}
	if o.Region != "" && !isRegion(o.Region) {
		return fe("region", "must look like us-east-1, got %q", o.Region)
	}
	switch {
	case o.Op != "" && o.Resource != "":
		return fe("resource", "set either op or resource, not both")
	case o.Op == "" && o.Resource == "":
		return fe("op", "must not be empty (or set resource)")
	case o.Resource != "":
		if o.Rate != nil || o.Burst != nil || o.Code != "" {
			return fe("resource", "a resource override takes only value")
		}
		if o.Value == nil {
			return fe("value", "must be set")
		}
		if *o.Value < 0 {
			return fe("value", "must be >= 0, got %d", *o.Value)
		}
		return nil
	}
	if strings.TrimSpace(o.Op) != o.Op || strings.ContainsAny(o.Op, " \t\r\n") {
		return fe("op", "must be an operation name without spaces, got %q", o.Op)
	}
	if o.Value != nil {
		return fe("value", "applies only to a resource override")
	}
	if o.Rate == nil && o.Burst == nil && o.Code == "" {
		return fe("rate", "set rate, burst or code")
	}
	if o.Rate != nil {
		r := *o.Rate
		if math.IsNaN(r) || r <= 0 {
			return fe("rate", "must be > 0, got %v", r)
		}
		if r > MaxRate {
			return fe("rate", "must be <= %d, got %v", MaxRate, r)
		}
	}
	if o.Burst != nil && *o.Burst < 1 {
		return fe("burst", "must be >= 1, got %d", *o.Burst)
	}
	if o.Code != "" && !isQuotaCode(o.Code) {
		return fe("code", "must look like L-4E9BCC96, got %q", o.Code)
	}
	return nil
}

// Matches reports whether o applies to account and region.
func (o Override) Matches(account, region string) bool {
	return (o.Account == "" || o.Account == account) && (o.Region == "" || o.Region == region)
}

func (o Override) specificity() int {
	n := 0
	if o.Account != "" {
		n++
	}
	if o.Region != "" {
		n++
	}
	return n
}

// Apply validates every override, then applies those matching account and
// region to t: entries for every account and Region first, then those naming
// one of the two, then those naming both, each group in slice order, so the
// most specific entry wins. An operation not yet in t starts from the
// default 2/s burst 5. A resource override must name a resource in t. On any
// error t is left unchanged; the error joins one *FieldError per bad entry.
func (t *Table) Apply(overrides []Override, account, region string) error {
	var errs []error
	for i, o := range overrides {
		if err := o.Validate(); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				fe.Index = i
			}
			errs = append(errs, err)
			continue
		}
		if o.Resource != "" {
			if _, ok := t.resources[o.Resource]; !ok {
				errs = append(errs, &FieldError{Index: i, Name: o.Resource, Source: o.Source, Field: "resource",
					Msg: fmt.Sprintf("unknown resource quota %q (known: %s)", o.Resource, strings.Join(t.resourceNames(), ", "))})
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	order := make([]int, 0, len(overrides))
	for i, o := range overrides {
		if o.Matches(account, region) {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		return overrides[order[a]].specificity() < overrides[order[b]].specificity()
	})
	// Validation is done: nothing below can fail.
	apis := map[string]API{}
	for _, i := range order {
		o := overrides[i]
		if o.Resource != "" {
			r := t.resources[o.Resource]
			r.Default = *o.Value
			t.resources[o.Resource] = r
			continue
		}
		a, ok := apis[o.Op]
		if !ok {
			a, _ = t.API(o.Op)
		}
		if o.Rate != nil {
			a.Rate = *o.Rate
		}
		if o.Burst != nil {
			a.Burst = *o.Burst
			a.BurstVerified = true
		}
		if o.Code != "" {
			a.Code = o.Code
		}
		apis[o.Op] = a
	}
	if t.apis == nil {
		t.apis = map[string]API{}
	}
	for op, a := range apis {
		t.apis[op] = a
	}
	return nil
}

func (t *Table) resourceNames() []string {
	names := make([]string, 0, len(t.resources))
	for n := range t.resources {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isRegion accepts lower-case letters, digits and hyphens with at least one
// hyphen, ending in a digit (us-east-1, ap-southeast-2, us-gov-west-1).
func isRegion(s string) bool {
	if len(s) < 4 || len(s) > 32 || !strings.Contains(s, "-") || s[len(s)-1] < '0' || s[len(s)-1] > '9' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func isQuotaCode(s string) bool {
	if len(s) != 10 || !strings.HasPrefix(s, "L-") {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
