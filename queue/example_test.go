package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tollgatehq/tollgate/queue"
)

// A consumer's life: lease, call, then ack, requeue or dead-letter.
func Example() {
	ctx := context.Background()
	q := queue.NewMemory(queue.MemoryOptions{})
	defer q.Close()

	jobs, _ := q.Enqueue(ctx, queue.Job{
		Op:    "StartOutboundVoiceContact",
		Input: json.RawMessage(`{"DestinationPhoneNumber":"+15550100"}`),
	})
	token := jobs[0].ClientToken

	ls, _ := q.Lease(ctx, 10, 30*time.Second)
	l := ls[0]
	fmt.Println(l.Job.Op, l.Job.Receives, l.Job.ClientToken == token)

	// A concurrency quota was full: give it back without using up a receive.
	_ = q.Requeue(ctx, l.Receipt, queue.Requeue{Reason: "concurrency quota", Free: true})

	ls, _ = q.Lease(ctx, 10, 30*time.Second)
	fmt.Println(ls[0].Job.Receives, ls[0].Job.FailedReceives(), ls[0].Job.ClientToken == token)

	_ = q.Ack(ctx, ls[0].Receipt)
	j, _ := q.Get(ctx, jobs[0].ID)
	fmt.Println(j.Status)

	// The old receipt no longer works.
	fmt.Println(errors.Is(q.Ack(ctx, l.Receipt), queue.ErrStaleReceipt))
	// Output:
	// StartOutboundVoiceContact 1 true
	// 2 1 true
	// succeeded
	// true
}

// Bad input is rejected with the job and the field named; nothing is stored.
func ExampleJobError() {
	q := queue.NewMemory(queue.MemoryOptions{})
	_, err := q.Enqueue(context.Background(),
		queue.Job{Op: "StartTaskContact", Input: json.RawMessage(`{"Name":"ok"}`)},
		queue.Job{Op: "StartTaskContact", Input: json.RawMessage(`{"Name":`)},
	)
	var je *queue.JobError
	fmt.Println(errors.Is(err, queue.ErrInvalidJob), errors.As(err, &je), je.Index, je.Field)
	s, _ := q.Stats(context.Background())
	fmt.Println(s.Ready)
	// Output:
	// true true 1 Input
	// 0
}

// Dead letters carry their reason and can be redriven with the same token.
func ExampleMemory_Redrive() {
	ctx := context.Background()
	q := queue.NewMemory(queue.MemoryOptions{})
	in, _ := q.Enqueue(ctx, queue.Job{ID: "call-42", Op: "StartOutboundVoiceContact"})
	ls, _ := q.Lease(ctx, 1, time.Minute)
	_ = q.DeadLetter(ctx, ls[0].Receipt, queue.ReasonHardQuota, "phone numbers quota reached")

	dead, _ := q.ListDead(ctx, queue.ListOptions{})
	fmt.Println(dead[0].ID, dead[0].DeadReason)

	n, _ := q.Redrive(ctx, queue.Redrive{Selector: queue.Selector{IDs: []string{"call-42"}}})
	ls, _ = q.Lease(ctx, 1, time.Minute)
	fmt.Println(n, ls[0].Job.ID, ls[0].Job.ClientToken == in[0].ClientToken)
	// Output:
	// call-42 hard-quota
	// 1 call-42 true
}

// A job the caller named carries a token derived from its ID: enqueued
// twice, it is stored once; the same ID with other input is a conflict.
func ExampleDeriveToken() {
	ctx := context.Background()
	q := queue.NewMemory(queue.MemoryOptions{})
	in := json.RawMessage(`{"InstanceId":"inst-1","DestinationPhoneNumber":"+15550100"}`)
	a, _ := q.Enqueue(ctx, queue.Job{ID: "row-17", Op: "StartOutboundVoiceContact", Input: in})
	b, _ := q.Enqueue(ctx, queue.Job{ID: "row-17", Op: "StartOutboundVoiceContact", Input: in})
	fmt.Println(a[0].ClientToken == queue.DeriveToken("", "inst-1", "row-17"), b[0].ClientToken == a[0].ClientToken)

	_, err := q.Enqueue(ctx, queue.Job{ID: "row-17", Op: "StartOutboundVoiceContact",
		Input: json.RawMessage(`{"InstanceId":"inst-1","DestinationPhoneNumber":"+15550199"}`)})
	fmt.Println(errors.Is(err, queue.ErrConflict))
	s, _ := q.Stats(ctx)
	fmt.Println(s.Ready)
	// Output:
	// true true
	// true
	// 1
}

// Cancel takes a waiting job out; a job already leased runs once.
func ExampleMemory_Cancel() {
	ctx := context.Background()
	q := queue.NewMemory(queue.MemoryOptions{})
	_, _ = q.Enqueue(ctx, queue.Job{ID: "a", Op: "StartTaskContact"}, queue.Job{ID: "b", Op: "StartTaskContact"})
	j, _ := q.Cancel(ctx, "b")
	fmt.Println(j.Status, j.DeadReason)
	ls, _ := q.Lease(ctx, 10, time.Minute)
	fmt.Println(len(ls), ls[0].Job.ID)
	_, err := q.Cancel(ctx, "a")
	fmt.Println(errors.Is(err, queue.ErrNotCancelable))
	// Output:
	// dead canceled
	// 1 a
	// true
}
