package sqs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tollgatehq/tollgate/queue"
)

// SQS limits.
const (
	maxBatch       = 10
	maxBatchBytes  = 1_000_000 // under the 1 MiB batch payload limit, with room for overhead
	maxMessageSize = 1 << 20
	maxDelaySec    = 900
	maxVisSec      = 43200
	holdSec        = 60 // visibility held on a lease while Requeue/DeadLetter copy it
)

// outgoing is one message to send.
type outgoing struct {
	body  string
	attrs map[string]types.MessageAttributeValue
	delay int32
}

// send sends messages in batches of at most ten and about 1 MB, and returns
// one error per message (nil where it was stored).
func (q *Queue) send(ctx context.Context, url string, msgs []outgoing) []error {
	errs := make([]error, len(msgs))
	for start := 0; start < len(msgs); {
		end, bytes := start, 0
		for end < len(msgs) && end-start < maxBatch {
			sz := size(msgs[end].body, msgs[end].attrs)
			if end > start && bytes+sz > maxBatchBytes {
				break
			}
			bytes += sz
			end++
		}
		entries := make([]types.SendMessageBatchRequestEntry, 0, end-start)
		for i := start; i < end; i++ {
			entries = append(entries, types.SendMessageBatchRequestEntry{
				Id:                aws.String(strconv.Itoa(i)),
				MessageBody:       aws.String(msgs[i].body),
				MessageAttributes: msgs[i].attrs,
				DelaySeconds:      msgs[i].delay,
			})
		}
		out, err := q.api.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil {
			for i := start; i < end; i++ {
				errs[i] = fmt.Errorf("sqs: send: %w", err)
			}
		} else {
			for _, f := range out.Failed {
				if i, err := strconv.Atoi(aws.ToString(f.Id)); err == nil && i >= start && i < end {
					errs[i] = fmt.Errorf("sqs: send: %s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
				}
			}
		}
		start = end
	}
	return errs
}

// deleteBatch deletes messages by receipt handle from url, ten per call, and
// returns one error per handle.
func (q *Queue) deleteBatch(ctx context.Context, url string, handles []string) []error {
	errs := make([]error, len(handles))
	for start := 0; start < len(handles); start += maxBatch {
		end := min(start+maxBatch, len(handles))
		entries := make([]types.DeleteMessageBatchRequestEntry, 0, end-start)
		for i := start; i < end; i++ {
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(handles[i])})
		}
		out, err := q.api.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil {
			for i := start; i < end; i++ {
				errs[i] = mapErr("delete", err)
			}
			continue
		}
		for _, f := range out.Failed {
			i, err := strconv.Atoi(aws.ToString(f.Id))
			if err != nil || i < start || i >= end {
				continue
			}
			if staleCode(aws.ToString(f.Code)) {
				errs[i] = fmt.Errorf("%w: %s", queue.ErrStaleReceipt, aws.ToString(f.Message))
			} else {
				errs[i] = fmt.Errorf("sqs: delete: %s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
			}
		}
	}
	return errs
}

