package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// RequestPath returns the path of r as it came on the wire (still
// percent-encoded) and its raw query. A server request carries it in
// RequestURI; a client request (RequestURI empty) in URL.
func RequestPath(r *http.Request) (path, query string) {
	if strings.HasPrefix(r.RequestURI, "/") {
		path, query, _ = strings.Cut(r.RequestURI, "?")
		return path, query
	}
	path = r.URL.EscapedPath()
	if r.URL.Opaque != "" {
		path = r.URL.Opaque
	}
	if path == "" {
		path = "/"
	}
	return path, r.URL.RawQuery
}

// CanonicalURI returns the canonical URI of a wire path: every byte outside
// the unreserved set and "/" percent-encoded, so "%3A" becomes "%253A" (the
// double encoding every non-S3 service uses). A path that is not absolute
// or has empty, "." or ".." segments is refused: the SDKs disagree on how
// to normalise those, so there is no single right signature to check.
func CanonicalURI(path string) (string, error) {
	if path == "" || path[0] != '/' {
		return "", fail(ErrMalformed, "The request path must be absolute.")
	}
	if path != "/" {
		for seg := range strings.SplitSeq(path[1:], "/") {
			if seg == "" || seg == "." || seg == ".." {
				return "", fail(ErrMalformed, "The request path '"+clip(path)+"' has an empty, '.' or '..' segment.")
			}
		}
	}
	return uriEncode(path, true), nil
}

// CanonicalQuery returns the canonical query string of a raw query: each
// name and value decoded and re-encoded with the unreserved set, the pairs
// sorted by name and then by value, joined with "&". A name without "="
// has the empty value.
func CanonicalQuery(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	type pair struct{ k, v string }
	var pairs []pair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err1 := url.PathUnescape(k)
		dv, err2 := url.PathUnescape(v)
		if err1 != nil || err2 != nil {
			return "", fail(ErrMalformed, "The query parameter '"+clip(k)+"' is not validly percent-encoded.")
		}
		pairs = append(pairs, pair{uriEncode(dk, false), uriEncode(dv, false)})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String(), nil
}

// CanonicalRequest builds the canonical request of r for the given
// SignedHeaders list and payload hash (hex SHA-256 or UNSIGNED-PAYLOAD).
func CanonicalRequest(r *http.Request, signedHeaders, payloadHash string) (string, error) {
	path, query := RequestPath(r)
	uri, err := CanonicalURI(path)
	if err != nil {
		return "", err
	}
	q, err := CanonicalQuery(query)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(256)
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(q)
	b.WriteByte('\n')
	for name := range strings.SplitSeq(signedHeaders, ";") {
		if name == "" || name != strings.ToLower(name) {
			return "", fail(ErrMalformed, "SignedHeaders '"+clip(signedHeaders)+"' must list lower-case header names separated by ';'.")
		}
		b.WriteString(name)
		b.WriteByte(':')
		switch name {
		case "host":
			b.WriteString(r.Host)
		case "content-length":
			if v := r.Header.Get("Content-Length"); v != "" {
				b.WriteString(v)
			} else {
				b.WriteString(strconv.FormatInt(max(r.ContentLength, 0), 10))
			}
		case "transfer-encoding":
			b.WriteString(strings.Join(r.TransferEncoding, ","))
		default:
			for i, v := range r.Header.Values(name) {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(collapseSpaces(v))
			}
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

// uriEncode percent-encodes every byte outside the RFC 3986 unreserved set
// (and "/" when keepSlash), with upper-case hex.
func uriEncode(s string, keepSlash bool) string {
	const upper = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i], keepSlash) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c, keepSlash) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upper[c>>4], upper[c&15])
	}
	return string(b)
}

func unreserved(c byte, keepSlash bool) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/')
}

// collapseSpaces trims and collapses runs of spaces, as SigV4 requires.
func collapseSpaces(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	space := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteByte(s[i])
	}
	return b.String()
}
