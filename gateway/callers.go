package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// Caller is one entry of callers.yaml: who may sign requests to the gateway,
// what they may call and how they share the budget.
type Caller struct {
	AccessKeyID string `yaml:"access_key_id"`
	// SecretEnv names the environment variable holding the secret access
	// key. Exactly one of SecretEnv and Secret is set.
	SecretEnv string `yaml:"secret_env"`
	// Secret is the secret access key in the file itself; the file must then
	// not be readable by group or others.
	Secret    string `yaml:"secret"`
	Principal string `yaml:"principal"`
	// Operations the caller may call; ["*"] for all.
	Operations []string `yaml:"operations"`
	// Priority is the caller's class on the shared budget: 1 (served first,
	// ratelimit.PriorityCritical) to 4 (ratelimit.PriorityLow); 0 means 3
	// (normal). The names critical, high, normal and low are accepted too.
	Priority priorityValue `yaml:"priority"`
	// Share is the caller's weight among callers of the same priority
	// (0 means 1).
	Share float64 `yaml:"share"`

	secret string // resolved
	line   int
	all    bool
	ops    map[string]bool
}

// Class returns the caller's ratelimit priority class.
func (c *Caller) Class() ratelimit.Priority { return ratelimit.Priority(c.Priority) }

// Allows reports whether the caller may call op ("" is an operation the
// gateway does not know, allowed only with "*").
func (c *Caller) Allows(op string) bool { return c.all || (op != "" && c.ops[op]) }

// priorityValue is a priority as written in callers.yaml, stored as a
// ratelimit.Priority.
type priorityValue ratelimit.Priority

func (p *priorityValue) UnmarshalYAML(n *yaml.Node) error {
	switch strings.ToLower(n.Value) {
	case "critical", "1":
		*p = priorityValue(ratelimit.PriorityCritical)
	case "high", "2":
		*p = priorityValue(ratelimit.PriorityHigh)
	case "normal", "3", "0", "":
		*p = priorityValue(ratelimit.PriorityNormal)
	case "low", "4":
		*p = priorityValue(ratelimit.PriorityLow)
	default:
		return fmt.Errorf("line %d: priority: want 1-4 or critical|high|normal|low, got %q", n.Line, n.Value)
	}
	return nil
}

// Callers is the parsed callers file, keyed by access key id.
type Callers struct {
	byKey map[string]*Caller
	list  []*Caller
}

// ErrCallers is matched by every callers-file error.
var ErrCallers = errors.New("callers file")

// CallersError names the file, line and field of a bad callers file.
type CallersError struct {
	Path    string
	Line    int
	Field   string
	Problem string
}

func (e *CallersError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Problem)
	return b.String()
}

// Is matches ErrCallers.
func (e *CallersError) Is(target error) bool { return target == ErrCallers }

// LoadCallers reads and checks a callers file. A file holding a secret:
// that group or others may read is refused.
func LoadCallers(path string, getenv func(string) string) (*Callers, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &CallersError{Path: path, Problem: err.Error()}
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, &CallersError{Path: path, Problem: err.Error()}
	}
	cs, err := ParseCallers(path, data, getenv)
	if err != nil {
		return nil, err
	}
	if mode := st.Mode().Perm(); mode&0o077 != 0 {
		for _, c := range cs.list {
			if c.Secret != "" {
				return nil, &CallersError{Path: path, Line: c.line, Field: "secret", Problem: fmt.Sprintf(
					"the file holds a secret and its mode %04o lets group or others read it; run chmod 600 %s or use secret_env", mode, path)}
			}
		}
	}
	return cs, nil
}

// ParseCallers parses callers.yaml content (name is used in errors).
// Secrets named by secret_env are read with getenv.
func ParseCallers(name string, data []byte, getenv func(string) string) (*Callers, error) {
	var f struct {
		Callers []Caller `yaml:"callers"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, &CallersError{Path: name, Problem: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	lines := callerLines(&root)
	if len(f.Callers) == 0 {
		return nil, &CallersError{Path: name, Field: "callers", Problem: "no callers listed"}
	}
	cs := &Callers{byKey: make(map[string]*Caller, len(f.Callers))}
	for i := range f.Callers {
		c := &f.Callers[i]
		if i < len(lines) {
			c.line = lines[i]
		}
		bad := func(field, problem string) error {
			return &CallersError{Path: name, Line: c.line, Field: fmt.Sprintf("callers[%d].%s", i, field), Problem: problem}
		}
		switch {
		case len(c.AccessKeyID) < 16 || len(c.AccessKeyID) > 128 || strings.Trim(c.AccessKeyID, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "":
			return nil, bad("access_key_id", "want 16-128 upper-case letters and digits")
		case cs.byKey[c.AccessKeyID] != nil:
			return nil, bad("access_key_id", fmt.Sprintf("%s is already used on line %d", c.AccessKeyID, cs.byKey[c.AccessKeyID].line))
		case c.Secret != "" && c.SecretEnv != "":
			return nil, bad("secret", "set secret_env or secret, not both")
		case c.Secret == "" && c.SecretEnv == "":
			return nil, bad("secret_env", "set secret_env (an environment variable holding the secret) or secret")
		case c.Principal == "":
			return nil, bad("principal", "required (the name used in metrics and logs)")
		case len(c.Operations) == 0:
			return nil, bad("operations", `list the operations the caller may call, or ["*"]`)
		case c.Share < 0:
			return nil, bad("share", "must not be negative")
		}
		c.secret = c.Secret
		if c.SecretEnv != "" {
			if c.secret = getenv(c.SecretEnv); c.secret == "" {
				return nil, bad("secret_env", "environment variable "+c.SecretEnv+" is empty or not set")
			}
		}
		if c.Share == 0 {
			c.Share = 1
		}
		c.ops = make(map[string]bool, len(c.Operations))
		for j, op := range c.Operations {
			switch {
			case op == "*":
				c.all = true
			case !validOpName(op):
				return nil, bad(fmt.Sprintf("operations[%d]", j), fmt.Sprintf("%q is not an operation name", op))
			default:
				c.ops[op] = true
			}
		}
		cs.byKey[c.AccessKeyID] = c
		cs.list = append(cs.list, c)
	}
	return cs, nil
}

// callerLines returns the line of each item of the top-level callers list.
func callerLines(root *yaml.Node) []int {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "callers" {
			var out []int
			for _, it := range m.Content[i+1].Content {
				out = append(out, it.Line)
			}
			return out
		}
	}
	return nil
}

func validOpName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	return strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == ""
}

// Lookup returns the caller with access key id k.
func (cs *Callers) Lookup(k string) (*Caller, bool) {
	c, ok := cs.byKey[k]
	return c, ok
}

// Secret returns the secret of access key id k (a sigv4.SecretFunc).
func (cs *Callers) Secret(k string) (string, bool) {
	c, ok := cs.byKey[k]
	if !ok {
		return "", false
	}
	return c.secret, true
}

// List returns the callers in file order.
func (cs *Callers) List() []*Caller { return slices.Clone(cs.list) }