// Enqueue implements queue.Queue. Invalid input is rejected before anything
// is sent. SQS stores at most ten messages per call and each call can fail
// on its own, so a large batch can be stored in part: then the error is a
// *queue.BatchError with nil for each stored job, and the returned jobs
// still name every job.
func (q *Queue) Enqueue(ctx context.Context, jobs ...queue.Job) ([]queue.Job, error) {
	if err := q.check(ctx); err != nil {
		return nil, err
	}
	now := q.o.Now()
	prepared, err := queue.Prepare(now, q.o.MaxInput, jobs)
	if err != nil {
		return nil, err
	}
	// Jobs this process already stored are not sent again (a retried
	// submit); other work under their ID, or a token another job holds, is
	// refused before anything is sent. Across processes SQS cannot tell, so
	// a repeat is stored twice — and the token, derived from the ID, lets
	// Connect start one contact for both.
	known := make([]bool, len(prepared))
	q.mu.Lock()
	for i, j := range prepared {
		var err error
		if known[i], err = q.index.conflict(i, j); err != nil {
			q.mu.Unlock()
			return nil, err
		}
		if known[i] {
			if stored, ok := q.index.get(j.ID, now); ok {
				prepared[i] = stored
			}
		}
	}
	q.mu.Unlock()
	msgs := make([]outgoing, 0, len(prepared))
	pos := make([]int, 0, len(prepared)) // msgs[k] is job pos[k]
	for i, j := range prepared {
		if known[i] {
			continue
		}
		body, attrs, err := encode(j, meta{Group: j.GroupKey, Enqueued: ns(j.EnqueuedAt), NotBefore: ns(j.NotBefore)})
		if err != nil {
			return nil, err
		}
		if size(body, attrs) > maxMessageSize {
			return nil, &queue.JobError{Index: i, ID: jobs[i].ID, Field: "Input", Problem: "makes a message over the SQS limit of 1 MiB"}
		}
		msgs = append(msgs, outgoing{body: body, attrs: attrs, delay: seconds(j.VisibleAt.Sub(now), 0, maxDelaySec)})
		pos = append(pos, i)
	}
	sent := q.send(ctx, q.url, msgs)
	errs := make([]error, len(prepared))
	q.mu.Lock()
	for k, i := range pos {
		if errs[i] = sent[k]; errs[i] == nil {
			q.index.enqueued(prepared[i])
		}
	}
	q.mu.Unlock()
	if err := queue.JoinBatch(errs); err != nil {
		if ctx.Err() != nil {
			return prepared, fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return prepared, err
	}
	return prepared, nil
}

// Lease implements queue.Queue. It long-polls until the first message
// arrives, then takes what is immediately available up to n.
func (q *Queue) Lease(ctx context.Context, n int, visibility time.Duration) ([]queue.Lease, error) {
	if err := queue.CheckLease(n, visibility); err != nil {
		return nil, err
	}
	if err := q.check(ctx); err != nil {
		return nil, err
	}
	vis := seconds(visibility, 1, maxVisSec)
	wait := seconds(q.o.WaitTime, 0, 20)
	if q.o.WaitTime < 0 {
		wait = 0
	}
	var out []queue.Lease
	for len(out) < n {
		want := min(maxBatch, n-len(out))
		res, err := q.api.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(q.url),
			MaxNumberOfMessages:         int32(want),
			VisibilityTimeout:           vis,
			WaitTimeSeconds:             wait,
			MessageAttributeNames:       attrNames,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			if len(out) > 0 {
				return out, nil
			}
			return nil, fmt.Errorf("sqs: receive: %w", err)
		}
		now := q.o.Now()
		until := now.Add(time.Duration(vis) * time.Second)
		for _, msg := range res.Messages {
			j, m, _, err := decode(msg)
			if err != nil {
				if err := q.moveDead(ctx, msg, j, m, "malformed", err.Error()); err != nil {
					return out, err
				}
				continue
			}
			// Decide on the receives before this one, as every backend does.
			j.Receives--
			if reason, detail := queue.DeadOnLease(j, now, q.o.MaxReceives); reason != "" {
				j.Receives++
				if err := q.moveDead(ctx, msg, j, m, reason, detail); err != nil {
					return out, err
				}
				continue
			}
			j.Receives++
			j.Status = queue.StatusInFlight
			j.VisibleAt = until
			handle, msgID := aws.ToString(msg.ReceiptHandle), aws.ToString(msg.MessageId)
			q.mu.Lock()
			again, finished := q.redelivered(j.ID, msgID, handle, now)
			if !again {
				q.held[j.ID] = &held{handle: handle, msgID: msgID, job: j, meta: m, until: until}
				q.index.put(j)
			}
			q.mu.Unlock()
			if finished {
				// Already acked, requeued or dead-lettered here: this copy
				// is left over. Deleting it is best effort; if it stays, it
				// is recognised again on its next delivery.
				_ = q.deleteBatch(ctx, q.url, []string{handle})
			}
			if !again {
				out = append(out, queue.Lease{Job: j, Receipt: queue.MakeReceipt(j.ID, handle), Until: until})
			}
		}
		if len(res.Messages) < want {
			break
		}
		wait = 0
	}
	q.sweep()
	return out, nil
}

