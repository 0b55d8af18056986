package audit

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/tollgatehq/tollgate/quotas"
)

// PolicyDocument is the part of an IAM policy document the audit reads.
type PolicyDocument struct {
	Statement []Statement
}

// Statement is one IAM policy statement.
type Statement struct {
	Effect    string
	Action    []string
	NotAction []string
	Resource  []string
	Condition bool // the statement has a Condition block
}

// ParsePolicy parses an IAM policy document. IAM returns documents
// URL-encoded; ParsePolicy accepts both forms. Action, NotAction and
// Resource may be a string or a list; Statement may be an object or a list.
func ParsePolicy(doc string) (PolicyDocument, error) {
	s := strings.TrimSpace(doc)
	if strings.HasPrefix(s, "%") {
		u, err := url.QueryUnescape(s)
		if err != nil {
			return PolicyDocument{}, fmt.Errorf("policy document: URL-encoding: %w", err)
		}
		s = u
	}
	var raw struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return PolicyDocument{}, fmt.Errorf("policy document: %w", err)
	}
	var list []json.RawMessage
	if len(raw.Statement) > 0 && raw.Statement[0] == '{' {
		list = []json.RawMessage{raw.Statement}
	} else if len(raw.Statement) > 0 {
		if err := json.Unmarshal(raw.Statement, &list); err != nil {
			return PolicyDocument{}, fmt.Errorf("policy document: Statement: %w", err)
		}
	}
	var out PolicyDocument
	for i, r := range list {
		var st struct {
			Effect    string
			Action    stringList
			NotAction stringList
			Resource  stringList
			Condition json.RawMessage
		}
		if err := json.Unmarshal(r, &st); err != nil {
			return PolicyDocument{}, fmt.Errorf("policy document: Statement[%d]: %w", i, err)
		}
		out.Statement = append(out.Statement, Statement{
			Effect: st.Effect, Action: st.Action, NotAction: st.NotAction, Resource: st.Resource,
			Condition: len(st.Condition) > 0 && string(st.Condition) != "null" && string(st.Condition) != "{}",
		})
	}
	return out, nil
}

// stringList is a JSON string or list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = []string{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return fmt.Errorf("want a string or a list of strings")
	}
	*l = ss
	return nil
}

// ConnectOps returns the operations of the quota table (services connect
// and connect-campaigns) that the documents allow, sorted, and those of
// them granted by exact name rather than by a wildcard. An Allow statement
// grants an operation when one of its Action patterns matches
// "<service>:<Op>" (IAM wildcards * and ?, case-insensitive) or when it has
// NotAction and none of those patterns match. A Deny statement on every
// resource ("*") without a Condition takes the operation away again; a Deny
// narrower than that is ignored, since the function may still call the
// operation on other resources.
func ConnectOps(docs []PolicyDocument, table *quotas.Table) (ops, exact []string) {
	allowed := map[string]bool{}
	exactSet := map[string]bool{}
	denied := map[string]bool{}
	for _, api := range table.APIs() {
		if api.Service != "connect" && api.Service != "connect-campaigns" {
			continue
		}
		action := api.Service + ":" + api.Op
		for _, d := range docs {
			for _, st := range d.Statement {
				m, ex := statementMatches(st, action)
				if !m {
					continue
				}
				switch {
				case strings.EqualFold(st.Effect, "Deny") && !st.Condition && contains(st.Resource, "*"):
					denied[api.Op] = true
				case strings.EqualFold(st.Effect, "Allow"):
					allowed[api.Op] = true
					if ex {
						exactSet[api.Op] = true
					}
				}
			}
		}
	}
	for op := range allowed {
		if !denied[op] {
			ops = append(ops, op)
			if exactSet[op] {
				exact = append(exact, op)
			}
		}
	}
	sort.Strings(ops)
	sort.Strings(exact)
	return ops, exact
}

// statementMatches reports whether st names action, and whether by exact
// name.
func statementMatches(st Statement, action string) (match, exact bool) {
	if len(st.NotAction) > 0 {
		for _, p := range st.NotAction {
			if matchAction(p, action) {
				return false, false
			}
		}
		return true, false
	}
	for _, p := range st.Action {
		if matchAction(p, action) {
			if strings.EqualFold(p, action) {
				return true, true
			}
			match = true
		}
	}
	return match, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// matchAction matches an IAM action pattern (* any run, ? one character)
// against action, ignoring case.
func matchAction(pattern, action string) bool {
	p, a := strings.ToLower(pattern), strings.ToLower(action)
	// Iterative glob with backtracking on the last star.
	pi, ai, star, mark := 0, 0, -1, 0
	for ai < len(a) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == a[ai]):
			pi++
			ai++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ai
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ai = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
