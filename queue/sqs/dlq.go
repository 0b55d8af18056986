package sqs

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tollgatehq/tollgate/queue"
)

// maxScan bounds how many dead letters one ListDead, Redrive or PurgeDead
// looks at.
const maxScan = 10000

// scanVisSec hides dead letters from other scanners while one scan runs.
const scanVisSec = 30

// dead is a received dead letter.
type dead struct {
	msg  types.Message
	job  queue.Job
	meta meta
}

// scanDead receives every dead letter (up to maxScan), hidden for
// scanVisSec. The caller must settle each one: delete it or release it.
func (q *Queue) scanDead(ctx context.Context) ([]dead, error) {
	var out []dead
	seen := map[string]bool{}
	empty := 0
	for len(out) < maxScan && empty < 2 {
		res, err := q.api.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(q.dlqURL),
			MaxNumberOfMessages:         maxBatch,
			VisibilityTimeout:           scanVisSec,
			MessageAttributeNames:       attrNames,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			q.release(context.WithoutCancel(ctx), out)
			return nil, fmt.Errorf("sqs: receive dead letters: %w", err)
		}
		if len(res.Messages) == 0 {
			empty++
			continue
		}
		empty = 0
		for _, msg := range res.Messages {
			if seen[aws.ToString(msg.MessageId)] {
				continue
			}
			seen[aws.ToString(msg.MessageId)] = true
			out = append(out, deadFrom(msg))
		}
	}
	return out, nil
}

// deadFrom decodes a dead letter. Messages not written by this adapter get
// an ID from their MessageId and reason "malformed"; those SQS moved by
// itself (RedrivePolicy) get reason "max-receives".
func deadFrom(msg types.Message) dead {
	j, m, count, err := decode(msg)
	if err != nil {
		j = queue.Job{ID: "sqs-" + aws.ToString(msg.MessageId), Op: "Unknown"}
		if mj, ok := msg.MessageAttributes[attrMeta]; ok {
			var mm meta
			if jerr := jsonUnmarshal(aws.ToString(mj.StringValue), &mm); jerr == nil {
				m = mm
			}
		}
		if m.DeadReason == "" {
			m.DeadReason, m.DeadDetail = "malformed", err.Error()
		}
		j.DeadReason, j.DeadDetail, j.FinishedAt = m.DeadReason, m.DeadDetail, fromNS(m.DeadAt)
	}
	// The dead-letter queue counts its own receives; they are not the job's.
	j.Receives -= count
	if j.DeadReason == "" {
		j.DeadReason = queue.ReasonMaxReceives
		j.DeadDetail = "moved by the SQS redrive policy after " + strconv.Itoa(j.Receives) + " receives"
	}
	j.Status = queue.StatusDead
	return dead{msg: msg, job: j, meta: m}
}

// release makes scanned dead letters visible again.
func (q *Queue) release(ctx context.Context, ds []dead) {
	for start := 0; start < len(ds); start += maxBatch {
		end := min(start+maxBatch, len(ds))
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, 0, end-start)
		for i := start; i < end; i++ {
			entries = append(entries, types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), ReceiptHandle: ds[i].msg.ReceiptHandle, VisibilityTimeout: 0,
			})
		}
		_, _ = q.api.ChangeMessageVisibilityBatch(ctx, &awssqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(q.dlqURL), Entries: entries})
	}
}

func sortDead(ds []dead) {
	sort.SliceStable(ds, func(a, b int) bool {
		x, y := ds[a].job, ds[b].job
		if !x.FinishedAt.Equal(y.FinishedAt) {
			return x.FinishedAt.Before(y.FinishedAt)
		}
		return x.ID < y.ID
	})
}

// ListDead implements queue.Queue. It receives the dead letters (hiding them
// for a moment), sorts them oldest first and makes them visible again.
func (q *Queue) ListDead(ctx context.Context, o queue.ListOptions) ([]queue.Job, error) {
	if err := q.check(ctx); err != nil {
		return nil, err
	}
	ds, err := q.scanDead(ctx)
	if err != nil {
		return nil, err
	}
	q.release(context.WithoutCancel(ctx), ds)
	sortDead(ds)
	limit := queue.ListLimit(o)
	out := []queue.Job{}
	started := o.After == ""
	for _, d := range ds {
		if !started {
			started = d.job.ID == o.After
			continue
		}
		if o.Reason != "" && d.job.DeadReason != o.Reason {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, d.job)
	}
	return out, nil
}

