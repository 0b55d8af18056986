package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tollgatehq/tollgate/callbudget"
	"github.com/tollgatehq/tollgate/contactevents"
	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/quotas"
)

// callBudget builds the calls-in-progress budget (dispatch.call_pacing):
// the quota table's concurrent-active-calls quota (with the quota file's
// overrides) for every instance, minus dispatch.call_reserve. nil when
// pacing is off.
func callBudget(cfg config.Config, table *quotas.Table) *callbudget.Budget {
	v := cfg.Dispatch.Voice
	if !v.CallPacing {
		return nil
	}
	limit := callbudget.DefaultLimit
	if r, ok := table.Resource(quotas.ConcurrentActiveCalls); ok {
		limit = r.Default
	}
	return callbudget.New(callbudget.Options{Limit: limit, Reserve: v.CallReserve, MaxDuration: v.MaxCallDuration})
}

// voiceOptions sets the dispatcher's pacing and contact-following options.
func voiceOptions(o *dispatch.Options, cfg config.Config, b *callbudget.Budget) {
	v := cfg.Dispatch.Voice
	o.CallBudget = b
	o.ContactEvents = v.ContactEventsQueue != ""
	o.ContactPoll = v.ContactPoll
	if o.ContactPoll == 0 {
		o.ContactPoll = -1 // never
	}
	o.MaxCallDuration = v.MaxCallDuration
}

// newContactEvents builds the consumer of dispatch.contact_events_queue,
// or nil when none is set. The queue must exist (it is the EventBridge
// rule's target).
func newContactEvents(ctx context.Context, cfg config.Config, awsCfg aws.Config, log *slog.Logger) (*contactevents.Consumer, error) {
	v := cfg.Dispatch.Voice
	if v.ContactEventsQueue == "" {
		return nil, nil
	}
	client := awssqs.NewFromConfig(awsCfg.Copy(), func(o *awssqs.Options) {
		if v.ContactEventsEndpoint != "" {
			o.BaseEndpoint = aws.String(v.ContactEventsEndpoint)
		}
	})
	url, err := contactevents.ResolveQueue(ctx, client, v.ContactEventsQueue, false)
	if err != nil {
		return nil, fmt.Errorf("dispatch.contact_events_queue: %w", err)
	}
	c, err := contactevents.NewConsumer(client, contactevents.ConsumerOptions{QueueURL: url, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("dispatch.contact_events_queue: %w", err)
	}
	log.Info("following contacts by contact events", "queue", url)
	return c, nil
}

// runContactEvents feeds the ends of contacts to the dispatcher until ctx
// ends.
func runContactEvents(ctx context.Context, c *contactevents.Consumer, d *dispatch.Dispatcher) {
	if c == nil {
		return
	}
	_ = c.Run(ctx, func(ev contactevents.Event) {
		if ev.Ended() {
			d.ContactEnded(dispatch.ContactEnd{ContactID: ev.ContactID, Account: ev.Account, Answered: ev.Answered(),
				Reason: ev.DisconnectReason, Initiation: ev.Initiation, Disconnect: ev.Disconnect})
		}
	})
}
