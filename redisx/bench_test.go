package redisx

import (
	"context"
	"testing"

	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// BenchmarkTry measures admission decisions per second from one process
// with many goroutines (b.SetParallelism(16) × GOMAXPROCS) against a local
// redis-server, with and without leasing. The limit is far above what the
// machine can do, so the bucket never refuses and the figure is the cost of
// deciding.
//
//	go test -run '^$' -bench Try -benchtime 3s ./redisx/
func BenchmarkTry(b *testing.B) {
	srv := redisenv.Start(b, redisenv.Options{})
	for _, lease := range []bool{false, true} {
		name := "lease=off"
		if lease {
			name = "lease=on"
		}
		b.Run(name, func(b *testing.B) {
			o := testOptions(b, srv, ratelimit.Limit{}, map[string]ratelimit.Limit{"A": {Rate: 1e7, Burst: 1e6}})
			o.Lease.Disabled = !lease
			o.PoolSize = 64
			l := newTestLimiter(b, o)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if d, err := l.Try(ctx, ratelimit.Request{Op: "A"}); err != nil || !d.OK {
						b.Errorf("Try: %+v, %v", d, err)
						return
					}
				}
			})
			b.StopTimer()
			s := l.Stats()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
			b.ReportMetric(float64(s.RoundTrips)/float64(b.N), "trips/decision")
			if s.Fallbacks > 0 {
				b.Logf("warning: %d fallbacks during the benchmark (machine too loaded for the timeout)", s.Fallbacks)
			}
		})
	}
}
