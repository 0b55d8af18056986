package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	sigv4Algorithm = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	maxClockSkew   = 5 * time.Minute
)

// sigv4Auth holds the parts of a SigV4 Authorization header.
type sigv4Auth struct {
	accessKey     string
	date          string // YYYYMMDD of the credential scope
	region        string
	service       string
	terminator    string
	signedHeaders string
	signature     string
}

// callerKey returns the access key id of an Authorization header without
// allocating, or "" when the header is not SigV4.
func callerKey(h string) string {
	const p = "Credential="
	i := strings.Index(h, p)
	if i < 0 {
		return ""
	}
	rest := h[i+len(p):]
	j := strings.IndexByte(rest, '/')
	if j <= 0 {
		return ""
	}
	return rest[:j]
}

// parseAuthorization splits a SigV4 Authorization header.
func parseAuthorization(h string) (sigv4Auth, bool) {
	var a sigv4Auth
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != sigv4Algorithm {
		return a, false
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, false
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 {
				return a, false
			}
			a.accessKey, a.date, a.region, a.service, a.terminator = f[0], f[1], f[2], f[3], f[4]
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		}
	}
	if a.accessKey == "" || a.signedHeaders == "" || a.signature == "" {
		return a, false
	}
	return a, true
}

// verifySigV4 checks the request's SigV4 signature against the configured
// credentials, the way AWS front doors answer:
//   - no Authorization header: 403 MissingAuthenticationTokenException
//   - malformed header: 400 IncompleteSignatureException
//   - unknown access key: 403 UnrecognizedClientException
//   - wrong signature, skewed or mismatched date: 403 InvalidSignatureException
func verifySigV4(r *http.Request, body []byte, creds map[string]string, now time.Time) *apiError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return errf(codeMissingAuthToken, "Missing Authentication Token")
	}
	a, ok := parseAuthorization(h)
	if !ok {
		return errf(codeIncompleteSignature, "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters with algorithm AWS4-HMAC-SHA256.")
	}
	secret, ok := creds[a.accessKey]
	if !ok {
		return errf(codeUnrecognizedClient, "The security token included in the request is invalid.")
	}
	if a.terminator != "aws4_request" {
		return errf(codeIncompleteSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '"+clip(a.terminator)+"'.")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return errf(codeIncompleteSignature, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if !strings.HasPrefix(amzDate, a.date) {
		return errf(codeInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+clip(a.date)+"' != '"+amzDate[:8]+"', from '"+amzDate+"'.")
	}
	if d := now.Sub(t); d > maxClockSkew || d < -maxClockSkew {
		if d > 0 {
			return errf(codeInvalidSignature, "Signature expired: "+amzDate+" is now earlier than "+now.Add(-maxClockSkew).UTC().Format(amzDateFormat)+" ("+now.UTC().Format(amzDateFormat)+" - 5 min.)")
		}
		return errf(codeInvalidSignature, "Signature not yet current: "+amzDate+" is still later than "+now.Add(maxClockSkew).UTC().Format(amzDateFormat)+" ("+now.UTC().Format(amzDateFormat)+" + 5 min.)")
	}
	canonical := canonicalRequest(r, a.signedHeaders, body)
	scope := a.date + "/" + a.region + "/" + a.service + "/aws4_request"
	crHash := sha256.Sum256([]byte(canonical))
	toSign := sigv4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])
	key := hmacSHA256([]byte("AWS4"+secret), a.date)
	key = hmacSHA256(key, a.region)
	key = hmacSHA256(key, a.service)
	key = hmacSHA256(key, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return errf(codeInvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalRequest builds the SigV4 canonical request for a non-S3 service:
// the escaped path escaped once more, the sorted and encoded query, the
// signed headers, and the payload hash.
func canonicalRequest(r *http.Request, signedHeaders string, body []byte) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if r.URL.RawPath != "" {
		path = r.URL.RawPath
	}
	if path == "" {
		path = "/"
	}
	b.WriteString(escapePath(path))
	b.WriteByte('\n')
	q, _ := url.ParseQuery(r.URL.RawQuery)
	b.WriteString(strings.ReplaceAll(q.Encode(), "+", "%20"))
	b.WriteByte('\n')
	for _, name := range strings.Split(signedHeaders, ";") {
		b.WriteString(name)
		b.WriteByte(':')
		switch name {
		case "host":
			b.WriteString(r.Host)
		case "content-length":
			if v := r.Header.Get("Content-Length"); v != "" {
				b.WriteString(v)
			} else {
				b.WriteString(strconv.FormatInt(r.ContentLength, 10))
			}
		default:
			vals := r.Header.Values(name)
			for i, v := range vals {
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
	if ph := r.Header.Get("X-Amz-Content-Sha256"); ph != "" {
		b.WriteString(ph)
	} else {
		sum := sha256.Sum256(body)
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()
}

// escapePath percent-encodes every byte except unreserved characters and '/'.
func escapePath(p string) string {
	const upper = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || c == '-' || c == '.' || c == '_' || c == '~' ||
			(c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upper[c>>4])
		b.WriteByte(upper[c&15])
	}
	return b.String()
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

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
