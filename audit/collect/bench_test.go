package collect_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/audit"
	"github.com/tollgatehq/tollgate/audit/audittest"
	"github.com/tollgatehq/tollgate/audit/collect"
)

// BenchmarkAudit200 audits an account of 200 Connect-calling functions,
// each fed by its own SQS queue through a mapping (plus 200 dead-letter
// queues), against moto_server. It reports the API calls one audit makes
// and their rate: every call is admitted by the per-service governors, so
// the rate also shows which published quota bounds the audit.
//
//	CI=true go test -run '^$' -bench Audit200 -benchtime 3x ./audit/collect/
func BenchmarkAudit200(b *testing.B) {
	a := audittest.Start(b)
	role := a.Role(b, "caller", "connect:StartOutboundVoiceContact")
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range 200 {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			name := fmt.Sprintf("fn-%03d", i)
			a.Function(b, name, role, 10, nil)
			a.Mapping(b, name, a.Queue(b, "q-"+name, 60, "dlq-"+name), 2)
		}()
	}
	wg.Wait()
	a.Env(b)
	cfg, err := collect.LoadConfig(ctx, "", "")
	if err != nil {
		b.Fatal(err)
	}
	var calls int
	var elapsed time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		inv, cc, err := collect.Collect(ctx, collect.Options{Config: cfg})
		if err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		rep := audit.Check(inv, audit.Options{})
		if rep.Summary.Callers != 200 || rep.Summary.Mappings != 200 || len(rep.Findings) != 2 { // flow logs off, no trail
			b.Fatalf("summary %+v, %d findings", rep.Summary, len(rep.Findings))
		}
		calls = 0
		for _, c := range cc {
			calls += c.Calls
		}
	}
	b.ReportMetric(float64(calls), "calls/audit")
	b.ReportMetric(float64(calls)*float64(b.N)/elapsed.Seconds(), "calls/s")
}
