package sqlitestore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/sqlitestore"
)

// benchInput is a ~300-byte StartOutboundVoiceContact input.
var benchInput = json.RawMessage(`{"InstanceId":"11111111-2222-3333-4444-555555555555","ContactFlowId":"66666666-7777-8888-9999-000000000000",` +
	`"DestinationPhoneNumber":"+15555550100","SourcePhoneNumber":"+15555550199","Attributes":{"campaign":"` + strings.Repeat("x", 90) + `"}}`)

func benchJob() queue.Job {
	return queue.Job{Op: "StartOutboundVoiceContact", Input: benchInput}
}

// BenchmarkEnqueue measures durable single-job enqueues (each returns after
// its fsynced commit) from 1 and 8 concurrent producers.
func BenchmarkEnqueue(b *testing.B) {
	for _, producers := range []int{1, 8} {
		b.Run(fmt.Sprintf("producers=%d", producers), func(b *testing.B) {
			s := open(b, sqlitestore.Options{})
			ctx := context.Background()
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range producers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if _, err := s.Enqueue(ctx, benchJob()); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
		})
	}
}

// BenchmarkEnqueueBatch measures durable enqueues in batches of 25 (a
// dial campaign submitted in one request) from 8 producers.
func BenchmarkEnqueueBatch(b *testing.B) {
	s := open(b, sqlitestore.Options{})
	ctx := context.Background()
	jobs := make([]queue.Job, 25)
	for i := range jobs {
		jobs[i] = benchJob()
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				end := next.Add(int64(len(jobs)))
				k := int64(len(jobs)) - max(0, end-int64(b.N))
				if k <= 0 {
					return
				}
				if _, err := s.Enqueue(ctx, jobs[:k]...); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}

// BenchmarkLeaseAck measures lease+ack of single jobs by 4 concurrent
// consumers, and by 4 consumers leasing 10 at a time and acking the 10 in
// one call.
func BenchmarkLeaseAck(b *testing.B) {
	for _, batch := range []int{1, 10} {
		b.Run(fmt.Sprintf("consumers=4/batch=%d", batch), func(b *testing.B) {
			s := open(b, sqlitestore.Options{})
			ctx := context.Background()
			jobs := make([]queue.Job, 500)
			for i := range jobs {
				jobs[i] = benchJob()
			}
			for n := 0; n < b.N; n += len(jobs) {
				if _, err := s.Enqueue(ctx, jobs[:min(len(jobs), b.N-n)]...); err != nil {
					b.Fatal(err)
				}
			}
			var done atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for done.Load() < int64(b.N) {
						ls, err := s.Lease(ctx, batch, time.Minute)
						if err != nil {
							b.Error(err)
							return
						}
						if len(ls) == 0 {
							return
						}
						receipts := make([]string, len(ls))
						for i, l := range ls {
							receipts[i] = l.Receipt
						}
						if err := s.Ack(ctx, receipts...); err != nil {
							b.Error(err)
							return
						}
						done.Add(int64(len(ls)))
					}
				})
			}
			wg.Wait()
			if done.Load() != int64(b.N) {
				b.Fatalf("acked %d of %d", done.Load(), b.N)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
		})
	}
}