// redelivered reports whether a received message is one this process
// already leased and whose lease is still live (again; its handle is kept
// with that lease) or already finished here (again and finished). Standard
// queues deliver at least once, so two consumers can receive one message at
// once; handing out the second copy would put one job in two hands and make
// the first holder's receipt look stale. Requires q.mu held.
func (q *Queue) redelivered(id, msgID, handle string, now time.Time) (again, finished bool) {
	h := q.held[id]
	if h == nil || msgID == "" || h.msgID != msgID {
		return false, false // a new message (e.g. a requeued copy)
	}
	if strings.HasPrefix(h.handle, donePrefix) {
		return true, true
	}
	if now.Before(h.until) {
		h.dups = append(h.dups, handle)
		return true, false
	}
	return false, false // the lease timed out: this is a fresh lease
}

// sweep forgets held leases long past their deadline.
func (q *Queue) sweep() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.held) < 1024 {
		return
	}
	cut := q.o.Now().Add(-15 * time.Minute)
	for id, h := range q.held {
		if h.until.Before(cut) {
			delete(q.held, id)
		}
	}
}

// moveDead copies a received message to the dead-letter queue with a reason,
// then deletes it from the work queue.
func (q *Queue) moveDead(ctx context.Context, msg types.Message, j queue.Job, m meta, reason, detail string) error {
	now := q.o.Now()
	var body string
	var attrs map[string]types.MessageAttributeValue
	if j.ID == "" { // not ours: keep the body and attributes as they are
		body, attrs = aws.ToString(msg.Body), msg.MessageAttributes
		if attrs == nil {
			attrs = map[string]types.MessageAttributeValue{}
		}
		mm := meta{DeadReason: reason, DeadDetail: queue.Truncate(detail, queue.MaxDetailLen), DeadAt: now.UnixNano()}
		mj, _ := jsonMarshal(mm)
		attrs[attrMeta] = str(mj)
	} else {
		m.Receives = j.Receives
		m.DeadReason, m.DeadDetail, m.DeadAt = reason, detail, now.UnixNano()
		var err error
		if body, attrs, err = encode(j, m); err != nil {
			return err
		}
	}
	if err := q.send(ctx, q.dlqURL, []outgoing{{body: body, attrs: attrs}})[0]; err != nil {
		return err
	}
	if err := q.deleteBatch(ctx, q.url, []string{aws.ToString(msg.ReceiptHandle)})[0]; err != nil {
		return err
	}
	if j.ID != "" {
		j.Status, j.DeadReason, j.DeadDetail, j.FinishedAt = queue.StatusDead, reason, detail, now
		q.mu.Lock()
		q.index.put(j)
		q.mu.Unlock()
	}
	return nil
}

// lookup checks a receipt against this process's leases. h is nil when the
// lease was taken elsewhere; err is ErrStaleReceipt when the receipt is
// malformed, finished, or not the job's latest lease here.
func (q *Queue) lookup(receipt string) (id, handle string, h *held, err error) {
	id, handle, ok := queue.SplitReceipt(receipt)
	if !ok {
		return "", "", nil, queue.ErrStaleReceipt
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	h = q.held[id]
	if h != nil && h.handle != handle {
		return "", "", nil, queue.ErrStaleReceipt
	}
	return id, handle, h, nil
}

// donePrefix marks a held entry whose lease has been finished.
const donePrefix = "done:"

// finish forgets a held lease after Ack, Requeue or DeadLetter: a later use
// of the same receipt is stale, and a later delivery of the same message is
// recognised as left over. Requires q.mu held.
func (q *Queue) finish(id, handle string) {
	var msgID string
	if h := q.held[id]; h != nil && h.handle == handle {
		msgID = h.msgID
	}
	q.held[id] = &held{handle: donePrefix + handle, msgID: msgID, until: q.o.Now()}
}

// withDups returns handle and the handles of the same message delivered
// again while its lease was held here, so deleting them all removes the
// message whichever receipt SQS counts as the latest.
func (q *Queue) withDups(id, handle string) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	if h := q.held[id]; h != nil && h.handle == handle {
		return append([]string{handle}, h.dups...)
	}
	return []string{handle}
}

