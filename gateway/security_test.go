package gateway_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/tollgatehq/tollgate/sim"
)

// signedReq returns a request to the gateway signed by the SDK's signer.
func signedReq(t testing.TB, e *env, method, path, body string, key, secret, service, region string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, e.gwURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, at); err != nil {
		t.Fatal(err)
	}
	return req
}

type answer struct {
	status int
	code   string
	class  string
	body   string
}

func send(t testing.TB, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), resp.Header.Get("X-Tollgate-Class"), string(b)}
}

// raw writes bytes on a fresh connection to the gateway and returns the
// first response's status (0 if the connection closed without one).
func raw(t testing.TB, e *env, payload string) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.gwURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, payload); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// A smuggled second request would answer here; drain whatever follows.
	_ = conn.SetDeadline(time.Now().Add(200 * time.Millisecond))
	_, _ = io.Copy(io.Discard, br)
	return resp.StatusCode
}

// TestSecurityNothingReachesTheSimulator sends every kind of bad request
// and checks, through the simulator's own per-caller stats, that not one
// reached it.
func TestSecurityNothingReachesTheSimulator(t *testing.T) {
	e := newEnv(t, envOptions{maxBody: 4096})
	now := time.Now()
	lq := "/queues-summary/" + sim.DefaultInstanceID
	sovcBody := `{"InstanceId":"` + sim.DefaultInstanceID + `","ContactFlowId":"` + sim.DefaultContactFlowID + `","DestinationPhoneNumber":"+14155550100"}`
	steps := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"unsigned", func() *http.Request { r, _ := http.NewRequest("GET", e.gwURL+lq, nil); return r }, 403, "MissingAuthenticationTokenException"},
		{"bad signature", func() *http.Request {
			r := signedReq(t, e, "GET", lq, "", dialerKey, dialerSec, "connect", "us-east-1", now)
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-4]+"0000")
			return r
		}, 403, "InvalidSignatureException"},
		{"wrong secret", func() *http.Request {
			return signedReq(t, e, "GET", lq, "", dialerKey, "guess", "connect", "us-east-1", now)
		}, 403, "InvalidSignatureException"},
		{"unknown key", func() *http.Request {
			return signedReq(t, e, "GET", lq, "", "AKIDSTRANGER00000001", dialerSec, "connect", "us-east-1", now)
		}, 403, "UnrecognizedClientException"},
		{"the gateway's own key", func() *http.Request {
			return signedReq(t, e, "GET", lq, "", gwKey, gwSecret, "connect", "us-east-1", now)
		}, 403, "UnrecognizedClientException"},
		{"date 6 minutes old", func() *http.Request {
			return signedReq(t, e, "GET", lq, "", dialerKey, dialerSec, "connect", "us-east-1", now.Add(-6*time.Minute))
		}, 403, "InvalidSignatureException"},
		{"date 6 minutes ahead", func() *http.Request {
			return signedReq(t, e, "GET", lq, "", dialerKey, dialerSec, "connect", "us-east-1", now.Add(6*time.Minute))
		}, 403, "InvalidSignatureException"},
		{"scope for another Region", func() *http.Request {
			return signedReq(t, e, "GET", lq, "", dialerKey, dialerSec, "connect", "eu-west-2", now)
		}, 403, "InvalidSignatureException"},
		{"scope for another service", func() *http.Request {
			return signedReq(t, e, "GET", lq, "", dialerKey, dialerSec, "execute-api", "us-east-1", now)
		}, 403, "InvalidSignatureException"},
		{"connect request signed for connect-campaigns", func() *http.Request {
			return signedReq(t, e, "GET", lq, "", dialerKey, dialerSec, "connect-campaigns", "us-east-1", now)
		}, 403, "InvalidSignatureException"},
		{"disallowed operation", func() *http.Request {
			return signedReq(t, e, "GET", "/instance/"+sim.DefaultInstanceID, "", dialerKey, dialerSec, "connect", "us-east-1", now)
		}, 403, "AccessDeniedException"},
		{"unknown operation for a listed caller", func() *http.Request {
			return signedReq(t, e, "GET", "/routing-profiles-summary/x", "", dialerKey, dialerSec, "connect", "us-east-1", now)
		}, 403, "AccessDeniedException"},
		{"body changed after signing", func() *http.Request {
			r := signedReq(t, e, "PUT", "/contact/outbound-voice", sovcBody, dialerKey, dialerSec, "connect", "us-east-1", now)
			b := strings.Replace(sovcBody, "+14155550100", "+14155550199", 1)
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(b)), int64(len(b))
			return r
		}, 403, "InvalidSignatureException"},
		{"oversized body (Content-Length)", func() *http.Request {
			return signedReq(t, e, "PUT", "/contact/outbound-voice", strings.Repeat(" ", 5000)+sovcBody, dialerKey, dialerSec, "connect", "us-east-1", now)
		}, 413, "RequestEntityTooLargeException"},
		{"oversized body (chunked)", func() *http.Request {
			b := strings.Repeat(" ", 5000) + sovcBody
			r := signedReq(t, e, "PUT", "/contact/outbound-voice", b, dialerKey, dialerSec, "connect", "us-east-1", now)
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(b)), -1
			r.TransferEncoding = []string{"chunked"}
			return r
		}, 413, "RequestEntityTooLargeException"},
		{"signed for another Host, X-Forwarded-Host claims it", func() *http.Request {
			r := signedReq(t, e, "GET", lq, "", dialerKey, dialerSec, "connect", "us-east-1", now)
			// Re-sign the same request for Connect's own host, then send it
			// to the gateway claiming that host in X-Forwarded-Host.
			gwHost := r.URL.Host
			r.URL.Host, r.Host = "connect.us-east-1.amazonaws.com", "connect.us-east-1.amazonaws.com"
			r.Header.Del("Authorization")
			sum := sha256.Sum256(nil)
			_ = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: dialerKey, SecretAccessKey: dialerSec}, r, hex.EncodeToString(sum[:]), "connect", "us-east-1", now)
			r.URL.Host, r.Host = gwHost, gwHost
			r.Header.Set("X-Forwarded-Host", "connect.us-east-1.amazonaws.com")
			return r
		}, 403, "InvalidSignatureException"},
		{"presigned query instead of a header", func() *http.Request {
			r, _ := http.NewRequest("GET", e.gwURL+lq+"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="+dialerKey+"%2F20261202%2Fus-east-1%2Fconnect%2Faws4_request&X-Amz-Signature=00", nil)
			return r
		}, 403, "MissingAuthenticationTokenException"},
	}
	for i, st := range steps {
		a := send(t, st.req())
		if a.status != st.status || a.code != st.code || a.class != "client-fault" {
			t.Fatalf("step %d (%s): got %d %s class %q (%s), want %d %s", i, st.name, a.status, a.code, a.class, a.body, st.status, st.code)
		}
		if strings.Contains(a.body, dialerSec) {
			t.Fatalf("step %d: the answer leaks the secret", i)
		}
		if total, _ := e.simCounts(t); total.Requests != 0 {
			t.Fatalf("step %d (%s): %d request(s) reached the simulator", i, st.name, total.Requests)
		}
	}

	// Header smuggling on the wire: each must be refused by the gateway's
	// HTTP server or verifier, and nothing may reach the simulator,
	// including a request hidden in the body.
	host := strings.TrimPrefix(e.gwURL, "http://")
	inner := "GET " + lq + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
	smuggle := []struct{ name, payload string }{
		{"second Host header", "GET " + lq + " HTTP/1.1\r\nHost: " + host + "\r\nHost: evil.example\r\n\r\n"},
		{"Content-Length and Transfer-Encoding", "POST /contact/stop HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" +
			hexLen(inner) + "\r\n" + inner + "\r\n0\r\n\r\n"},
		{"two Content-Lengths", "POST /contact/stop HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 0\r\nContent-Length: " + itoa(len(inner)) + "\r\n\r\n" + inner},
		{"Transfer-Encoding: xchunked", "POST /contact/stop HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding: xchunked\r\n\r\n" + inner},
		{"Transfer-Encoding: chunked, identity", "POST /contact/stop HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + inner},
		{"obs-fold Transfer-Encoding", "POST /contact/stop HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + inner},
		{"unsigned pipelined pair", inner + inner},
	}
	for i, st := range smuggle {
		status := raw(t, e, st.payload)
		t.Logf("smuggle %d (%s): %d", i, st.name, status)
		if status >= 200 && status < 300 {
			t.Fatalf("smuggle %d (%s): answered %d", i, st.name, status)
		}
		if total, _ := e.simCounts(t); total.Requests != 0 {
			t.Fatalf("smuggle %d (%s): %d request(s) reached the simulator", i, st.name, total.Requests)
		}
	}
}

// TestReplayAfterWindow captures a valid signed request, lets it through
// once, then replays it after the window: refused, and the simulator's
// count does not move.
func TestReplayAfterWindow(t *testing.T) {
	e := newEnv(t, envOptions{})
	lq := "/queues-summary/" + sim.DefaultInstanceID
	captured := signedReq(t, e, "GET", lq, "", dialerKey, dialerSec, "connect", "us-east-1", time.Now())
	replay := captured.Clone(context.Background())
	if a := send(t, captured); a.status != 200 || a.class != "ok" {
		t.Fatalf("original: %+v", a)
	}
	if _, gw := e.simCounts(t); gw.Accepted != 1 {
		t.Fatalf("original did not reach the simulator: %+v", gw)
	}
	e.offset.Store(int64(5*time.Minute + time.Second))
	if a := send(t, replay); a.status != 403 || a.code != "InvalidSignatureException" || !strings.Contains(a.body, "Signature expired") {
		t.Fatalf("replay after the window: %+v", a)
	}
	if total, _ := e.simCounts(t); total.Requests != 1 {
		t.Fatalf("replay reached the simulator: %+v", total)
	}
}

// TestHeadersNotForwarded checks what the simulator receives: no
// hop-by-hop, X-Forwarded-*, Forwarded, caller signature or X-Tollgate-*
// header, and the Host of the upstream.
func TestHeadersNotForwarded(t *testing.T) {
	e := newEnv(t, envOptions{})
	lq := "/queues-summary/" + sim.DefaultInstanceID
	r := signedReq(t, e, "GET", lq, "", dialerKey, dialerSec, "connect", "us-east-1", time.Now())
	for k, v := range map[string]string{
		"X-Forwarded-For": "10.0.0.1", "X-Forwarded-Host": "evil.example", "Forwarded": "for=10.0.0.1",
		"X-Real-Ip": "10.0.0.1", "Connection": "X-Secret-Hop", "X-Secret-Hop": "1", "X-Tollgate-Deadline": "2s",
		"Proxy-Authorization": "Basic Zm9vOmJhcg==", "X-Amz-Security-Token": "caller-token",
	} {
		r.Header.Set(k, v)
	}
	if a := send(t, r); a.status != 200 {
		t.Fatalf("%+v", a)
	}
	got := e.cap.lastRequest()
	for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Host", "Forwarded", "X-Real-Ip", "X-Secret-Hop",
		"X-Tollgate-Deadline", "Proxy-Authorization", "X-Amz-Security-Token"} {
		if v := got.Header.Get(k); v != "" {
			t.Fatalf("%s forwarded: %q", k, v)
		}
	}
	if want := strings.TrimPrefix(e.simURL, "http://"); got.Host != want {
		t.Fatalf("upstream Host %q, want %q", got.Host, want)
	}
}

func hexLen(s string) string { return strings.ToUpper(hex.EncodeToString([]byte{byte(len(s))})) }

func itoa(n int) string { return strconv.Itoa(n) }
