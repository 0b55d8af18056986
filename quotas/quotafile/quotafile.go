package quotafile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tollgatehq/tollgate/quotas"
)

// MaxSize bounds the size of a quota file.
const MaxSize = 1 << 20

// Error is a problem at one place of a quota file.
type Error struct {
	File  string // file name as given to Parse or Load
	Line  int    // 1-based; 0 if unknown
	Field string // path of the field, e.g. "overrides[1].rate"; may be empty
	Msg   string
	Err   error // underlying error, e.g. a *quotas.FieldError; may be nil
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Load reads the quota file at path.
func Load(path string) ([]quotas.Override, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("quota file: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a quota file from r; name is used in error messages.
func Parse(r io.Reader, name string) ([]quotas.Override, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, &Error{File: name, Msg: "read: " + err.Error(), Err: err}
	}
	if len(data) > MaxSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("larger than %d bytes", MaxSize)}
	}
	p := parser{file: name, known: quotas.Default()}
	return p.parse(data)
}

type parser struct {
	file  string
	known *quotas.Table
}

func (p *parser) errf(n *yaml.Node, field, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse(data []byte) ([]quotas.Override, error) {
	// Strictness (unknown fields are errors) is enforced by walking the node
	// tree rather than by Decoder.KnownFields, so that errors can name the
	// entry and field path as well as the line.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // empty file: no overrides
		}
		return nil, p.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, p.errf(&extra, "", "only one YAML document is allowed")
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if isNull(root) {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root, "", "must be a mapping with overrides and resources")
	}
	var out []quotas.Override
	err := p.fields(root, "", func(key, val *yaml.Node) error {
		switch key.Value {
		case "overrides":
			return p.list(val, "overrides", func(i int, n *yaml.Node) error {
				o, err := p.override(n, fmt.Sprintf("overrides[%d]", i), false)
				out = append(out, o)
				return err
			})
		case "resources":
			return p.list(val, "resources", func(i int, n *yaml.Node) error {
				o, err := p.override(n, fmt.Sprintf("resources[%d]", i), true)
				out = append(out, o)
				return err
			})
		}
		return p.errf(key, "", "unknown field %q (want overrides or resources)", key.Value)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// yamlError turns a yaml syntax error ("yaml: line 3: …") into an *Error.
func (p *parser) yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return &Error{File: p.file, Line: line, Msg: msg, Err: err}
}

// fields calls f for each key/value of mapping m, rejecting duplicate keys,
// aliases, merge keys and non-string keys.
func (p *parser) fields(m *yaml.Node, path string, f func(key, val *yaml.Node) error) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			return p.errf(k, path, "keys must be plain field names")
		}
		if first, dup := seen[k.Value]; dup {
			return p.errf(k, join(path, k.Value), "repeated (first set at line %d)", first)
		}
		seen[k.Value] = k.Line
		if v.Kind == yaml.AliasNode || k.Kind == yaml.AliasNode {
			return p.errf(v, join(path, k.Value), "aliases are not supported")
		}
		if err := f(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) list(n *yaml.Node, path string, f func(i int, n *yaml.Node) error) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return p.errf(n, path, "must be a list")
	}
	for i, e := range n.Content {
		if err := f(i, e); err != nil {
			return err
		}
	}
	return nil
}

// override reads one entry; resource selects the resources schema.
func (p *parser) override(n *yaml.Node, path string, resource bool) (quotas.Override, error) {
	var o quotas.Override
	if n.Kind == yaml.AliasNode {
		return o, p.errf(n, path, "aliases are not supported")
	}
	if n.Kind != yaml.MappingNode {
		return o, p.errf(n, path, "must be a mapping")
	}
	o.Source = fmt.Sprintf("%s:%d: %s", p.file, n.Line, path)
	lines := map[string]*yaml.Node{} // field → its key node, for validation errors
	err := p.fields(n, path, func(k, v *yaml.Node) error {
		field := join(path, k.Value)
		lines[k.Value] = k
		switch k.Value {
		case "account":
			return p.str(v, field, &o.Account)
		case "region":
			return p.str(v, field, &o.Region)
		}
		if resource {
			switch k.Value {
			case "name":
				return p.str(v, field, &o.Resource)
			case "value":
				x, err := p.integer(v, field)
				o.Value = &x
				return err
			}
			return p.errf(k, path, "unknown field %q (want name, value, account, region)", k.Value)
		}
		switch k.Value {
		case "op":
			return p.str(v, field, &o.Op)
		case "code":
			return p.str(v, field, &o.Code)
		case "rate":
			x, err := p.number(v, field)
			o.Rate = &x
			return err
		case "burst":
			x, err := p.integer(v, field)
			o.Burst = &x
			return err
		}
		return p.errf(k, path, "unknown field %q (want op, rate, burst, code, account, region)", k.Value)
	})
	if err != nil {
		return o, err
	}
	if resource && o.Resource == "" {
		return o, p.errf(n, join(path, "name"), "must not be empty")
	}
	if err := o.Validate(); err != nil {
		var fe *quotas.FieldError
		if !errors.As(err, &fe) {
			return o, &Error{File: p.file, Line: n.Line, Field: path, Msg: err.Error(), Err: err}
		}
		field := fe.Field
		if resource && field == "resource" {
			field = "name"
		}
		at := n
		if k, ok := lines[field]; ok {
			at = k
		}
		return o, &Error{File: p.file, Line: at.Line, Field: join(path, field), Msg: fe.Msg, Err: fe}
	}
	if resource {
		if _, ok := p.known.Resource(o.Resource); !ok {
			return o, p.errf(lines["name"], join(path, "name"), "unknown resource quota %q", o.Resource)
		}
	}
	return o, nil
}

func (p *parser) str(v *yaml.Node, field string, dst *string) error {
	if v.Kind != yaml.ScalarNode || isNull(v) {
		return p.errf(v, field, "must be a string")
	}
	*dst = v.Value
	return nil
}

func (p *parser) number(v *yaml.Node, field string) (float64, error) {
	if v.Kind == yaml.ScalarNode && (v.Tag == "!!int" || v.Tag == "!!float") {
		var x float64
		if err := v.Decode(&x); err == nil {
			return x, nil
		}
	}
	return 0, p.errf(v, field, "must be a number, got %q", v.Value)
}

func (p *parser) integer(v *yaml.Node, field string) (int, error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!int" {
		var x int
		if err := v.Decode(&x); err == nil {
			return x, nil
		}
	}
	return 0, p.errf(v, field, "must be an integer, got %q", v.Value)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}
