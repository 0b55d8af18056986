package contactevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"path"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tollgatehq/tollgate/backoff"
)

// API is the part of the SQS client the package uses; *sqs.Client has it.
type API interface {
	GetQueueUrl(ctx context.Context, in *awssqs.GetQueueUrlInput, opts ...func(*awssqs.Options)) (*awssqs.GetQueueUrlOutput, error)
	CreateQueue(ctx context.Context, in *awssqs.CreateQueueInput, opts ...func(*awssqs.Options)) (*awssqs.CreateQueueOutput, error)
	SendMessageBatch(ctx context.Context, in *awssqs.SendMessageBatchInput, opts ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error)
	ReceiveMessage(ctx context.Context, in *awssqs.ReceiveMessageInput, opts ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *awssqs.DeleteMessageBatchInput, opts ...func(*awssqs.Options)) (*awssqs.DeleteMessageBatchOutput, error)
}

var _ API = (*awssqs.Client)(nil)

// ResolveQueue turns a queue URL or name into a URL. A name is looked up
// with GetQueueUrl, and created when missing if create is set (the
// simulator's convenience; in AWS the queue is the EventBridge rule's
// target and exists already).
func ResolveQueue(ctx context.Context, api API, nameOrURL string, create bool) (string, error) {
	if nameOrURL == "" {
		return "", errors.New("contactevents: queue: a URL or name is required")
	}
	if u, err := url.Parse(nameOrURL); err == nil && u.Scheme != "" && u.Host != "" {
		return nameOrURL, nil
	}
	name := path.Base(nameOrURL)
	out, err := api.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err == nil {
		return aws.ToString(out.QueueUrl), nil
	}
	var nf *types.QueueDoesNotExist
	if !create || !errors.As(err, &nf) {
		return "", fmt.Errorf("contactevents: queue %q: %w", name, err)
	}
	c, err := api.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("contactevents: creating queue %q: %w", name, err)
	}
	return aws.ToString(c.QueueUrl), nil
}

// Publisher sends events to an SQS queue, one message per event, as an
// EventBridge rule with that queue as its target does. Its
// PublishContactEvents method makes it a sim.ContactEventSink.
//
// Like EventBridge, which retries a failed delivery to a target, it sends a
// batch (or the entries SQS reported failed) again after a backoff, up to
// publishAttempts times, before it gives the events up.
type Publisher struct {
	api API
	url string
}

// NewPublisher returns a Publisher sending to the queue at queueURL.
func NewPublisher(api API, queueURL string) *Publisher { return &Publisher{api: api, url: queueURL} }

// publishBackoff spaces the attempts of one batch: full jitter from 100 ms,
// at most 5 s apart, publishAttempts in all (about 10 s at worst).
var publishBackoff = backoff.Options{TransientBase: 100 * time.Millisecond, Cap: 5 * time.Second, MaxAttempts: publishAttempts}

const publishAttempts = 6

// PublishContactEvents sends the events, ten per SendMessageBatch,
// retrying failures (see Publisher). The error names what was given up.
func (p *Publisher) PublishContactEvents(ctx context.Context, events []json.RawMessage) error {
	var errs []error
	for len(events) > 0 {
		n := min(10, len(events))
		if err := p.sendBatch(ctx, events[:n]); err != nil {
			errs = append(errs, err)
		}
		events = events[n:]
	}
	if len(errs) > 0 {
		return fmt.Errorf("contactevents: publishing: %w", errors.Join(errs...))
	}
	return nil
}

