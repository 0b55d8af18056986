package usage_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"

	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
	"github.com/tollgatehq/tollgate/usage"
)

// recordingLimits notes when each SetLimit happened.
type recordingLimits struct {
	*ratelimit.Hierarchy
	mu  sync.Mutex
	set map[string]time.Time
}

func (r *recordingLimits) SetLimit(ctx context.Context, op string, l ratelimit.Limit) error {
	r.mu.Lock()
	r.set[op] = time.Now()
	r.mu.Unlock()
	return r.Hierarchy.SetLimit(ctx, op, l)
}

// paced calls ListInstances as fast as the limiter admits for d and
// returns the accepted calls per second and the throttles.
func paced(t *testing.T, c *connect.Client, l ratelimit.Limiter, d time.Duration) (rate float64, throttles int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	ok := 0
	for {
		if err := l.Wait(ctx, ratelimit.Request{Op: "ListInstances"}); err != nil {
			break
		}
		if _, err := c.ListInstances(context.Background(), &connect.ListInstancesInput{}); err != nil {
			throttles++
			continue
		}
		ok++
	}
	return float64(ok) / d.Seconds(), throttles
}

// TestWholeLoop: throttles → draft → submit --yes → status PENDING → the
// simulator approves → the limiter, kept in sync with Service Quotas,
// admits at the new rate within one sync interval, without a restart.
func TestWholeLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, sim.Options{Seed: 3})
		ctx := context.Background()
		begin := time.Now()

		// 1. An unpaced caller at 4/s on a 2/s quota is throttled.
		throttles := 0
		for i := 0; i < 80; i++ {
			if _, err := f.connect.ListInstances(ctx, &connect.ListInstancesInput{}); err != nil {
				throttles++
			}
			time.Sleep(250 * time.Millisecond)
		}
		if throttles < 30 {
			t.Fatalf("unpaced 4/s on 2/s: %d throttles, want ≥ 30", throttles)
		}

		// 2. Draft from measured data.
		q, err := usage.ReadQuotas(ctx, f.clients.SQ)
		if err != nil {
			t.Fatal(err)
		}
		u, err := usage.ReadUsage(ctx, f.clients.CW, []string{"ListInstances"}, begin, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		us := u["ListInstances"]
		us.Throttles = float64(throttles)
		d := usage.DraftRequest(usage.DraftInput{Quota: q["ListInstances"], Usage: us, Agents: 400, CallsPerHour: 7200, CallsPerCall: 2})
		if d.FixFirst != "" || d.Desired != 6 || d.Code != "L-98C95556" || d.Throttles != int64(throttles) {
			t.Fatalf("draft: %+v", d)
		}

		// 3. Submit with --yes; status shows PENDING.
		sub, err := usage.Submit(ctx, f.clients.SQ, d.Op, d.Code, d.Desired, true)
		if err != nil || sub.Status != "PENDING" {
			t.Fatalf("submit: %v %+v", err, sub)
		}
		tr, err := usage.RequestStatus(ctx, f.clients.SQ, time.Now())
		if err != nil || len(tr) != 1 || tr[0].Status != "PENDING" || tr[0].Overdue {
			t.Fatalf("status: %v %+v", err, tr)
		}

		// 4. A running limiter kept in sync with Service Quotas.
		lim := &recordingLimits{Hierarchy: ratelimit.NewHierarchy(ratelimit.HierarchyOptions{}), set: map[string]time.Time{}}
		const interval = time.Minute
		s := usage.NewSync(f.clients.SQ, lim, usage.SyncOptions{Interval: interval})
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = s.Run(runCtx) }()

		time.Sleep(5 * time.Second) // past the first refresh (which changes nothing); both buckets full again
		before, thrBefore := paced(t, f.connect, lim, time.Minute)

		// 5. Wait for AWS (the simulator's seeded schedule) to approve.
		var approvedAt time.Time
		for i := 0; i < 60 && approvedAt.IsZero(); i++ {
			time.Sleep(30 * time.Second)
			g, err := f.clients.SQ.GetRequestedServiceQuotaChange(ctx, &servicequotas.GetRequestedServiceQuotaChangeInput{RequestId: aws.String(sub.ID)})
			if err != nil {
				t.Fatal(err)
			}
			if g.RequestedQuota.Status == "APPROVED" {
				approvedAt = aws.ToTime(g.RequestedQuota.LastUpdated)
			}
		}
		if approvedAt.IsZero() {
			t.Fatal("the simulator never approved the request")
		}
		time.Sleep(interval) // at most one sync interval
		lim.mu.Lock()
		setAt := lim.set["ListInstances"]
		lim.mu.Unlock()
		if setAt.IsZero() || setAt.Sub(approvedAt) > interval {
			t.Fatalf("limiter raised at %v, approved at %v: more than one interval (%v)", setAt, approvedAt, interval)
		}
		if l := lim.Limit("ListInstances"); l.Rate != 6 {
			t.Fatalf("limit after sync: %+v want rate 6", l)
		}
		after, thrAfter := paced(t, f.connect, lim, time.Minute)
		stop()
		<-done
		t.Logf("accepted ListInstances rate: before %.2f/s (throttles %d), after approval %.2f/s (throttles %d); approved %v after the test began, limiter raised %v after approval",
			before, thrBefore, after, thrAfter, approvedAt.Sub(begin), setAt.Sub(approvedAt))
		if before < 1.9 || before > 2.2 || after < 5.8 || after > 6.4 || thrBefore+thrAfter != 0 {
			t.Fatalf("rates: before %.2f after %.2f, throttles %d/%d; want ≈2 then ≈6, no throttles", before, after, thrBefore, thrAfter)
		}
	})
}
