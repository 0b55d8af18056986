package sqs_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/sqs"
)

// Opening the SQS queue with the default credential chain. (Not run: it
// needs AWS or an emulator; the tests run the same calls against moto.)
func ExampleOpen() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	q, err := sqs.Open(ctx, awssqs.NewFromConfig(cfg), sqs.Options{QueueName: "tollgate-jobs", MaxReceives: 5})
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	if _, err := q.Enqueue(ctx, queue.Job{Op: "StartTaskContact"}); err != nil {
		log.Fatal(err)
	}
	ls, err := q.Lease(ctx, 10, 2*time.Minute) // long-polls up to 20 s
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(ls))
}
