package triage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// jstream cuts JSON values out of a stream without holding more than the
// value being cut: buf[pos:end] is unread input, buf[0] is at stream offset
// base. Values larger than max are refused.
type jstream struct {
	r    io.Reader
	buf  []byte
	pos  int
	end  int
	base int64
	eof  bool
	rerr error // a read error other than io.EOF (gzip corruption, I/O)
	max  int
}

// errTooLarge is returned for a value larger than the stream's max.
var errTooLarge = errors.New("value too large")

func newJStream(r io.Reader, max int) *jstream {
	size := 256 << 10
	if max < size {
		size = max
	}
	return &jstream{r: r, buf: make([]byte, size), max: max}
}

// offset is the stream offset of the next unread byte.
func (j *jstream) offset() int64 { return j.base + int64(j.pos) }

// fill reads more input, compacting or growing the buffer; it keeps
// buf[pos:end]. It reports whether any byte was added.
func (j *jstream) fill() bool {
	if j.eof || j.rerr != nil {
		return false
	}
	if j.pos > 0 {
		n := copy(j.buf, j.buf[j.pos:j.end])
		j.base += int64(j.pos)
		j.pos, j.end = 0, n
	}
	if j.end == len(j.buf) {
		if len(j.buf) >= j.max+1 {
			return false
		}
		nb := len(j.buf) * 2
		if nb > j.max+1 {
			nb = j.max + 1
		}
		b := make([]byte, nb)
		copy(b, j.buf[:j.end])
		j.buf = b
	}
	for tries := 0; tries < 100; tries++ {
		n, err := j.r.Read(j.buf[j.end:])
		j.end += n
		if err != nil {
			if err == io.EOF {
				j.eof = true
			} else {
				j.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	j.rerr = io.ErrNoProgress
	return false
}

// next returns the next non-space byte without consuming it; ok=false at
// the end of input.
func (j *jstream) next() (byte, bool) {
	for {
		for j.pos < j.end {
			switch c := j.buf[j.pos]; c {
			case ' ', '\t', '\n', '\r':
				j.pos++
			default:
				return c, true
			}
		}
		if !j.fill() {
			return 0, false
		}
	}
}

// consume consumes c, which must be the next non-space byte.
func (j *jstream) consume(c byte) error {
	b, ok := j.next()
	if !ok {
		return j.endErr()
	}
	if b != c {
		return fmt.Errorf("expected %q, found %q", c, b)
	}
	j.pos++
	return nil
}

// endErr is the error for input that ended early.
func (j *jstream) endErr() error {
	if j.rerr != nil {
		return j.rerr
	}
	return errTruncated
}

// value cuts the next complete value and returns its bytes (valid until the
// next call). It checks only the nesting and strings; the caller validates
// the value's content.
func (j *jstream) value() ([]byte, error) {
	c, ok := j.next()
	if !ok {
		return nil, j.endErr()
	}
	i := j.pos     // scan position
	strStart := -1 // offset (from pos) of the first byte inside the open string, -1 outside strings
	depth := 0
	scalar := c != '{' && c != '[' && c != '"'
	for {
		for i < j.end {
			if strStart >= 0 {
				k := bytes.IndexByte(j.buf[i:j.end], '"')
				if k < 0 {
					i = j.end
					break
				}
				q := i + k
				n := 0
				for p := q - 1; p >= j.pos+strStart && j.buf[p] == '\\'; p-- {
					n++
				}
				i = q + 1
				if n%2 == 1 {
					continue // an escaped quote
				}
				strStart = -1
				if depth == 0 {
					v := j.buf[j.pos:i]
					j.pos = i
					return v, nil
				}
				continue
			}
			c := j.buf[i]
			if scalar {
				switch c {
				case ' ', '\t', '\n', '\r', ',', ']', '}', '{', '[', '"', ':':
					v := j.buf[j.pos:i]
					j.pos = i
					if len(v) == 0 {
						return nil, fmt.Errorf("unexpected %q", c)
					}
					return v, nil
				}
				i++
				continue
			}
			i++
			switch c {
			case '"':
				strStart = i - j.pos
			case '{', '[':
				depth++
				if depth > maxDepth {
					return nil, errors.New("nesting too deep")
				}
			case '}', ']':
				depth--
				if depth == 0 {
					v := j.buf[j.pos:i]
					j.pos = i
					return v, nil
				}
				if depth < 0 {
					return nil, fmt.Errorf("unexpected %q", c)
				}
			}
		}
		if i-j.pos > j.max {
			return nil, errTooLarge
		}
		rel := i - j.pos
		ok := j.fill()
		i = j.pos + rel // fill may have moved the data
		if !ok {
			if scalar && j.eof && j.rerr == nil && i > j.pos {
				v := j.buf[j.pos:i]
				j.pos = i
				return v, nil
			}
			if i-j.pos >= j.max {
				return nil, errTooLarge
			}
			return nil, j.endErr()
		}
	}
}

// key reads an object key and the following ':'.
func (j *jstream) key() (string, error) {
	c, ok := j.next()
	if !ok {
		return "", j.endErr()
	}
	if c != '"' {
		return "", fmt.Errorf("expected object key, found %q", c)
	}
	v, err := j.value()
	if err != nil {
		return "", err
	}
	s := jscan{b: v}
	raw, slow, ok := s.str()
	if !ok {
		return "", s.err
	}
	k := decodeString(raw, slow)
	if err := j.consume(':'); err != nil {
		return "", err
	}
	return k, nil
}

// peekKey returns the first key of the object starting at the next byte
// without consuming anything; "" when the object is empty or the key is not
// found in the first few kilobytes.
func (j *jstream) peekKey() string {
	for {
		s := jscan{b: j.buf[j.pos:j.end]}
		if s.expect('{') {
			if s.peek() == '"' {
				if raw, slow, ok := s.str(); ok {
					return decodeString(raw, slow)
				}
			} else if s.i < len(s.b) {
				return ""
			}
		}
		if s.err != nil && s.i < len(s.b) {
			return ""
		}
		if j.end-j.pos > 64<<10 || !j.fill() {
			return ""
		}
	}
}
