package queuetest_test

import (
	"testing"

	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/queuetest"
)

// A backend's test runs the suite with the receive limits it expects.
func ExampleRun() {
	_ = func(t *testing.T) { // in a _test.go file: func TestConformance(t *testing.T) { ... }
		queuetest.Run(t, func(t *testing.T) queue.Queue {
			return queue.NewMemory(queue.MemoryOptions{
				MaxReceives:     queuetest.MaxReceives,
				MaxFreeRequeues: queuetest.MaxFreeRequeues,
			})
		})
	}
}
