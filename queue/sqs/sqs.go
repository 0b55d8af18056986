package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/tollgatehq/tollgate/queue"
)

// API is the part of the SQS client the adapter uses; *sqs.Client
// implements it.
type API interface {
	CreateQueue(ctx context.Context, in *awssqs.CreateQueueInput, opts ...func(*awssqs.Options)) (*awssqs.CreateQueueOutput, error)
	GetQueueAttributes(ctx context.Context, in *awssqs.GetQueueAttributesInput, opts ...func(*awssqs.Options)) (*awssqs.GetQueueAttributesOutput, error)
	SetQueueAttributes(ctx context.Context, in *awssqs.SetQueueAttributesInput, opts ...func(*awssqs.Options)) (*awssqs.SetQueueAttributesOutput, error)
	SendMessageBatch(ctx context.Context, in *awssqs.SendMessageBatchInput, opts ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error)
	ReceiveMessage(ctx context.Context, in *awssqs.ReceiveMessageInput, opts ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *awssqs.DeleteMessageBatchInput, opts ...func(*awssqs.Options)) (*awssqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *awssqs.ChangeMessageVisibilityInput, opts ...func(*awssqs.Options)) (*awssqs.ChangeMessageVisibilityOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *awssqs.ChangeMessageVisibilityBatchInput, opts ...func(*awssqs.Options)) (*awssqs.ChangeMessageVisibilityBatchOutput, error)
}

var _ API = (*awssqs.Client)(nil)

// Options configure Open. QueueName is required, unless QueueURL and
// DeadLetterURL are both given.
type Options struct {
	// QueueName is the standard queue's name; it is created if missing.
	QueueName string
	// QueueURL and DeadLetterURL, when both are set, name queues that
	// already exist (provisioned with their RedrivePolicy by your
	// infrastructure code): Open then creates and changes nothing, so the
	// role needs no sqs:CreateQueue or sqs:SetQueueAttributes. The adapter
	// enforces MaxReceives itself either way.
	QueueURL      string
	DeadLetterURL string
	// DeadLetterName is the dead-letter queue's name (default QueueName +
	// "-dlq"); it is created if missing, with 14 days' retention.
	DeadLetterName string
	// MaxReceives is the receive limit (0 means queue.DefaultMaxReceives,
	// at most 1000). It is also the RedrivePolicy's maxReceiveCount.
	MaxReceives int
	// MaxFreeRequeues caps free requeues per job (0 means
	// queue.DefaultMaxFreeRequeues; negative means none are free).
	MaxFreeRequeues int
	// MaxInput caps a job's Input in bytes (0 means queue.DefaultMaxInput;
	// SQS's own limit is 1 MiB per message).
	MaxInput int
	// WaitTime is Lease's long-poll wait (0 means 20 s, the SQS maximum;
	// negative means short polling).
	WaitTime time.Duration
	// StatusLimit bounds the in-memory index behind Get (0 means 20,000
	// jobs); the oldest entries are forgotten first.
	StatusLimit int
	// Now is the clock for deadlines and timestamps; nil means time.Now.
	Now func() time.Time
}

// Queue is the SQS adapter. Create it with Open.
type Queue struct {
	api    API
	o      Options
	url    string // the work queue
	dlqURL string

	mu     sync.Mutex // guards closed, held and the index
	closed bool
	held   map[string]*held // job ID → its latest lease taken by this process
	index  *index
}

// held is a lease taken by this process, kept so Requeue and DeadLetter can
// copy the message.
type held struct {
	handle string
	msgID  string    // the SQS MessageId the lease was taken on
	job    queue.Job // Receives includes this lease
	meta   meta
	until  time.Time
	// dups are receipt handles of the same message delivered again while
	// this lease was live (SQS delivers at least once; moto_server does so
	// under load). They are deleted with the lease.
	dups []string
}

var _ queue.Queue = (*Queue)(nil)

