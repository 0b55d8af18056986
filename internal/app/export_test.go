package app

import "context"

// BuildPools exposes buildPools to the tests (the pools without the
// dispatcher, which needs branch pcore's dispatch.Pool).
var BuildPools = buildPools

// StartBucketSaver exposes startBucketSaver (buckets.go).
func (a *App) StartBucketSaver(ctx context.Context) (stop func()) { return a.startBucketSaver(ctx) }
