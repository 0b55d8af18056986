package sim

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSlowBodyTimesOut: a client that announces a body and stops sending
// it gets 408 RequestTimeoutException once BodyTimeout passes, instead of
// holding the connection forever.
func TestSlowBodyTimesOut(t *testing.T) {
	s, err := New(Options{BodyTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The test's own bound: far above BodyTimeout; reaching it is the failure.
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	body := `{"InstanceId":"` + DefaultInstanceID + `","ContactId":"x"}`
	if _, err := c.Write([]byte("POST /contact/stop HTTP/1.1\r\nHost: sim\r\nContent-Type: application/json\r\nContent-Length: " +
		itoa(int64(len(body))) + "\r\n\r\n" + body[:10])); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 408 || resp.Header.Get("X-Amzn-ErrorType") != "RequestTimeoutException" {
		t.Fatalf("stalled body: %d %q", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	if !strings.Contains(resp.Header.Get("Connection"), "close") && !resp.Close {
		t.Errorf("the connection stays open after a timed-out body")
	}
}

// TestBodyTimeoutOption: a negative BodyTimeout is refused, naming the field.
func TestBodyTimeoutOption(t *testing.T) {
	if _, err := New(Options{BodyTimeout: -time.Second}); err == nil || !strings.Contains(err.Error(), "body_timeout") {
		t.Fatalf("got %v", err)
	}
}
