package moto_test

import (
	"testing"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tollgatehq/tollgate/internal/testenv/moto"
)

// A test gets its own moto_server and an SQS client pointed at it.
func ExampleStart() {
	_ = func(t *testing.T) { // in a _test.go file
		srv := moto.Start(t) // skipped without moto_server unless CI=true
		client := awssqs.NewFromConfig(srv.AWSConfig())
		_ = client
	}
}
