package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds a configuration file.
const MaxFileSize = 1 << 20

// Sources are where Parse reads settings from. Each is optional.
type Sources struct {
	// File is a YAML configuration file.
	File string
	// LookupEnv reads the environment (os.LookupEnv; nil means none).
	LookupEnv func(string) (string, bool)
	// Flags are parsed command-line flags registered with RegisterFlags;
	// only flags set on the command line apply.
	Flags *pflag.FlagSet
}

// Parse layers the file, then the environment, then the flags over c and
// returns the result. Errors name the file and line, the variable or the
// flag, and the field.
func Parse(c Config, src Sources) (Config, error) {
	err := c.table().Parse(src)
	return c, err
}

// Parse layers the file, then the environment, then the flags over the
// values t is bound to. Errors name the file and line, the variable or the
// flag, and the field.
func (t Table) Parse(src Sources) error {
	if src.File != "" {
		if err := t.parseFile(src.File); err != nil {
			return err
		}
	}
	if src.LookupEnv != nil {
		for _, f := range t.Fields {
			env := f.Env()
			if env == "" {
				continue
			}
			v, ok := src.LookupEnv(env)
			if !ok {
				continue
			}
			var err error
			if f.kind() == kindScalar {
				err = f.set(v)
			} else {
				err = f.setAll(splitList(v))
			}
			if err != nil {
				return &FieldError{Field: f.Key, Source: env, Problem: err.Error()}
			}
		}
	}
	if src.Flags != nil {
		for _, f := range t.Fields {
			if f.Flag == "" {
				continue
			}
			fl := src.Flags.Lookup(f.Flag)
			if fl == nil || !fl.Changed {
				continue
			}
			var err error
			if f.kind() == kindScalar {
				err = f.set(fl.Value.String())
			} else {
				var vals []string
				if vals, err = src.Flags.GetStringArray(f.Flag); err == nil {
					err = f.setAll(vals)
				}
			}
			if err != nil {
				return &FieldError{Field: f.Key, Source: "--" + f.Flag, Problem: err.Error()}
			}
		}
	}
	return nil
}

// splitList splits a variable holding several occurrences: comma-separated,
// blanks trimmed, empty items dropped.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Load is the whole pipeline: Default, Parse, Validate.
func Load(src Sources) (Config, error) {
	c, err := Parse(Default(), src)
	if err != nil {
		return c, err
	}
	return c, c.Validate()
}

func (t Table) parseFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return fmt.Errorf("config file %s: larger than %d bytes", path, MaxFileSize)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config file %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil // an empty file changes nothing
	}
	byKey := map[string]Field{}
	for _, f := range t.Fields {
		byKey[f.Key] = f
	}
	return applyNode(byKey, doc.Content[0], "", path)
}

// applyNode sets the fields under the mapping n (at key prefix) from the
// file; unknown keys and ill-typed values are errors naming the key and
// the line.
func applyNode(byKey map[string]Field, n *yaml.Node, prefix, path string) error {
	where := func(n *yaml.Node) string { return fmt.Sprintf("%s line %d", path, n.Line) }
	if n.Kind != yaml.MappingNode {
		name := prefix
		if name == "" {
			name = "the file"
		}
		return &FieldError{Field: name, Source: where(n), Problem: "must be a mapping of settings"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if prefix != "" {
			key = prefix + "." + k.Value
		}
		if f, ok := byKey[key]; ok {
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				continue
			}
			if np, ok := f.ptr.(nodeParser); ok {
				// A structured setting that reads its node itself, with
				// the file's line numbers (poll.queries).
				if err := np.parseNode(v, where); err != nil {
					return err
				}
				continue
			}
			if f.kind() != kindScalar {
				if err := decodeNode(v, f.ptr); err != nil {
					return &FieldError{Field: key, Source: where(v), Problem: err.Error()}
				}
				continue
			}
			if v.Kind != yaml.ScalarNode {
				return &FieldError{Field: key, Source: where(v), Problem: "must be a single value"}
			}
			if err := f.set(v.Value); err != nil {
				return &FieldError{Field: key, Source: where(v), Problem: err.Error()}
			}
			continue
		}
		if hasPrefix(byKey, key+".") {
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				continue
			}
			if err := applyNode(byKey, v, key, path); err != nil {
				return err
			}
			continue
		}
		return &FieldError{Field: key, Source: where(k), Problem: "is not a setting"}
	}
	return nil
}

// nodeParser is a file-only setting that parses its YAML node itself, so
// its errors name the item and the file's own line (poll.queries).
type nodeParser interface {
	parseNode(n *yaml.Node, where func(*yaml.Node) string) error
}

// decodeNode decodes a file's value into ptr, rejecting unknown fields of
// nested structures.
func decodeNode(n *yaml.Node, ptr any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(ptr); err != nil && !errors.Is(err, io.EOF) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
		msg = snippetLine.ReplaceAllString(msg, "")
		return errors.New(strings.Join(strings.Fields(msg), " "))
	}
	return nil
}

// snippetLine matches the line numbers yaml reports inside a re-encoded
// value; they are not the file's lines (the error's Source has those).
var snippetLine = regexp.MustCompile(`line \d+: `)

func hasPrefix(byKey map[string]Field, p string) bool {
	for k := range byKey {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// FieldError names the setting that is wrong and, when it came from the
// environment or a flag, where.
type FieldError struct {
	Field   string // the key, e.g. "dispatch.call_timeout"
	Source  string // "TOLLGATE_DISPATCH_CALL_TIMEOUT", "--call-timeout" or ""
	Problem string
}

func (e *FieldError) Error() string {
	if e.Source != "" {
		return fmt.Sprintf("%s (%s): %s", e.Field, e.Source, e.Problem)
	}
	return e.Field + ": " + e.Problem
}