// Open creates (or finds) the queue and its dead-letter queue and binds them
// with a RedrivePolicy.
func Open(ctx context.Context, api API, o Options) (*Queue, error) {
	existing := o.QueueURL != "" && o.DeadLetterURL != ""
	if (o.QueueURL == "") != (o.DeadLetterURL == "") {
		return nil, &queue.ArgError{Arg: "Options.DeadLetterURL", Problem: "must be set together with Options.QueueURL"}
	}
	if o.QueueName == "" && !existing {
		return nil, &queue.ArgError{Arg: "Options.QueueName", Problem: "is required"}
	}
	if o.DeadLetterName == "" {
		o.DeadLetterName = o.QueueName + "-dlq"
	}
	if o.MaxReceives <= 0 {
		o.MaxReceives = queue.DefaultMaxReceives
	}
	if o.MaxReceives > 1000 {
		return nil, &queue.ArgError{Arg: "Options.MaxReceives", Problem: "must be at most 1000 (the SQS maxReceiveCount limit)"}
	}
	if o.MaxFreeRequeues == 0 {
		o.MaxFreeRequeues = queue.DefaultMaxFreeRequeues
	} else if o.MaxFreeRequeues < 0 {
		o.MaxFreeRequeues = 0
	}
	if o.WaitTime == 0 {
		o.WaitTime = 20 * time.Second
	}
	if o.StatusLimit <= 0 {
		o.StatusLimit = 20000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	q := &Queue{api: api, o: o, held: map[string]*held{}, index: newIndex(o.StatusLimit)}
	if existing {
		// Check both queues answer before any work is accepted.
		for _, u := range []string{o.QueueURL, o.DeadLetterURL} {
			if _, err := api.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{
				QueueUrl: aws.String(u), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
			}); err != nil {
				return nil, fmt.Errorf("sqs: open existing queue %s: %w", u, err)
			}
		}
		q.url, q.dlqURL = o.QueueURL, o.DeadLetterURL
		return q, nil
	}

	dlq, err := api.CreateQueue(ctx, &awssqs.CreateQueueInput{
		QueueName:  aws.String(o.DeadLetterName),
		Attributes: map[string]string{string(types.QueueAttributeNameMessageRetentionPeriod): "1209600"},
	})
	if err != nil {
		return nil, fmt.Errorf("sqs: create dead-letter queue %s: %w", o.DeadLetterName, err)
	}
	q.dlqURL = aws.ToString(dlq.QueueUrl)
	attrs, err := api.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{
		QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return nil, fmt.Errorf("sqs: dead-letter queue ARN: %w", err)
	}
	arn := attrs.Attributes[string(types.QueueAttributeNameQueueArn)]
	main, err := api.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(o.QueueName)})
	if err != nil {
		return nil, fmt.Errorf("sqs: create queue %s: %w", o.QueueName, err)
	}
	q.url = aws.ToString(main.QueueUrl)
	policy, _ := json.Marshal(map[string]string{"deadLetterTargetArn": arn, "maxReceiveCount": strconv.Itoa(o.MaxReceives)})
	if _, err := api.SetQueueAttributes(ctx, &awssqs.SetQueueAttributesInput{
		QueueUrl:   main.QueueUrl,
		Attributes: map[string]string{string(types.QueueAttributeNameRedrivePolicy): string(policy)},
	}); err != nil {
		return nil, fmt.Errorf("sqs: set redrive policy on %s: %w", o.QueueName, err)
	}
	return q, nil
}

// URLs returns the work queue's and the dead-letter queue's URLs.
func (q *Queue) URLs() (queueURL, deadLetterURL string) { return q.url, q.dlqURL }

// Capabilities: what SQS standard queues can promise.
func (q *Queue) Capabilities() queue.Capabilities {
	return queue.Capabilities{
		VisibilityGranularity: time.Second,
		MaxDelay:              15 * time.Minute,
		MaxVisibility:         12 * time.Hour,
	}
}

// Close marks the queue closed; the client stays the caller's.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	return nil
}

func (q *Queue) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return queue.ErrClosed
	}
	return nil
}

// seconds rounds d up to whole seconds within [lo, hi].
func seconds(d time.Duration, lo, hi int32) int32 {
	s := int64((d + time.Second - 1) / time.Second)
	return int32(min(max(s, int64(lo)), int64(hi)))
}

// staleCode reports SQS error codes that mean the receipt is not usable.
func staleCode(code string) bool {
	switch code {
	case "ReceiptHandleIsInvalid", "InvalidParameterValue", "MessageNotInflight",
		"AWS.SimpleQueueService.MessageNotInflight", "AWS.SimpleQueueService.ReceiptHandleIsInvalid":
		return true
	}
	return false
}

// mapErr turns SQS errors about receipts into queue.ErrStaleReceipt.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && staleCode(ae.ErrorCode()) {
		return fmt.Errorf("%w: %s", queue.ErrStaleReceipt, ae.ErrorMessage())
	}
	return fmt.Errorf("sqs: %s: %w", op, err)
}
