package sim

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
)

// handlerTransport is an in-memory http.RoundTripper over a handler: no
// sockets, so a whole SDK + simulator scenario runs inside a synctest
// bubble. A handler that aborts (connection-reset fault) becomes a
// connection error.
type handlerTransport struct{ h http.Handler }

var errConnReset = errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer")

func (t handlerTransport) RoundTrip(r *http.Request) (resp *http.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				resp, err = nil, errConnReset
				return
			}
			panic(p)
		}
	}()
	r2 := r.Clone(r.Context())
	if r2.Host == "" {
		r2.Host = r.URL.Host
	}
	r2.RequestURI = r.URL.RequestURI()
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r2)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	res := rec.Result()
	res.Request = r
	return res, nil
}

const testAccessKey = "AKIDTESTCALLER"

// newClient returns a real aws-sdk-go-v2 Connect client talking to h in
// memory, with retries off.
func newClient(t testing.TB, h http.Handler, optFns ...func(*connect.Options)) *connect.Client {
	t.Helper()
	return connect.New(connect.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String("http://connect.sim.local"),
		Credentials:      credentials.NewStaticCredentialsProvider(testAccessKey, "secret", ""),
		HTTPClient:       &http.Client{Transport: handlerTransport{h}},
		RetryMaxAttempts: 1,
	}, optFns...)
}

func newServer(t testing.TB, o Options) *Server {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func mustInvariants(t testing.TB, s *Server) {
	t.Helper()
	if err := s.checkInvariants(); err != nil {
		t.Fatalf("invariants: %v", err)
	}
}
