package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/tollgatehq/tollgate/sigv4"
)

const (
	akid   = "AKIDGATEWAYTEST00001"
	secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

var t0 = time.Date(2026, 12, 2, 3, 30, 0, 0, time.UTC)

func secrets(k string) (string, bool) {
	if k == akid {
		return secret, true
	}
	return "", false
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signed builds a request signed by the SDK's own signer and returns it in
// the form a server sees it (RequestURI, Host).
func signed(t testing.TB, method, target string, hdr http.Header, body []byte, service, region string, at time.Time, creds aws.Credentials) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hashHex(body), service, region, at); err != nil {
		t.Fatal(err)
	}
	return serverSide(req)
}

// serverSide turns a client request into what net/http's server hands a
// handler.
func serverSide(req *http.Request) *http.Request {
	req.RequestURI = req.URL.RequestURI()
	req.Host = req.URL.Host
	if req.ContentLength > 0 {
		req.Header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	}
	return req
}

var good = aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}

func TestVerifyAgainstSDKSigner(t *testing.T) {
	v := sigv4.NewVerifier(secrets, sigv4.Options{Region: "us-east-1", Services: []string{"connect", "connect-campaigns"}})
	json := http.Header{"Content-Type": {"application/json"}}
	steps := []struct {
		name, method, url string
		hdr               http.Header
		body              string
		service           string
		wireQuery         string // when set: the query as a non-Go SDK sends it (given order)
	}{
		{"list queues", "GET", "http://127.0.0.1:8443/queues-summary/inst-1?maxResults=10", nil, "", "connect", ""},
		{"repeated query, wire order differs", "GET", "http://127.0.0.1:8443/queues-summary/inst-1?queueTypes=STANDARD&queueTypes=AGENT", nil, "", "connect",
			"queueTypes=STANDARD&queueTypes=AGENT"},
		{"untag with spaces and slashes", "DELETE", "http://127.0.0.1:8443/tags/arn%3Aaws%3Aconnect%3Aus-east-1%3A123456789012%3Ainstance%2Fabc?tagKeys=b&tagKeys=a%20a&tagKeys=a&tagKeys=a%2Fb", nil, "", "connect",
			"tagKeys=b&tagKeys=a%20a&tagKeys=a&tagKeys=a%2Fb"},
		{"start outbound call", "PUT", "http://127.0.0.1:8443/contact/outbound-voice", json, `{"InstanceId":"i","DestinationPhoneNumber":"+15550100"}`, "connect", ""},
		{"campaigns batch", "PUT", "http://127.0.0.1:8443/campaigns/c-1/dial-requests", json, `{"dialRequests":[]}`, "connect-campaigns", ""},
		{"root path, default port", "POST", "http://localhost/", json, `{}`, "connect", ""},
		{"spaces collapsed in a signed header", "GET", "http://127.0.0.1:1/users-summary/i", http.Header{"X-Amz-Meta": {"  a   b  "}}, "", "connect", ""},
	}
	for i, st := range steps {
		r := signed(t, st.method, st.url, st.hdr, []byte(st.body), st.service, "us-east-1", t0, good)
		if st.wireQuery != "" {
			path, _, _ := strings.Cut(r.RequestURI, "?")
			r.RequestURI = path + "?" + st.wireQuery
		}
		if _, err := v.Verify(r, []byte(st.body), t0.Add(time.Minute)); err != nil {
			t.Fatalf("step %d (%s): %v", i, st.name, err)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	v := sigv4.NewVerifier(secrets, sigv4.Options{Region: "us-east-1", Services: []string{"connect"}})
	body := []byte(`{"x":1}`)
	mk := func(creds aws.Credentials, service, region string, at time.Time) *http.Request {
		return signed(t, "POST", "http://127.0.0.1:8443/x?a=1", nil, body, service, region, at, creds)
	}
	steps := []struct {
		name string
		req  func() *http.Request
		body []byte
		kind error
		code string
	}{
		{"unsigned", func() *http.Request { return serverSide(httptest.NewRequest("POST", "http://127.0.0.1:8443/x", nil)) }, body, sigv4.ErrMissing, sigv4.CodeMissingAuthToken},
		{"unknown key", func() *http.Request {
			return mk(aws.Credentials{AccessKeyID: "AKIDNOPE", SecretAccessKey: secret}, "connect", "us-east-1", t0)
		}, body, sigv4.ErrUnknownKey, sigv4.CodeUnrecognizedClient},
		{"wrong secret", func() *http.Request {
			return mk(aws.Credentials{AccessKeyID: akid, SecretAccessKey: "nope"}, "connect", "us-east-1", t0)
		}, body, sigv4.ErrMismatch, sigv4.CodeInvalidSignature},
		{"body changed", func() *http.Request { return mk(good, "connect", "us-east-1", t0) }, []byte(`{"x":2}`), sigv4.ErrMismatch, sigv4.CodeInvalidSignature},
		{"other region", func() *http.Request { return mk(good, "connect", "eu-west-2", t0) }, body, sigv4.ErrScope, sigv4.CodeInvalidSignature},
		{"other service", func() *http.Request { return mk(good, "s3", "us-east-1", t0) }, body, sigv4.ErrScope, sigv4.CodeInvalidSignature},
		{"too old", func() *http.Request { return mk(good, "connect", "us-east-1", t0.Add(-6*time.Minute)) }, body, sigv4.ErrExpired, sigv4.CodeInvalidSignature},
		{"too new", func() *http.Request { return mk(good, "connect", "us-east-1", t0.Add(6*time.Minute)) }, body, sigv4.ErrExpired, sigv4.CodeInvalidSignature},
		{"query changed", func() *http.Request { r := mk(good, "connect", "us-east-1", t0); r.RequestURI = "/x?a=2"; return r }, body, sigv4.ErrMismatch, sigv4.CodeInvalidSignature},
		{"host changed", func() *http.Request { r := mk(good, "connect", "us-east-1", t0); r.Host = "evil:8443"; return r }, body, sigv4.ErrMismatch, sigv4.CodeInvalidSignature},
		{"dot segment", func() *http.Request {
			r := mk(good, "connect", "us-east-1", t0)
			r.RequestURI = "/a/../x?a=1"
			return r
		}, body, sigv4.ErrMalformed, sigv4.CodeIncompleteSignature},
		{"two Authorization headers", func() *http.Request {
			r := mk(good, "connect", "us-east-1", t0)
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
			return r
		}, body, sigv4.ErrMalformed, sigv4.CodeIncompleteSignature},
		{"scope date differs", func() *http.Request {
			r := mk(good, "connect", "us-east-1", t0)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20261202/", "/20261201/", 1))
			return r
		}, body, sigv4.ErrScope, sigv4.CodeInvalidSignature},
		{"unsigned payload refused", func() *http.Request {
			r := mk(good, "connect", "us-east-1", t0)
			r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			return r
		}, body, sigv4.ErrMismatch, sigv4.CodeInvalidSignature},
		{"payload header lies", func() *http.Request {
			r := mk(good, "connect", "us-east-1", t0)
			r.Header.Set("X-Amz-Content-Sha256", hashHex([]byte("other")))
			return r
		}, body, sigv4.ErrMismatch, sigv4.CodeInvalidSignature},
		{"not SigV4", func() *http.Request {
			r := mk(good, "connect", "us-east-1", t0)
			r.Header.Set("Authorization", "Bearer abc")
			return r
		}, body, sigv4.ErrMalformed, sigv4.CodeIncompleteSignature},
	}
	for i, st := range steps {
		_, err := v.Verify(st.req(), st.body, t0.Add(30*time.Second))
		var e *sigv4.Error
		if !errors.As(err, &e) || !errors.Is(err, st.kind) || e.Code != st.code {
			t.Fatalf("step %d (%s): got %v want %v/%s", i, st.name, err, st.kind, st.code)
		}
		if strings.Contains(e.Message, secret) {
			t.Fatalf("step %d: message leaks the secret", i)
		}
	}
}

// TestVerifyOverHTTP checks the verifier on a request that went through a
// real net/http server, not a hand-built one.
func TestVerifyOverHTTP(t *testing.T) {
	v := sigv4.NewVerifier(secrets, sigv4.Options{Region: "us-east-1"})
	got := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := new(bytes.Buffer)
		_, _ = b.ReadFrom(r.Body)
		_, err := v.Verify(r, b.Bytes(), time.Now())
		got <- err
	}))
	defer srv.Close()
	body := []byte(`{"a":"b"}`)
	req, _ := http.NewRequest("PUT", srv.URL+"/tags/arn%3Aaws%3Aconnect%3Aus-east-1%3A1%3Ainstance%2Fx?k=v%20w&k=a", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if err := v4.NewSigner().SignHTTP(context.Background(), good, req, hashHex(body), "connect", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

func TestCanonicalQuery(t *testing.T) {
	steps := []struct{ in, want string }{
		{"", ""},
		{"tagKeys=b&tagKeys=a%20a&tagKeys=a&tagKeys=a%2Fb", "tagKeys=a&tagKeys=a%20a&tagKeys=a%2Fb&tagKeys=b"},
		{"queueTypes=STANDARD&queueTypes=AGENT&maxResults=5", "maxResults=5&queueTypes=AGENT&queueTypes=STANDARD"},
		{"b&a=", "a=&b="},
		{"x=%7e~&y=a+b", "x=~~&y=a%2Bb"},
	}
	for i, st := range steps {
		got, err := sigv4.CanonicalQuery(st.in)
		if err != nil || got != st.want {
			t.Fatalf("step %d: got %q, %v want %q", i, got, err, st.want)
		}
	}
	if _, err := sigv4.CanonicalQuery("a=%zz"); !errors.Is(err, sigv4.ErrMalformed) {
		t.Fatalf("bad escape: %v", err)
	}
}

func TestCanonicalURI(t *testing.T) {
	steps := []struct {
		in, want string
		ok       bool
	}{
		{"/", "/", true},
		{"/tags/arn%3Aaws%3Aconnect%2Fx", "/tags/arn%253Aaws%253Aconnect%252Fx", true},
		{"/a b", "/a%20b", true},
		{"/a//b", "", false},
		{"/a/./b", "", false},
		{"/a/..", "", false},
		{"a", "", false},
	}
	for i, st := range steps {
		got, err := sigv4.CanonicalURI(st.in)
		if (err == nil) != st.ok || got != st.want {
			t.Fatalf("step %d: got %q, %v want %q ok=%v", i, got, err, st.want, st.ok)
		}
	}
}
