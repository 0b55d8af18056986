package sqlitestore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/sqlitestore"
)

// A durable queue in one file: what Enqueue returned survives a restart.
func Example() {
	dir, _ := os.MkdirTemp("", "tollgate-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "queue.db")
	ctx := context.Background()

	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	jobs, _ := s.Enqueue(ctx, queue.Job{
		ID:    "call-1",
		Op:    "StartOutboundVoiceContact",
		Input: json.RawMessage(`{"DestinationPhoneNumber":"+15550100"}`),
	})
	s.Close()

	s, _ = sqlitestore.Open(path, sqlitestore.Options{})
	defer s.Close()
	ls, _ := s.Lease(ctx, 10, 30*time.Second)
	fmt.Println(len(ls), ls[0].Job.ID, ls[0].Job.ClientToken == jobs[0].ClientToken)
	_ = s.Ack(ctx, ls[0].Receipt)
	j, _ := s.Get(ctx, "call-1")
	fmt.Println(j.Status)
	// Output:
	// 1 call-1 true
	// succeeded
}
