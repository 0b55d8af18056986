package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// Bucket levels across restarts. A process that starts with full buckets
// spends a whole burst at once — on top of what it spent just before it
// stopped, which Connect's buckets still remember — and meets 429s. So the
// app saves the tokens each operation's bucket holds to <data dir>/BucketsFile
// every BucketSaveInterval and when it stops, and a new process takes back,
// at start, what the buckets have not refilled since: it starts from the
// admissions the previous run recorded, not full. A kill -9 loses at most
// one interval of admissions; the restore assumes the worst — that the
// bucket kept being spent at its rate until the next save was due — so a
// restart never sends more than the upstream bucket holds.

// BucketsFile is the file in the data directory holding the buckets' levels.
const BucketsFile = "buckets.json"

// BucketSaveInterval is how often the levels are saved while running.
const BucketSaveInterval = 100 * time.Millisecond

// BucketLevels is the saved state: the tokens of every operation's bucket
// below its burst at SavedAt.
type BucketLevels struct {
	SavedAt time.Time          `json:"saved_at"`
	Ops     map[string]float64 `json:"ops"`
}

// SnapshotBuckets returns the levels of the table's operations whose bucket
// is below its burst at now.
func SnapshotBuckets(h *ratelimit.Hierarchy, ops []string, now time.Time) BucketLevels {
	lv := BucketLevels{SavedAt: now.UTC(), Ops: map[string]float64{}}
	for _, op := range ops {
		l := h.Limit(op)
		if l.Unlimited() || l.Burst <= 0 {
			continue
		}
		if t, _ := h.TokensAt(now, op); t < l.Burst-1e-6 {
			lv.Ops[op] = t
		}
	}
	return lv
}

// Deficits says how many tokens each operation's full bucket must give up
// at now to hold what the saved levels have refilled to since SavedAt
// (never more than the burst; limit gives each operation's current limit).
// unsaved is the save interval: the refill counts from SavedAt + unsaved,
// as if the bucket had been spent at its rate until then.
func (lv BucketLevels) Deficits(now time.Time, unsaved time.Duration, limit func(op string) ratelimit.Limit) map[string]float64 {
	out := map[string]float64{}
	el := now.Sub(lv.SavedAt.Add(unsaved)).Seconds()
	if el < 0 {
		el = 0
	}
	for op, t := range lv.Ops {
		l := limit(op)
		if l.Unlimited() || l.Burst <= 0 {
			continue
		}
		level := min(l.Burst, t+l.Rate*el)
		if d := min(l.Burst, l.Burst-level); d > 1e-6 {
			out[op] = d
		}
	}
	return out
}

func (a *App) bucketsPath() string { return filepath.Join(a.Config.DataDir, BucketsFile) }

func (a *App) bucketOps() []string {
	apis := a.Admission.Table.APIs()
	ops := make([]string, 0, len(apis))
	for _, api := range apis {
		ops = append(ops, api.Op)
	}
	return ops
}

// saveBuckets writes the levels atomically (a temporary file renamed).
func (a *App) saveBuckets(now time.Time) error {
	lv := SnapshotBuckets(a.Admission.Buckets, a.bucketOps(), now)
	b, err := json.Marshal(lv)
	if err != nil {
		return err
	}
	tmp := a.bucketsPath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, a.bucketsPath())
}

// restoreBuckets takes from the fresh buckets what the previous run left
// unrefilled; it returns the operations it touched.
func (a *App) restoreBuckets(now time.Time) (int, error) {
	b, err := os.ReadFile(a.bucketsPath())
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var lv BucketLevels
	if err := json.Unmarshal(b, &lv); err != nil {
		return 0, fmt.Errorf("%s: %w", a.bucketsPath(), err)
	}
	h := a.Admission.Buckets
	n := 0
	for op, d := range lv.Deficits(now, BucketSaveInterval, h.Limit) {
		if dec, err := h.TryAt(now, ratelimit.Request{Op: op, Cost: d, Priority: ratelimit.PriorityCritical}); err == nil && dec.OK {
			n++
		}
	}
	return n, nil
}

// startBucketSaver restores the levels of the previous run, then saves them
// every BucketSaveInterval until the returned stop is called, and once
// more then (calls in flight may still be admitted during the shutdown
// grace, after ctx ends). Nothing happens when the buckets live in Redis (they outlive
// the process there).
func (a *App) startBucketSaver(ctx context.Context) (stop func()) {
	if a.Admission.Buckets == nil || a.Config.DataDir == "" {
		return func() {}
	}
	if n, err := a.restoreBuckets(time.Now()); err != nil {
		a.Log.Warn("bucket levels of the previous run not restored; starting full", "err", err)
	} else if n > 0 {
		a.Log.Info("buckets start from the previous run's admissions", "operations", n)
	}
	done := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(BucketSaveInterval)
		defer t.Stop()
		warned := false
		for {
			select {
			case <-quit:
				if err := a.saveBuckets(time.Now()); err != nil {
					a.Log.Warn("saving bucket levels", "err", err)
				}
				return
			case <-t.C:
				if err := a.saveBuckets(time.Now()); err != nil && !warned {
					a.Log.Warn("saving bucket levels", "err", err)
					warned = true
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}
