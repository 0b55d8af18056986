package redisx

import (
	"io"
	"log/slog"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if os.Getenv(fleetWorkerEnv) == "1" {
		os.Exit(runFleetWorker())
	}
	// go-redis prints dial failures to stderr; the fallback tests cause
	// many on purpose.
	LogRedisClient(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}
