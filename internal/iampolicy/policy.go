package iampolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// The commands a policy can be built for.
const (
	Serve     = "serve"
	Gateway   = "gateway"
	Extension = "extension"
	Audit     = "audit"
	Quota     = "quota"
	Triage    = "triage"
)

// Commands returns the commands For accepts.
func Commands() []string { return []string{Serve, Gateway, Extension, Audit, Quota, Triage} }

// ErrCommand is matched by the error For returns for an unknown command.
var ErrCommand = errors.New("unknown command")

// Grant is one IAM action on its resources, with the reason it is granted.
type Grant struct {
	Action   string   `json:"action"`   // e.g. connect:ListQueues
	Resource []string `json:"resource"` // ARNs, or ["*"]
	// Source is the code or configuration that calls the action.
	Source string `json:"source"`
	// Scope says why Resource is "*" when it is.
	Scope string `json:"scope,omitempty"`
}

// Policy is the set of grants one command needs.
type Policy struct {
	Command string   `json:"command"`
	Grants  []Grant  `json:"grants"`
	Notes   []string `json:"notes,omitempty"`
}

// Actions returns the granted actions, sorted.
func (p Policy) Actions() []string {
	out := make([]string, 0, len(p.Grants))
	for _, g := range p.Grants {
		out = append(out, g.Action)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// Grant returns the grant of action (case-insensitive, as IAM compares
// actions) and whether there is one.
//
// An action named after an SQS batch call (sqs:SendMessageBatch) is looked
// up as the action IAM uses for it (see Action).
func (p Policy) Grant(action string) (Grant, bool) {
	if svc, op, ok := strings.Cut(action, ":"); ok && strings.EqualFold(svc, "sqs") {
		action = Action("sqs", op)
	}
	for _, g := range p.Grants {
		if strings.EqualFold(g.Action, action) {
			return g, true
		}
	}
	return Grant{}, false
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Document groups the grants into statements, one per service and
// resource set.
func (p Policy) Document() Document {
	type key struct{ svc, res string }
	groups := map[key]*Statement{}
	var order []key
	for _, g := range p.Grants {
		svc, _, _ := strings.Cut(g.Action, ":")
		k := key{svc, strings.Join(g.Resource, "\x00")}
		st := groups[k]
		if st == nil {
			st = &Statement{Effect: "Allow", Resource: g.Resource}
			groups[k] = st
			order = append(order, k)
		}
		if !slices.Contains(st.Action, g.Action) {
			st.Action = append(st.Action, g.Action)
		}
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].svc != order[j].svc {
			return order[i].svc < order[j].svc
		}
		return order[i].res > order[j].res // scoped before "*"
	})
	doc := Document{Version: "2012-10-17"}
	seen := map[string]int{}
	for _, k := range order {
		st := groups[k]
		sort.Strings(st.Action)
		sid := "Tollgate" + camel(p.Command) + camel(k.svc)
		if k.res == "*" {
			sid += "Any"
		}
		seen[sid]++
		if n := seen[sid]; n > 1 {
			sid += fmt.Sprint(n)
		}
		st.Sid = sid
		doc.Statement = append(doc.Statement, *st)
	}
	return doc
}

// JSON returns the policy document, indented, with a trailing newline.
func (p Policy) JSON() []byte {
	b, _ := json.MarshalIndent(p.Document(), "", "  ")
	return append(b, '\n')
}

// camel turns "connect-campaigns" into "ConnectCampaigns".
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '-' || r == '_' {
			up = true
			continue
		}
		if up && 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		up = false
		b.WriteRune(r)
	}
	return b.String()
}
