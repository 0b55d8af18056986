package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/usage"
)

// callQuotaCheck is how often instances the budget has not read yet are
// looked for (a campaign's first call on an instance).
const callQuotaCheck = 5 * time.Second

// callQuotas keeps the calls-in-progress budget of every instance the
// dispatcher calls at that instance's applied concurrent-active-calls quota
// in Service Quotas (GetServiceQuota with the instance ARN as ContextId),
// with limits.quota_sync and dispatch.call_pacing on. An instance is read
// when first seen and again every sync interval; a failed read keeps the
// last value (the quota table's until one succeeds).
type callQuotas struct {
	sq       usage.InstanceQuotaReader
	connect  *connect.Client // governed: DescribeInstance for the ARN, at low priority
	budget   *callbudget.Budget
	interval time.Duration
	log      *slog.Logger

	mu   sync.Mutex
	arn  map[string]string    // instance → ARN; requires mu held
	read map[string]time.Time // instance → last successful read; requires mu held
}

func newCallQuotas(sq usage.InstanceQuotaReader, c *connect.Client, b *callbudget.Budget, interval time.Duration, log *slog.Logger) *callQuotas {
	return &callQuotas{sq: sq, connect: c, budget: b, interval: interval, log: log,
		arn: map[string]string{}, read: map[string]time.Time{}}
}

// run reads every due instance at once and then every callQuotaCheck until
// ctx ends.
func (q *callQuotas) run(ctx context.Context) {
	t := time.NewTicker(min(callQuotaCheck, q.interval))
	defer t.Stop()
	for {
		q.refresh(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refresh reads the instances never read or last read an interval before
// now.
func (q *callQuotas) refresh(ctx context.Context, now time.Time) {
	for _, inst := range q.budget.Instances() {
		q.mu.Lock()
		last, ok := q.read[inst]
		q.mu.Unlock()
		if ok && now.Sub(last) < q.interval {
			continue
		}
		if err := q.readOne(ctx, inst); err != nil {
			if ctx.Err() != nil {
				return
			}
			q.log.Warn("quota sync: reading the concurrent-active-calls quota failed; keeping the last value",
				"instance", inst, "err", err)
			continue
		}
		q.mu.Lock()
		q.read[inst] = now
		q.mu.Unlock()
	}
}

// readOne reads one instance's applied quota and sets its budget.
func (q *callQuotas) readOne(ctx context.Context, inst string) error {
	arn, err := q.instanceARN(ctx, inst)
	if err != nil {
		return err
	}
	qs, err := usage.ReadInstanceQuotas(ctx, q.sq, arn)
	if err != nil {
		return err
	}
	for _, iq := range qs {
		if iq.Resource != quotas.ConcurrentActiveCalls || iq.Applied <= 0 {
			continue
		}
		applied := int(iq.Applied)
		if old, _ := q.budget.Limit(inst); old != applied {
			q.budget.SetLimit(inst, applied)
			_, budget := q.budget.Limit(inst)
			q.log.Info("quota sync: concurrent-active-calls quota applied", "instance", inst, "from", old, "to", applied, "budget", budget)
		}
	}
	return nil
}

// instanceARN returns the instance's ARN, asking DescribeInstance once.
func (q *callQuotas) instanceARN(ctx context.Context, inst string) (string, error) {
	q.mu.Lock()
	arn, ok := q.arn[inst]
	q.mu.Unlock()
	if ok {
		return arn, nil
	}
	ctx = awssdk.WithCallOptions(ctx, governor.CallOptions{Priority: ratelimit.PriorityLow})
	out, err := q.connect.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: aws.String(inst)})
	if err != nil {
		return "", err
	}
	if out.Instance != nil {
		arn = aws.ToString(out.Instance.Arn)
	}
	if arn == "" {
		arn = inst
	}
	q.mu.Lock()
	q.arn[inst] = arn
	q.mu.Unlock()
	return arn, nil
}
