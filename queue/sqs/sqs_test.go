package sqs_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tollgatehq/tollgate/internal/testenv/moto"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/queuetest"
	"github.com/tollgatehq/tollgate/queue/sqs"
)

var seq atomic.Int64

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// queueName makes a unique, valid SQS queue name for a test.
func queueName(t *testing.T) string {
	n := unsafeName.ReplaceAllString(t.Name(), "-")
	if len(n) > 50 {
		n = n[len(n)-50:]
	}
	return fmt.Sprintf("tg-%d-%s", seq.Add(1), n)
}

func openQueue(t *testing.T, client sqs.API, o sqs.Options) *sqs.Queue {
	t.Helper()
	if o.QueueName == "" {
		o.QueueName = queueName(t)
	}
	q, err := sqs.Open(t.Context(), client, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

// TestMoto runs the conformance suite and the adapter's own tests against
// one moto_server.
func TestMoto(t *testing.T) {
	srv := moto.Start(t)
	client := awssqs.NewFromConfig(srv.AWSConfig())
	t.Run("Conformance", func(t *testing.T) {
		queuetest.Run(t, func(t *testing.T) queue.Queue {
			return openQueue(t, client, sqs.Options{
				MaxReceives:     queuetest.MaxReceives,
				MaxFreeRequeues: queuetest.MaxFreeRequeues,
				WaitTime:        -1, // short polling keeps the suite quick
			})
		})
	})
	t.Run("Adapter", func(t *testing.T) { testAdapter(t, client) })
	t.Run("DuplicateDelivery", func(t *testing.T) { testDuplicateDelivery(t, client) })
}

// testAdapter covers what only the SQS adapter does.
func testAdapter(t *testing.T, client *awssqs.Client) {

	t.Run("ExistingQueuesByURL", func(t *testing.T) {
		t.Parallel()
		// Provision the queues once (as infrastructure code would), then open
		// them by URL: nothing is created and work flows through them.
		first := openQueue(t, client, sqs.Options{WaitTime: -1})
		qURL, dURL := first.URLs()
		q, err := sqs.Open(t.Context(), client, sqs.Options{QueueURL: qURL, DeadLetterURL: dURL, WaitTime: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		if gq, gd := q.URLs(); gq != qURL || gd != dURL {
			t.Fatalf("URLs: got %s, %s want %s, %s", gq, gd, qURL, dURL)
		}
		if _, err := q.Enqueue(t.Context(), queue.Job{Op: "StartTaskContact"}); err != nil {
			t.Fatal(err)
		}
		ls, err := first.Lease(t.Context(), 1, time.Minute) // the same queue, seen through the other handle
		if err != nil || len(ls) != 1 {
			t.Fatalf("Lease through the provisioning handle: %d leases, %v", len(ls), err)
		}
		if _, err := sqs.Open(t.Context(), client, sqs.Options{QueueURL: qURL}); err == nil {
			t.Fatal("Open with QueueURL but no DeadLetterURL: want an error")
		}
		if _, err := sqs.Open(t.Context(), client, sqs.Options{QueueURL: qURL + "-missing", DeadLetterURL: dURL}); err == nil {
			t.Fatal("Open of a queue URL that does not exist: want an error")
		}
	})

	t.Run("LongPoll", func(t *testing.T) {
		t.Parallel()
		q := openQueue(t, client, sqs.Options{WaitTime: 5 * time.Second})
		go func() {
			time.Sleep(700 * time.Millisecond)
			_, _ = q.Enqueue(context.Background(), queue.Job{Op: "StartTaskContact"})
		}()
		start := time.Now()
		ls, err := q.Lease(t.Context(), 1, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) != 1 {
			t.Fatalf("long poll returned %d leases after %v, want the job sent meanwhile", len(ls), time.Since(start))
		}
		if el := time.Since(start); el < 500*time.Millisecond {
			t.Fatalf("lease returned after %v, before the job was sent", el)
		}
	})

	t.Run("RedrivePolicyBackstop", func(t *testing.T) {
		t.Parallel()
		// MaxReceives 1: a lease that just times out is moved by SQS itself
		// on the next receive; the adapter reports it as max-receives.
		q := openQueue(t, client, sqs.Options{MaxReceives: 1, WaitTime: -1})
		in, err := q.Enqueue(t.Context(), queue.Job{ID: "backstop", Op: "StartTaskContact"})
		if err != nil {
			t.Fatal(err)
		}
		if ls, err := q.Lease(t.Context(), 1, time.Second); err != nil || len(ls) != 1 {
			t.Fatalf("first lease: %v %v", ls, err)
		}
		time.Sleep(1500 * time.Millisecond)
		if ls, err := q.Lease(t.Context(), 1, time.Minute); err != nil || len(ls) != 0 {
			t.Fatalf("second lease: %v %v, want nothing", ls, err)
		}
		dead, err := q.ListDead(t.Context(), queue.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 1 || dead[0].ID != "backstop" || dead[0].DeadReason != queue.ReasonMaxReceives || dead[0].ClientToken != in[0].ClientToken {
			t.Fatalf("ListDead = %+v, want backstop with reason max-receives and its token", dead)
		}
	})

	t.Run("ForeignMessage", func(t *testing.T) {
		t.Parallel()
		q := openQueue(t, client, sqs.Options{WaitTime: -1})
		url, _ := q.URLs()
		if _, err := client.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("not a tollgate job")}); err != nil {
			t.Fatal(err)
		}
		if ls, err := q.Lease(t.Context(), 10, time.Minute); err != nil || len(ls) != 0 {
			t.Fatalf("Lease: %v %v, want the foreign message set aside", ls, err)
		}
		dead, err := q.ListDead(t.Context(), queue.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 1 || dead[0].DeadReason != "malformed" {
			t.Fatalf("ListDead = %+v, want one malformed message", dead)
		}
		if n, err := q.Redrive(t.Context(), queue.Redrive{Selector: queue.Selector{All: true}}); err != nil || n != 0 {
			t.Fatalf("Redrive of a foreign message = %d, %v; want 0 (it stays)", n, err)
		}
	})

	t.Run("BigBatch", func(t *testing.T) {
		t.Parallel()
		// 45 jobs of ~100 KB: split by count (10) and by size (about 1 MB).
		q := openQueue(t, client, sqs.Options{WaitTime: -1})
		big := `{"pad":"` + string(make([]byte, 0)) + fmt.Sprintf("%0100000d", 0) + `"}`
		jobs := make([]queue.Job, 45)
		for i := range jobs {
			jobs[i] = queue.Job{Op: "StartTaskContact", Input: []byte(big)}
		}
		if _, err := q.Enqueue(t.Context(), jobs...); err != nil {
			t.Fatal(err)
		}
		got := 0
		for range 50 {
			ls, err := q.Lease(t.Context(), 25, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			receipts := make([]string, len(ls))
			for i, l := range ls {
				receipts[i] = l.Receipt
				if len(l.Job.Input) != len(big) {
					t.Fatalf("input of %d bytes, want %d", len(l.Job.Input), len(big))
				}
			}
			if len(ls) > 0 {
				if err := q.Ack(t.Context(), receipts...); err != nil {
					t.Fatal(err)
				}
			}
			got += len(ls)
			if got == len(jobs) {
				break
			}
		}
		if got != len(jobs) {
			t.Fatalf("leased %d jobs, want %d", got, len(jobs))
		}
	})
}

// echoAPI hands out again, on request, messages it received before: the
// duplicate deliveries a standard queue may make (moto_server makes them
// when two ReceiveMessage calls race).
type echoAPI struct {
	sqs.API
	mu     sync.Mutex
	seen   []types.Message
	replay []types.Message
}

func (e *echoAPI) ReceiveMessage(ctx context.Context, in *awssqs.ReceiveMessageInput, opts ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error) {
	e.mu.Lock()
	if r := e.replay; len(r) > 0 {
		e.replay = nil
		e.mu.Unlock()
		return &awssqs.ReceiveMessageOutput{Messages: r}, nil
	}
	e.mu.Unlock()
	out, err := e.API.ReceiveMessage(ctx, in, opts...)
	if err == nil {
		e.mu.Lock()
		e.seen = append(e.seen, out.Messages...)
		e.mu.Unlock()
	}
	return out, err
}

// redeliver makes the next receive return every message received so far.
func (e *echoAPI) redeliver() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.replay = slices.Clone(e.seen)
}

// testDuplicateDelivery: a message delivered again while its lease is held
// here is not handed out a second time and does not make the holder's
// receipt stale; delivered again after it was finished, it is dropped.
func testDuplicateDelivery(t *testing.T, client *awssqs.Client) {
	t.Run("WhileLeased", func(t *testing.T) {
		t.Parallel()
		q := openQueue(t, client, sqs.Options{WaitTime: -1})
		if _, err := q.Enqueue(t.Context(), queue.Job{ID: "dup-live", Op: "StartTaskContact"}); err != nil {
			t.Fatal(err)
		}
		ls, err := q.Lease(t.Context(), 1, time.Minute)
		if err != nil || len(ls) != 1 {
			t.Fatalf("Lease: %v %v", ls, err)
		}
		// SQS delivers the same message again (a new receipt handle) while
		// the first lease is live.
		_, handle, _ := queue.SplitReceipt(ls[0].Receipt)
		url, _ := q.URLs()
		if _, err := client.ChangeMessageVisibility(t.Context(), &awssqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(url), ReceiptHandle: aws.String(handle), VisibilityTimeout: 0,
		}); err != nil {
			t.Fatal(err)
		}
		again, err := q.Lease(t.Context(), 1, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != 0 {
			t.Fatalf("the job was handed out twice at once: second lease %+v", again[0].Job)
		}
		if err := q.Ack(t.Context(), ls[0].Receipt); err != nil {
			t.Fatalf("Ack of the first (and only) lease: %v", err)
		}
		if j, err := q.Get(t.Context(), "dup-live"); err != nil || j.Status != queue.StatusSucceeded {
			t.Fatalf("Get = %v %v, want succeeded", j.Status, err)
		}
		if ls, err := q.Lease(t.Context(), 10, time.Minute); err != nil || len(ls) != 0 {
			t.Fatalf("Lease after Ack: %v %v, want nothing (the duplicate is deleted too)", ls, err)
		}
	})

	t.Run("AfterAck", func(t *testing.T) {
		t.Parallel()
		api := &echoAPI{API: client}
		q, err := sqs.Open(t.Context(), api, sqs.Options{QueueName: queueName(t), WaitTime: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		if _, err := q.Enqueue(t.Context(), queue.Job{ID: "dup-done", Op: "StartTaskContact"}); err != nil {
			t.Fatal(err)
		}
		ls, err := q.Lease(t.Context(), 1, time.Minute)
		if err != nil || len(ls) != 1 {
			t.Fatalf("Lease: %v %v", ls, err)
		}
		if err := q.Ack(t.Context(), ls[0].Receipt); err != nil {
			t.Fatal(err)
		}
		api.redeliver()
		if again, err := q.Lease(t.Context(), 1, time.Minute); err != nil || len(again) != 0 {
			t.Fatalf("Lease of a message already acked: %d leases, %v; want nothing", len(again), err)
		}
		if j, err := q.Get(t.Context(), "dup-done"); err != nil || j.Status != queue.StatusSucceeded {
			t.Fatalf("Get = %v %v, want still succeeded", j.Status, err)
		}
	})
}