// sendBatch sends up to ten events, retrying what failed.
func (p *Publisher) sendBatch(ctx context.Context, batch []json.RawMessage) error {
	pending := batch
	var prev time.Duration
	for attempt := 1; ; attempt++ {
		entries := make([]types.SendMessageBatchRequestEntry, len(pending))
		for i, e := range pending {
			entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(e))}
		}
		var failed []json.RawMessage
		var errs []error
		out, err := p.api.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(p.url), Entries: entries})
		if err != nil {
			failed, errs = pending, []error{err}
		} else {
			for _, f := range out.Failed {
				i, convErr := strconv.Atoi(aws.ToString(f.Id))
				if convErr != nil || i < 0 || i >= len(pending) {
					continue
				}
				failed = append(failed, pending[i])
				errs = append(errs, fmt.Errorf("message %d: %s %s", i, aws.ToString(f.Code), aws.ToString(f.Message)))
			}
		}
		if len(failed) == 0 {
			return nil
		}
		if !publishBackoff.Retry(attempt) || ctx.Err() != nil {
			return fmt.Errorf("%d event(s) given up after %d attempt(s): %w", len(failed), attempt, errors.Join(errs...))
		}
		prev = publishBackoff.Delay(attempt, false, prev, rand.Float64())
		t := time.NewTimer(prev)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%d event(s) given up: %w", len(failed), ctx.Err())
		case <-t.C:
		}
		pending = failed
	}
}

// ConsumerOptions configure a Consumer. QueueURL is required.
type ConsumerOptions struct {
	// QueueURL is the queue the EventBridge rule delivers to.
	QueueURL string
	// WaitTime is the long-poll wait of each receive (1–20 s; 0 means
	// 20 s, negative means short polling).
	WaitTime time.Duration
	// Receivers is the number of receive loops polling at once (0 means
	// 2): while one waits for its answer or deletes, another is already
	// waiting for the next event.
	Receivers int
	// Logger receives warnings (unreadable messages, SQS errors); nil
	// discards.
	Logger *slog.Logger
}

// Consumer long-polls a queue of contact events.
type Consumer struct {
	api API
	o   ConsumerOptions
}

// NewConsumer returns a Consumer of o.QueueURL.
func NewConsumer(api API, o ConsumerOptions) (*Consumer, error) {
	if o.QueueURL == "" {
		return nil, errors.New("contactevents: ConsumerOptions.QueueURL is required")
	}
	if o.WaitTime == 0 {
		o.WaitTime = 20 * time.Second
	}
	if o.WaitTime > 20*time.Second {
		return nil, fmt.Errorf("contactevents: WaitTime must be at most 20s, got %v", o.WaitTime)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Receivers <= 0 {
		o.Receivers = 2
	}
	return &Consumer{api: api, o: o}, nil
}

// Run receives events until ctx ends with Options.Receivers loops, calls
// handle for each contact event (from those loops: handle must be safe for
// concurrent use), then deletes the messages in the background. A message
// that is not a contact event is logged and deleted (it can never be
// read). SQS errors are logged and retried after a pause. Run returns nil
// when ctx ends, after the deletes it started.
func (c *Consumer) Run(ctx context.Context, handle func(Event)) error {
	var wg sync.WaitGroup
	for range c.o.Receivers {
		wg.Go(func() { c.receive(ctx, handle, &wg) })
	}
	wg.Wait()
	return nil
}

func (c *Consumer) receive(ctx context.Context, handle func(Event), deletes *sync.WaitGroup) {
	wait := int32(max(c.o.WaitTime, 0) / time.Second)
	pause := time.Second
	for ctx.Err() == nil {
		out, err := c.api.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
			QueueUrl: aws.String(c.o.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: wait,
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.o.Logger.Warn("contactevents: receive failed", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, 30*time.Second)
			continue
		}
		pause = time.Second
		var del []types.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			ev, err := Parse([]byte(aws.ToString(m.Body)))
			if err != nil {
				c.o.Logger.Warn("contactevents: message skipped", "message", aws.ToString(m.MessageId), "err", err)
			} else {
				handle(ev)
			}
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if len(del) > 0 {
			deletes.Go(func() {
				if _, err := c.api.DeleteMessageBatch(context.WithoutCancel(ctx), &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(c.o.QueueURL), Entries: del}); err != nil {
					// The events come again; ends are idempotent.
					c.o.Logger.Warn("contactevents: delete failed", "err", err)
				}
			})
		}
		if wait == 0 && len(out.Messages) == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}
