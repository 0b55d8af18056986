package triage

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// maxDepth bounds JSON nesting, as encoding/json does.
const maxDepth = 10000

// syntaxError is a JSON syntax error at an offset inside one value.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.off) }

// errTruncated marks input that ended inside a value.
var errTruncated = errors.New("unexpected end of JSON")

// jscan is a validating JSON scanner over one complete value in memory. It
// never allocates on the success path except when decoding strings that
// carry escapes or invalid UTF-8.
type jscan struct {
	b   []byte
	i   int
	err error
}

func (s *jscan) fail(msg string) bool {
	if s.err == nil {
		if s.i >= len(s.b) {
			s.err = &syntaxError{off: s.i, msg: errTruncated.Error()}
		} else {
			s.err = &syntaxError{off: s.i, msg: msg}
		}
	}
	return false
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it, 0 at the end.
func (s *jscan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// expect consumes c after optional space.
func (s *jscan) expect(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return s.fail(fmt.Sprintf("expected %q", c))
}

// str scans a string starting at the opening quote and returns its raw
// bytes (without quotes) and whether it needs decoding (escapes or invalid
// UTF-8).
func (s *jscan) str() (raw []byte, slow bool, ok bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, s.fail("expected string")
	}
	s.i++
	start := s.i
	ascii := true
	for {
		for s.i < len(s.b) && strPlain[s.b[s.i]] {
			s.i++
		}
		if s.i >= len(s.b) {
			return nil, false, s.fail("")
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			if !ascii && !slow && !utf8.Valid(raw) {
				slow = true
			}
			return raw, slow, true
		case c == '\\':
			slow = true
			s.i++
			if s.i >= len(s.b) {
				return nil, false, s.fail("")
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for k := 0; k < 4; k++ {
					if s.i >= len(s.b) {
						return nil, false, s.fail("")
					}
					if !isHex(s.b[s.i]) {
						return nil, false, s.fail("invalid \\u escape")
					}
					s.i++
				}
			default:
				return nil, false, s.fail("invalid escape")
			}
		case c < 0x20:
			return nil, false, s.fail("control character in string")
		default: // >= 0x80
			ascii = false
			s.i++
		}
	}
}

// strPlain marks the bytes a string scan can pass over without a look:
// printable ASCII other than '"' and '\\'.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// decodeString returns the Go string of a scanned raw string.
func decodeString(raw []byte, slow bool) string {
	if !slow {
		return string(raw)
	}
	q := make([]byte, 0, len(raw)+2)
	q = append(q, '"')
	q = append(q, raw...)
	q = append(q, '"')
	var out string
	if err := json.Unmarshal(q, &out); err != nil {
		return string(raw)
	}
	return out
}

// lit consumes a literal (true, false, null).
func (s *jscan) lit(word string) bool {
	if len(s.b)-s.i < len(word) {
		s.i = len(s.b)
		return s.fail("")
	}
	if string(s.b[s.i:s.i+len(word)]) != word {
		return s.fail("invalid literal")
	}
	s.i += len(word)
	return true
}

// number consumes a JSON number.
func (s *jscan) number() bool {
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if s.i >= len(s.b) {
		return s.fail("")
	}
	switch c := s.b[s.i]; {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
	default:
		return s.fail("invalid number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		n := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		if s.i == n {
			return s.fail("invalid number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		n := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		if s.i == n {
			return s.fail("invalid number")
		}
	}
	return true
}

// skip validates and consumes any value.
func (s *jscan) skip(depth int) bool {
	if depth > maxDepth {
		return s.fail("nesting too deep")
	}
	switch s.peek() {
	case '{':
		s.i++
		if s.peek() == '}' {
			s.i++
			return true
		}
		for {
			if _, _, ok := s.str(); !ok {
				return false
			}
			if !s.expect(':') || !s.skip(depth+1) {
				return false
			}
			switch s.peek() {
			case ',':
				s.i++
			case '}':
				s.i++
				return true
			default:
				return s.fail("expected ',' or '}'")
			}
		}
	case '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return true
			default:
				return s.fail("expected ',' or ']'")
			}
		}
	case '"':
		_, _, ok := s.str()
		return ok
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	case 0:
		return s.fail("")
	default:
		c := s.b[s.i]
		if c == '-' || c >= '0' && c <= '9' {
			return s.number()
		}
		return s.fail(fmt.Sprintf("invalid character %q", c))
	}
}

// object iterates the members of an object, calling f with each key; f must
// consume the value (with skip or a typed read) and return false to stop.
func (s *jscan) object(depth int, f func(key []byte) bool) bool {
	if depth > maxDepth {
		return s.fail("nesting too deep")
	}
	if !s.expect('{') {
		return false
	}
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		k, slow, ok := s.str()
		if !ok {
			return false
		}
		if slow {
			k = []byte(decodeString(k, true))
		}
		if !s.expect(':') {
			return false
		}
		if !f(k) {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

// stringOrSkip reads a string value, or consumes any other value and
// reports ok=false for it (null, numbers, objects).
func (s *jscan) stringOrSkip(depth int) (raw []byte, slow, isStr, ok bool) {
	if s.peek() == '"' {
		raw, slow, ok = s.str()
		return raw, slow, ok, ok
	}
	return nil, false, false, s.skip(depth)
}

// end checks that only space follows the value.
func (s *jscan) end() bool {
	s.ws()
	if s.i != len(s.b) {
		return s.fail("trailing data after value")
	}
	return true
}
