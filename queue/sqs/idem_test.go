package sqs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tollgatehq/tollgate/internal/testenv/moto"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/sqs"
)

// failAfter is an SQS API whose SendMessageBatch fails after n calls: a
// submit cut off part-way.
type failAfter struct {
	sqs.API
	n int
}

func (f *failAfter) SendMessageBatch(ctx context.Context, in *awssqs.SendMessageBatchInput, opts ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	if f.n <= 0 {
		return nil, errors.New("connection reset")
	}
	f.n--
	return f.API.SendMessageBatch(ctx, in, opts...)
}

// TestMotoIdempotentSubmit: a submit cut off after 2 of 5 SendMessageBatch
// calls says exactly which jobs were stored; its retry stores only the rest,
// so every job is in the queue once. A known id with other input and a token
// of another job are refused.
func TestMotoIdempotentSubmit(t *testing.T) {
	srv := moto.Start(t)
	client := awssqs.NewFromConfig(srv.AWSConfig())
	api := &failAfter{API: client, n: 2}
	q := openQueue(t, api, sqs.Options{WaitTime: -1})
	ctx := t.Context()
	jobs := make([]queue.Job, 50)
	for i := range jobs {
		jobs[i] = queue.Job{ID: fmt.Sprintf("call-%02d", i), Op: "StartOutboundVoiceContact",
			Input: json.RawMessage(fmt.Sprintf(`{"InstanceId":"i-1","DestinationPhoneNumber":"+1555010%02d"}`, i))}
	}
	_, err := q.Enqueue(ctx, jobs...)
	var be *queue.BatchError
	if !errors.As(err, &be) || len(be.Errs) != 50 {
		t.Fatalf("cut-off submit: %v, want a BatchError with one entry per job", err)
	}
	stored := 0
	for _, e := range be.Errs {
		if e == nil {
			stored++
		}
	}
	if stored != 20 {
		t.Fatalf("BatchError says %d stored, want 20 (two batches of ten)", stored)
	}
	api.n = 100
	out, err := q.Enqueue(ctx, jobs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range out {
		if want := queue.DeriveToken("", "i-1", jobs[i].ID); j.ClientToken != want {
			t.Fatalf("job %d: token %s, want the derived %s", i, j.ClientToken, want)
		}
	}
	seen := map[string]int{}
	deadline := time.Now().Add(20 * time.Second)
	for len(seen) < 50 && time.Now().Before(deadline) {
		ls, err := q.Lease(ctx, 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			seen[l.Job.ID]++
		}
	}
	// Drain what is left: nothing may be a second copy.
	for range 3 {
		ls, _ := q.Lease(ctx, 10, time.Minute)
		for _, l := range ls {
			seen[l.Job.ID]++
		}
	}
	for _, j := range jobs {
		if seen[j.ID] != 1 {
			t.Errorf("%s: %d messages, want 1", j.ID, seen[j.ID])
		}
	}

	_, err = q.Enqueue(ctx, queue.Job{ID: "call-01", Op: "StartOutboundVoiceContact", Input: json.RawMessage(`{"InstanceId":"i-1","DestinationPhoneNumber":"+15559999"}`)})
	var ce *queue.ConflictError
	if !errors.As(err, &ce) || ce.Field != "ID" || ce.ID != "call-01" {
		t.Fatalf("known id with other input: %v, want a conflict naming call-01", err)
	}
	_, err = q.Enqueue(ctx, queue.Job{ID: "call-x", Op: "StartOutboundVoiceContact", ClientToken: out[3].ClientToken})
	if !errors.As(err, &ce) || ce.Field != "ClientToken" || ce.Other != "call-03" {
		t.Fatalf("token of another job: %v, want a conflict naming call-03", err)
	}
}
