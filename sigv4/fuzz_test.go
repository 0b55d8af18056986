package sigv4_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tollgatehq/tollgate/sigv4"
)

// FuzzVerify signs arbitrary requests with the SDK's signer: every request
// the SDK can sign must verify, and the same request with its body, query
// or signature changed must not.
func FuzzVerify(f *testing.F) {
	f.Add("GET", "/queues-summary/i", "queueTypes=STANDARD&queueTypes=AGENT", "", "v")
	f.Add("PUT", "/tags/arn%3Aaws%2Fx", "tagKeys=a%20a&tagKeys=a", `{"a":1}`, "  x  y ")
	f.Add("POST", "/", "", "{}", "")
	v := sigv4.NewVerifier(secrets, sigv4.Options{Region: "us-east-1", Services: []string{"connect"}})
	f.Fuzz(func(t *testing.T, method, path, query, body, hv string) {
		if method == "" || strings.Trim(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" || !strings.HasPrefix(path, "/") {
			t.Skip()
		}
		u, err := url.Parse("http://127.0.0.1:8443" + path + "?" + query)
		if err != nil || u.Path == "" || strings.Contains(path, "?") || strings.Contains(path, "#") || strings.Contains(query, "#") {
			t.Skip()
		}
		if _, err := sigv4.CanonicalURI(u.EscapedPath()); err != nil {
			t.Skip() // dot segments: refused by design, tested in TestCanonicalURI
		}
		if _, err := url.ParseQuery(query); err != nil {
			t.Skip()
		}
		hdr := http.Header{}
		if strings.IndexFunc(hv, func(r rune) bool { return r < 0x20 || r >= 0x7f }) < 0 {
			hdr.Set("X-Fuzz", hv)
		}
		r := signed(t, method, u.String(), hdr, []byte(body), "connect", "us-east-1", t0, aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret})
		if _, err := v.Verify(r, []byte(body), t0); err != nil {
			t.Fatalf("SDK-signed request refused: %v (uri %q)", err, r.RequestURI)
		}
		if _, err := v.Verify(r, []byte(body+"x"), t0); err == nil {
			t.Fatal("changed body accepted")
		}
		auth := r.Header.Get("Authorization")
		last := auth[len(auth)-1]
		flip := byte('0')
		if last == '0' {
			flip = '1'
		}
		r.Header.Set("Authorization", auth[:len(auth)-1]+string(flip))
		if _, err := v.Verify(r, []byte(body), t0); err == nil {
			t.Fatal("changed signature accepted")
		}
	})
}

// FuzzParseAuthorization feeds arbitrary headers to the parser: it must not
// panic, and what it accepts must have every required part.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/connect/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	f.Add("AWS4-HMAC-SHA256 Credential=/x")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := sigv4.ParseAuthorization(h)
		if err == nil && (a.AccessKeyID == "" || a.SignedHeaders == "" || a.Signature == "") {
			t.Fatalf("accepted %q without every part: %+v", h, a)
		}
		if k := sigv4.AccessKeyID(h); err == nil && k != a.AccessKeyID {
			t.Fatalf("AccessKeyID %q, parsed %q", k, a.AccessKeyID)
		}
	})
}