// Ack implements queue.Queue with DeleteMessageBatch.
func (q *Queue) Ack(ctx context.Context, receipts ...string) error {
	if err := q.check(ctx); err != nil {
		return err
	}
	errs := make([]error, len(receipts))
	var handles, dups []string
	var pos []int
	ids := make([]string, len(receipts))
	for i, r := range receipts {
		id, handle, _, err := q.lookup(r)
		if err != nil {
			errs[i] = err
			continue
		}
		ids[i] = id
		handles = append(handles, handle)
		dups = append(dups, q.withDups(id, handle)[1:]...)
		pos = append(pos, i)
	}
	derrs := q.deleteBatch(ctx, q.url, handles)
	if len(dups) > 0 {
		_ = q.deleteBatch(ctx, q.url, dups) // best effort: the message is gone once one handle deletes it
	}
	now := q.o.Now()
	q.mu.Lock()
	for k, i := range pos {
		errs[i] = derrs[k]
		if derrs[k] != nil {
			continue
		}
		q.finish(ids[i], handles[k])
		q.index.update(ids[i], func(j *queue.Job) {
			j.Status, j.FinishedAt, j.Input = queue.StatusSucceeded, now, nil
		})
	}
	q.mu.Unlock()
	return queue.JoinBatch(errs)
}

// Extend implements queue.Queue with ChangeMessageVisibility.
func (q *Queue) Extend(ctx context.Context, receipt string, visibility time.Duration) error {
	if err := queue.CheckVisibility(visibility); err != nil {
		return err
	}
	if err := q.check(ctx); err != nil {
		return err
	}
	id, handle, _, err := q.lookup(receipt)
	if err != nil {
		return err
	}
	vis := seconds(visibility, 1, maxVisSec)
	if _, err := q.api.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(handle), VisibilityTimeout: vis,
	}); err != nil {
		return mapErr("extend", err)
	}
	until := q.o.Now().Add(time.Duration(vis) * time.Second)
	q.mu.Lock()
	if h := q.held[id]; h != nil && h.handle == handle {
		h.until = until
	}
	q.index.update(id, func(j *queue.Job) { j.Status, j.VisibleAt = queue.StatusInFlight, until })
	q.mu.Unlock()
	return nil
}

// hold checks the receipt with SQS and keeps the message invisible while
// it is copied.
func (q *Queue) hold(ctx context.Context, handle string) error {
	_, err := q.api.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(handle), VisibilityTimeout: holdSec,
	})
	return mapErr("hold lease", err)
}

// Requeue implements queue.Queue: a copy with the new counts goes back with
// the delay (at most 15 minutes), then the leased message is deleted. A
// lease taken by another process can only be made visible again after the
// delay, counted as a failed receive and without the reason.
func (q *Queue) Requeue(ctx context.Context, receipt string, r queue.Requeue) error {
	r, err := queue.CheckRequeue(r)
	if err != nil {
		return err
	}
	if err := q.check(ctx); err != nil {
		return err
	}
	id, handle, h, err := q.lookup(receipt)
	if err != nil {
		return err
	}
	if h == nil {
		_, err := q.api.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(handle), VisibilityTimeout: seconds(r.Delay, 0, maxVisSec),
		})
		return mapErr("requeue", err)
	}
	if err := q.hold(ctx, handle); err != nil {
		return err
	}
	j, m := h.job, h.meta
	m.Receives = j.Receives
	if r.Reason != "" {
		m.LastError = r.Reason
	}
	if (r.Free || r.Return) && m.Free < q.o.MaxFreeRequeues {
		m.Free++
	}
	body, attrs, err := encode(j, m)
	if err != nil {
		return err
	}
	delay := seconds(r.Delay, 0, maxDelaySec)
	if err := q.send(ctx, q.url, []outgoing{{body: body, attrs: attrs, delay: delay}})[0]; err != nil {
		return err
	}
	if err := q.deleteBatch(ctx, q.url, q.withDups(id, handle))[0]; err != nil {
		return fmt.Errorf("sqs: requeue: copy sent but the leased message stays (it will be delivered twice): %w", err)
	}
	now := q.o.Now()
	q.mu.Lock()
	// The copy is visible as soon as it is sent, so another consumer may
	// already hold it: then its lease, not this one, is the current state.
	if cur := q.held[id]; cur == nil || cur.handle == handle {
		q.finish(id, handle)
		q.index.update(id, func(x *queue.Job) {
			x.Status, x.VisibleAt = queue.StatusQueued, now.Add(time.Duration(delay)*time.Second)
			x.LastError, x.FreeRequeues, x.Receives = m.LastError, m.Free, m.Receives
		})
	}
	q.mu.Unlock()
	return nil
}

