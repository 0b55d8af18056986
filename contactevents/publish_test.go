package contactevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// flakySQS fails the first failCalls SendMessageBatch calls outright and
// then reports the first entry of each of the next partial calls failed;
// it records every message it accepted.
type flakySQS struct {
	API
	failCalls, partial int
	calls              int
	got                []string
}

func (f *flakySQS) SendMessageBatch(_ context.Context, in *awssqs.SendMessageBatchInput, _ ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	f.calls++
	if f.calls <= f.failCalls {
		return nil, errors.New("400: not JSON (an emulator under load)")
	}
	out := &awssqs.SendMessageBatchOutput{}
	for i, e := range in.Entries {
		if i == 0 && f.partial > 0 {
			f.partial--
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), SenderFault: false})
			continue
		}
		f.got = append(f.got, aws.ToString(e.MessageBody))
	}
	return out, nil
}

func events(n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = json.RawMessage(strconv.Quote(fmt.Sprint("event-", i)))
	}
	return out
}

// TestPublishRetries: a batch that fails, or whose entries SQS reports
// failed, is sent again after a backoff, so every event arrives exactly
// once; a sink that keeps failing gives up after publishAttempts with an
// error that says how many events were lost.
func TestPublishRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &flakySQS{failCalls: 2, partial: 2}
		p := NewPublisher(f, "http://sqs.local/q")
		start := time.Now()
		if err := p.PublishContactEvents(t.Context(), events(15)); err != nil {
			t.Fatal(err)
		}
		if len(f.got) != 15 {
			t.Fatalf("delivered %d of 15: %v", len(f.got), f.got)
		}
		seen := map[string]bool{}
		for _, m := range f.got {
			if seen[m] {
				t.Fatalf("%s delivered twice", m)
			}
			seen[m] = true
		}
		if waited := time.Since(start); waited <= 0 || waited > 4*publishBackoff.Cap {
			t.Errorf("retries waited %v (fake clock), want some and at most %v", waited, 4*publishBackoff.Cap)
		}

		dead := &flakySQS{failCalls: 1 << 30}
		err := NewPublisher(dead, "http://sqs.local/q").PublishContactEvents(t.Context(), events(3))
		if err == nil || !strings.Contains(err.Error(), "3 event(s) given up after 6 attempt(s)") {
			t.Fatalf("got %v", err)
		}
		if dead.calls != publishAttempts {
			t.Errorf("%d calls, want %d", dead.calls, publishAttempts)
		}
	})
}