// pick splits scanned dead letters into the selected and the rest.
func pick(ds []dead, s queue.Selector) (sel, rest []dead) {
	want := map[string]bool{}
	for _, id := range s.IDs {
		want[id] = true
	}
	for _, d := range ds {
		if (s.All && (s.Reason == "" || d.job.DeadReason == s.Reason)) || want[d.job.ID] {
			sel = append(sel, d)
		} else {
			rest = append(rest, d)
		}
	}
	return sel, rest
}

// Redrive implements queue.Queue: copies of the selected dead letters go to
// the work queue (same ID and ClientToken, fresh receive count), then the
// dead letters are deleted. Messages not written by this adapter stay.
func (q *Queue) Redrive(ctx context.Context, r queue.Redrive) (int, error) {
	if err := queue.CheckSelector(r.Selector); err != nil {
		return 0, err
	}
	if err := q.check(ctx); err != nil {
		return 0, err
	}
	ds, err := q.scanDead(ctx)
	if err != nil {
		return 0, err
	}
	sel, rest := pick(ds, r.Selector)
	var todo []dead
	var msgs []outgoing
	for _, d := range sel {
		if _, ours := d.msg.MessageAttributes[attrID]; !ours {
			rest = append(rest, d)
			continue
		}
		j, m := d.job, d.meta
		if r.ClearNotAfter {
			j.NotAfter = time.Time{}
		}
		m.Receives, m.Free = 0, 0
		m.DeadReason, m.DeadDetail, m.DeadAt = "", "", 0
		body, attrs, err := encode(j, m)
		if err != nil {
			rest = append(rest, d)
			continue
		}
		d.job = j
		todo = append(todo, d)
		msgs = append(msgs, outgoing{body: body, attrs: attrs})
	}
	errs := q.send(ctx, q.url, msgs)
	var handles []string
	var moved []dead
	for i, d := range todo {
		if errs[i] != nil {
			rest = append(rest, d)
			continue
		}
		handles = append(handles, aws.ToString(d.msg.ReceiptHandle))
		moved = append(moved, d)
	}
	q.release(context.WithoutCancel(ctx), rest)
	derrs := q.deleteBatch(ctx, q.dlqURL, handles)
	now := q.o.Now()
	q.mu.Lock()
	for _, d := range moved {
		j := d.job
		j.Status, j.VisibleAt, j.Receives, j.FreeRequeues = queue.StatusQueued, now, 0, 0
		j.DeadReason, j.DeadDetail, j.FinishedAt = "", "", time.Time{}
		q.index.put(j)
	}
	q.mu.Unlock()
	if err := queue.JoinBatch(append(errs, derrs...)); err != nil {
		return len(moved), fmt.Errorf("sqs: redrive: %w", err)
	}
	return len(moved), nil
}

// PurgeDead implements queue.Queue by deleting the selected dead letters.
func (q *Queue) PurgeDead(ctx context.Context, s queue.Selector) (int, error) {
	if err := queue.CheckSelector(s); err != nil {
		return 0, err
	}
	if err := q.check(ctx); err != nil {
		return 0, err
	}
	ds, err := q.scanDead(ctx)
	if err != nil {
		return 0, err
	}
	sel, rest := pick(ds, s)
	q.release(context.WithoutCancel(ctx), rest)
	handles := make([]string, len(sel))
	for i, d := range sel {
		handles[i] = aws.ToString(d.msg.ReceiptHandle)
	}
	errs := q.deleteBatch(ctx, q.dlqURL, handles)
	n := 0
	q.mu.Lock()
	for i, d := range sel {
		if errs[i] == nil {
			n++
			q.index.remove(d.job.ID)
		}
	}
	q.mu.Unlock()
	return n, queue.JoinBatch(errs)
}
