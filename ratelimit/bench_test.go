package ratelimit

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// Benchmarks compare the Bucket with golang.org/x/time/rate (the reference,
// used only in tests) on the same work: one admission of one token at a
// rate of 1e6/s, burst 1000. The "Now" variants read the clock and lock a
// mutex per call, as rate.Limiter.Allow does.

const benchRate, benchBurst = 1e6, 1000

// BenchmarkBucketAllowN is the arithmetic alone, on times that carry a
// monotonic clock reading as time.Now's do (Sub is slower without one).
func BenchmarkBucketAllowN(b *testing.B) {
	now := time.Now()
	bk := NewBucket(Limit{Rate: benchRate, Burst: benchBurst}, now)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		bk.AllowN(now, 1)
	}
}

func BenchmarkBucketAllowNNow(b *testing.B) {
	var mu sync.Mutex
	bk := NewBucket(Limit{Rate: benchRate, Burst: benchBurst}, time.Now())
	b.ReportAllocs()
	for b.Loop() {
		mu.Lock()
		bk.AllowN(time.Now(), 1)
		mu.Unlock()
	}
}

func BenchmarkXRateAllow(b *testing.B) {
	l := rate.NewLimiter(benchRate, benchBurst)
	b.ReportAllocs()
	for b.Loop() {
		l.Allow()
	}
}

func BenchmarkBucketAllowNNowParallel(b *testing.B) {
	var mu sync.Mutex
	bk := NewBucket(Limit{Rate: benchRate, Burst: benchBurst}, time.Now())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			bk.AllowN(time.Now(), 1)
			mu.Unlock()
		}
	})
}

func BenchmarkXRateAllowParallel(b *testing.B) {
	l := rate.NewLimiter(benchRate, benchBurst)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Allow()
		}
	})
}

// gcra is the Generic Cell Rate Algorithm on integer nanoseconds, kept here
// only to compare with Bucket (see doc.go for why Bucket is the one used).
type gcra struct {
	tat       int64 // theoretical arrival time
	interval  int64 // ns per token
	tolerance int64 // burst × interval
}

func (g *gcra) allowN(now int64, n int64) bool {
	tat := g.tat
	if tat < now {
		tat = now
	}
	next := tat + n*g.interval
	if next-now > g.tolerance {
		return false
	}
	g.tat = next
	return true
}

func BenchmarkGCRAAllowN(b *testing.B) {
	g := &gcra{interval: int64(time.Second / benchRate), tolerance: int64(benchBurst * time.Second / benchRate)}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		g.allowN(now.UnixNano(), 1)
	}
}

func BenchmarkHierarchyTryAt(b *testing.B) {
	h := NewHierarchy(HierarchyOptions{
		Account: Limit{Rate: benchRate, Burst: benchBurst},
		Ops:     map[string]Limit{"DescribeUser": {Rate: benchRate, Burst: benchBurst}},
	})
	req := Request{Op: "DescribeUser"}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		h.TryAt(now, req)
	}
}

func BenchmarkHierarchyTry(b *testing.B) {
	h := NewHierarchy(HierarchyOptions{
		Account: Limit{Rate: benchRate, Burst: benchBurst},
		Ops:     map[string]Limit{"DescribeUser": {Rate: benchRate, Burst: benchBurst}},
	})
	req := Request{Op: "DescribeUser"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h.Try(ctx, req)
	}
}

func BenchmarkHierarchyTryParallel(b *testing.B) {
	ops := []string{"DescribeUser", "ListQueues", "GetCurrentMetricData", "StartOutboundVoiceContact"}
	lim := map[string]Limit{}
	for _, op := range ops {
		lim[op] = Limit{Rate: benchRate, Burst: benchBurst}
	}
	h := NewHierarchy(HierarchyOptions{Account: Limit{Rate: 4 * benchRate, Burst: 4 * benchBurst}, Ops: lim})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			h.Try(ctx, Request{Op: ops[i%len(ops)]})
			i++
		}
	})
}

// BenchmarkHierarchyWaitContended measures Wait when every call queues:
// eight goroutines on a bucket that refills in 1µs steps.
func BenchmarkHierarchyWaitContended(b *testing.B) {
	h := NewHierarchy(HierarchyOptions{Ops: map[string]Limit{"A": {Rate: 1e6, Burst: 1}}})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := h.Wait(ctx, Request{Op: "A"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGCRAAllowNNow(b *testing.B) {
	var mu sync.Mutex
	g := &gcra{interval: int64(time.Second / benchRate), tolerance: int64(benchBurst * time.Second / benchRate)}
	b.ReportAllocs()
	for b.Loop() {
		mu.Lock()
		g.allowN(time.Now().UnixNano(), 1)
		mu.Unlock()
	}
}
