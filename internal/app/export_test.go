package app

import "context"

// BuildPools exposes buildPools to the tests (the pools without a
// dispatcher).
var BuildPools = buildPools

// StartBucketSaver exposes startBucketSaver (buckets.go).
func (a *App) StartBucketSaver(ctx context.Context) (stop func()) { return a.startBucketSaver(ctx) }
