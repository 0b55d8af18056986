package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

// BenchmarkGatewayServeHTTP is the gateway's own CPU per request (verify,
// admit, re-sign, forward, copy back) with an in-memory upstream that
// answers at once: its inverse is the per-core ceiling of the gateway.
func BenchmarkGatewayServeHTTP(b *testing.B) {
	cs, err := gateway.ParseCallers("callers.yaml", []byte(callersYAML), func(string) string { return dialerSec })
	if err != nil {
		b.Fatal(err)
	}
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"QueueSummaryList":[]}`))
	})
	gw, err := gateway.New(gateway.Options{
		Upstream:    "http://connect.upstream.test",
		Credentials: credentials.NewStaticCredentialsProvider(gwKey, gwSecret, ""),
		Governor:    governor.New(ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: quotas.Default().Scale(1e9)}), governor.Options{}),
		Callers:     cs,
		Transport:   memTransport{up},
	})
	if err != nil {
		b.Fatal(err)
	}
	e := &env{gwURL: "http://127.0.0.1:8443"}
	req := signedReq(b, e, "GET", "/queues-summary/"+sim.DefaultInstanceID+"?maxResults=10", "", dialerKey, dialerSec, "connect", "us-east-1", time.Now())
	req.RequestURI = req.URL.RequestURI()
	req.Host = req.URL.Host
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d %s", rec.Code, rec.Body)
		}
	}
}
