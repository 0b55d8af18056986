package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sigv4"
)

// memTransport serves upstream requests from a handler in memory.
type memTransport struct{ h http.Handler }

func (m memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Host = r.URL.Host
	r2.RequestURI = r.URL.RequestURI()
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		r2.Body = io.NopCloser(bytes.NewReader(b))
	}
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, r2)
	return rec.Result(), nil
}

// upstreamCheck verifies that every forwarded request carries the
// gateway's own valid signature and records it.
type upstreamCheck struct {
	v    *sigv4.Verifier
	mu   sync.Mutex
	got  []*http.Request
	body [][]byte
	errs []error
}

func (u *upstreamCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	_, err := u.v.Verify(r, b, time.Now())
	u.mu.Lock()
	u.got, u.body, u.errs = append(u.got, r), append(u.body, b), append(u.errs, err)
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{}`))
}

// FuzzForward sends SDK-signed requests of arbitrary shape through the
// gateway to an upstream that checks the re-signature. A request signed by
// a known caller is forwarded once, re-signed validly by the gateway's key,
// with the same method, path, query and body and without the caller's
// signature, hop-by-hop, X-Forwarded-* or X-Tollgate-* headers. The same
// request with its signature broken is never forwarded.
func FuzzForward(f *testing.F) {
	f.Add(uint8(0), "/queues-summary/i", "queueTypes=STANDARD&queueTypes=AGENT", "X-Forwarded-Host", "evil", "")
	f.Add(uint8(1), "/contact/outbound-voice", "", "Connection", "X-Amz-Target", `{"a":1}`)
	f.Add(uint8(2), "/tags/arn%3Aaws%3Aconnect%2Fx", "tagKeys=a%20b", "Transfer-Encoding", "chunked", "")
	f.Add(uint8(3), "/campaigns/c1/dial-requests", "", "X-Tollgate-Deadline", "1s", `{"dialRequests":[]}`)
	up := &upstreamCheck{v: sigv4.NewVerifier(func(k string) (string, bool) { return gwSecret, k == gwKey }, sigv4.Options{Region: "us-east-1"})}
	cs, err := gateway.ParseCallers("c.yaml", []byte(callersYAML), func(string) string { return adminSec })
	if err != nil {
		f.Fatal(err)
	}
	gw, err := gateway.New(gateway.Options{
		Upstream:    "http://connect.upstream.test",
		Credentials: credentials.NewStaticCredentialsProvider(gwKey, gwSecret, ""),
		Governor:    governor.New(ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: quotas.Default().Scale(1e6)}), governor.Options{}),
		Callers:     cs,
		Transport:   memTransport{up},
	})
	if err != nil {
		f.Fatal(err)
	}
	methods := []string{"GET", "PUT", "POST", "DELETE"}
	f.Fuzz(func(t *testing.T, m uint8, path, query, hk, hv, body string) {
		method := methods[int(m)%len(methods)]
		u, err := url.Parse("http://127.0.0.1:8443" + path + "?" + query)
		if err != nil || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") || strings.Contains(query, "#") {
			t.Skip()
		}
		if _, err := sigv4.CanonicalURI(u.EscapedPath()); err != nil {
			t.Skip()
		}
		if _, err := url.ParseQuery(query); err != nil {
			t.Skip()
		}
		req, err := http.NewRequest(method, u.String(), strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		if hk != "" && strings.Trim(hk, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") == "" && strings.IndexFunc(hk+hv, func(r rune) bool { return r < 0x20 || r >= 0x7f }) < 0 {
			req.Header.Set(hk, hv)
		}
		ck := http.CanonicalHeaderKey(hk)
		if ck == "Content-Length" || ck == "Host" || ck == "Transfer-Encoding" || ck == "X-Amz-Date" || ck == "Authorization" || ck == "X-Amz-Content-Sha256" || ck == "X-Tollgate-Deadline" {
			req.Header.Del(hk) // framing and signature headers are the signer's and the server's business
		}
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: adminKey, SecretAccessKey: adminSec}, req, hex.EncodeToString(sum[:]), serviceFor(u.EscapedPath()), "us-east-1", time.Now()); err != nil {
			t.Skip()
		}
		req.RequestURI = req.URL.RequestURI()
		req.Host = req.URL.Host

		up.mu.Lock()
		up.got, up.body, up.errs = nil, nil, nil
		up.mu.Unlock()
		broken := req.Clone(context.Background())
		broken.Body = io.NopCloser(strings.NewReader(body))
		a := broken.Header.Get("Authorization")
		broken.Header.Set("Authorization", a[:len(a)-1]+map[bool]string{true: "1", false: "0"}[a[len(a)-1] == '0'])
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, broken)
		if rec.Code != 403 || len(up.got) != 0 {
			t.Fatalf("broken signature: %d, %d forwarded", rec.Code, len(up.got))
		}

		rec = httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Header().Get("X-Tollgate-Class") != "ok" {
			t.Fatalf("valid request answered %d %s", rec.Code, rec.Body)
		}
		if len(up.got) != 1 {
			t.Fatalf("forwarded %d times", len(up.got))
		}
		got := up.got[0]
		if up.errs[0] != nil {
			t.Fatalf("forwarded request's signature: %v", up.errs[0])
		}
		if got.Method != method || string(up.body[0]) != body {
			t.Fatalf("forwarded %s %q, want %s %q", got.Method, up.body[0], method, body)
		}
		gp, gq := sigv4.RequestPath(got)
		wp, wq := sigv4.RequestPath(req)
		cgq, _ := sigv4.CanonicalQuery(gq)
		cwq, _ := sigv4.CanonicalQuery(wq)
		if gp != wp || cgq != cwq {
			t.Fatalf("forwarded %s?%s, want %s?%s", gp, gq, wp, wq)
		}
		if strings.Contains(got.Header.Get("Authorization"), adminKey) {
			t.Fatal("the caller's signature was forwarded")
		}
		for k := range got.Header {
			if strings.HasPrefix(k, "X-Forwarded-") || strings.HasPrefix(k, "X-Tollgate-") || k == "Connection" || k == "Forwarded" || k == "Transfer-Encoding" {
				t.Fatalf("%s forwarded", k)
			}
		}
	})
}

func serviceFor(path string) string {
	if strings.HasPrefix(path, "/campaigns/") || strings.HasPrefix(path, "/v2/campaigns/") {
		return "connect-campaigns"
	}
	return "connect"
}
