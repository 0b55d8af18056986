package sigv4

import "strings"

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// Authorization is a parsed SigV4 Authorization header.
type Authorization struct {
	AccessKeyID   string
	Date          string // YYYYMMDD of the credential scope
	Region        string
	Service       string
	Terminator    string // "aws4_request"
	SignedHeaders string // "host;x-amz-date", as sent
	Signature     string // 64 hex digits, as sent
}

// Scope returns the credential scope: date/region/service/terminator.
func (a Authorization) Scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/" + a.Terminator
}

// AccessKeyID returns the access key id of a SigV4 Authorization header
// without allocating, or "" when the header is not SigV4. It does not
// verify anything: use it only to label a request.
func AccessKeyID(h string) string {
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

// ParseAuthorization splits a SigV4 Authorization header. The parts may be
// separated by "," or ", " (the SDKs send ", "); each of Credential,
// SignedHeaders and Signature must appear exactly once.
func ParseAuthorization(h string) (Authorization, error) {
	var a Authorization
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != Algorithm {
		return a, fail(ErrMalformed, "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters with algorithm "+Algorithm+".")
	}
	var seen [3]bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, fail(ErrMalformed, "Authorization header part '"+clip(part)+"' is not key=value.")
		}
		var idx int
		switch k {
		case "Credential":
			idx = 0
			f := strings.Split(v, "/")
			if len(f) != 5 || f[0] == "" {
				return a, fail(ErrMalformed, "Credential '"+clip(v)+"' must have the form AKID/YYYYMMDD/region/service/aws4_request.")
			}
			a.AccessKeyID, a.Date, a.Region, a.Service, a.Terminator = f[0], f[1], f[2], f[3], f[4]
		case "SignedHeaders":
			idx = 1
			a.SignedHeaders = v
		case "Signature":
			idx = 2
			a.Signature = v
		default:
			return a, fail(ErrMalformed, "Authorization header has an unknown part '"+clip(k)+"'.")
		}
		if seen[idx] {
			return a, fail(ErrMalformed, "Authorization header repeats '"+k+"'.")
		}
		seen[idx] = true
	}
	if a.AccessKeyID == "" || a.SignedHeaders == "" || a.Signature == "" {
		return a, fail(ErrMalformed, "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters with algorithm "+Algorithm+".")
	}
	return a, nil
}
