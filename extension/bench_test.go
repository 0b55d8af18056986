package extension_test

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tollgatehq/tollgate/extension"
	"github.com/tollgatehq/tollgate/extension/extensiontest"
	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// BenchmarkColdStart measures the extension's part of a cold start: from
// registering with the Extensions API, through building the callers, the
// buckets and the gateway and listening on loopback, to the first Next
// (when Lambda may start the function's init). Process start-up (loading
// the binary) is measured by the end-to-end test under the emulator.
func BenchmarkColdStart(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		api := extensiontest.New()
		srv := httptest.NewServer(api)
		ctx := context.Background()
		client, err := extension.NewClient(strings.TrimPrefix(srv.URL, "http://"), nil)
		if err != nil {
			b.Fatal(err)
		}
		reg, err := client.Register(ctx, "tollgate", extension.Invoke, extension.Shutdown)
		if err != nil {
			b.Fatal(err)
		}
		callers, err := extension.FunctionCallers(fnCreds, reg.FunctionName, nil)
		if err != nil {
			b.Fatal(err)
		}
		lim := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: quotas.Default()})
		gw, err := gateway.New(gateway.Options{Upstream: "http://127.0.0.1:1", Credentials: credentials.StaticCredentialsProvider{Value: fnCreds},
			Governor: governor.New(lim, governor.Options{MaxAttempts: -1}), Callers: callers})
		if err != nil {
			b.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			_, _ = extension.Run(ctx, extension.Options{Client: client, Handler: extension.Guard(fnCreds.SessionToken, gw), Listener: ln})
			close(done)
		}()
		<-api.Waiting()
		b.StopTimer()
		api.Shutdown("spindown", time.Now().Add(time.Second))
		<-done
		srv.Close()
		b.StartTimer()
	}
}