// DeadLetter implements queue.Queue: a copy with the reason goes to the
// dead-letter queue, then the leased message is deleted. The lease must
// have been taken by this process.
func (q *Queue) DeadLetter(ctx context.Context, receipt, reason, detail string) error {
	detail, err := queue.CheckDeadLetter(reason, detail)
	if err != nil {
		return err
	}
	if err := q.check(ctx); err != nil {
		return err
	}
	id, handle, h, err := q.lookup(receipt)
	if err != nil {
		return err
	}
	if h == nil {
		return fmt.Errorf("%w: lease not taken by this process; SQS cannot move it with a reason", queue.ErrStaleReceipt)
	}
	if err := q.hold(ctx, handle); err != nil {
		return err
	}
	j, m := h.job, h.meta
	now := q.o.Now()
	m.Receives = j.Receives
	m.DeadReason, m.DeadDetail, m.DeadAt = reason, detail, now.UnixNano()
	body, attrs, err := encode(j, m)
	if err != nil {
		return err
	}
	if err := q.send(ctx, q.dlqURL, []outgoing{{body: body, attrs: attrs}})[0]; err != nil {
		return err
	}
	if err := q.deleteBatch(ctx, q.url, q.withDups(id, handle))[0]; err != nil {
		return fmt.Errorf("sqs: dead-letter: copy sent but the leased message stays: %w", err)
	}
	q.mu.Lock()
	q.finish(id, handle)
	j.Status, j.DeadReason, j.DeadDetail, j.FinishedAt = queue.StatusDead, reason, detail, now
	q.index.put(j)
	q.mu.Unlock()
	return nil
}

// Get implements queue.Queue from the in-memory index: it knows the jobs
// this process enqueued, leased or dead-lettered (see Options.StatusLimit).
func (q *Queue) Get(ctx context.Context, id string) (queue.Job, error) {
	if err := q.check(ctx); err != nil {
		return queue.Job{}, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	j, ok := q.index.get(id, q.o.Now())
	if !ok {
		return queue.Job{}, queue.ErrNotFound
	}
	return j, nil
}

// Stats implements queue.Queue from GetQueueAttributes (approximate).
func (q *Queue) Stats(ctx context.Context) (queue.Stats, error) {
	if err := q.check(ctx); err != nil {
		return queue.Stats{}, err
	}
	get := func(url string, names ...types.QueueAttributeName) (map[string]int64, error) {
		out, err := q.api.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: names})
		if err != nil {
			return nil, fmt.Errorf("sqs: stats: %w", err)
		}
		m := map[string]int64{}
		for _, n := range names {
			m[string(n)], _ = strconv.ParseInt(out.Attributes[string(n)], 10, 64)
		}
		return m, nil
	}
	w, err := get(q.url, types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed)
	if err != nil {
		return queue.Stats{}, err
	}
	d, err := get(q.dlqURL, types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
	if err != nil {
		return queue.Stats{}, err
	}
	s := queue.Stats{
		Ready:       w[string(types.QueueAttributeNameApproximateNumberOfMessages)],
		InFlight:    w[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)],
		Delayed:     w[string(types.QueueAttributeNameApproximateNumberOfMessagesDelayed)],
		Dead:        d[string(types.QueueAttributeNameApproximateNumberOfMessages)] + d[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)],
		Approximate: true,
	}
	q.mu.Lock()
	for _, j := range q.index.jobs {
		if j.Status == queue.StatusSucceeded {
			s.Succeeded++
		}
	}
	q.mu.Unlock()
	return s, nil
}
