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
// admissions the previous run recorded, not full. A kill -9 loses the
// admissions since the last save: one interval, or more when a busy machine
// ran the saver late. The restore assumes the worst within
// BucketUnsavedWorst — that the bucket kept being spent at its rate that
// long after the last save — so a restart does not send more than the
// upstream bucket holds.

// BucketsFile is the file in the data directory holding the buckets' levels.
const BucketsFile = "buckets.json"

// BucketSaveInterval is how often the levels are saved while running.
const BucketSaveInterval = 100 * time.Millisecond

// BucketUnsavedWorst is how long after its last save a killed process is
// assumed to have kept spending its buckets at their rate. It is far above
// BucketSaveInterval because a loaded machine runs the saver late (a CI run
// saw 8 upstream 429s after a restart with the interval alone); it costs a
// restart within it at most this long of refill it could have used.
const BucketUnsavedWorst = 2 * time.Second

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

// bucketSets are the hierarchies whose levels are saved: the single
// account's in BucketsFile, or each pool's in buckets.<pool>.json (each
// pool has its own buckets: its own account's). Admissions whose buckets
// live in Redis are left out.
func (a *App) bucketSets() []bucketSet {
	if len(a.Pools) == 0 {
		if a.Admission.Buckets == nil {
			return nil
		}
		return []bucketSet{{path: filepath.Join(a.Config.DataDir, BucketsFile), adm: a.Admission}}
	}
	var out []bucketSet
	for _, p := range a.Pools {
		if p.Admission.Buckets != nil {
			out = append(out, bucketSet{path: filepath.Join(a.Config.DataDir, PoolBucketsFile(p.Config.Name)), adm: p.Admission})
		}
	}
	return out
}

// PoolBucketsFile is the file in the data directory holding a pool's
// buckets' levels.
func PoolBucketsFile(pool string) string { return "buckets." + pool + ".json" }

func (b bucketSet) ops() []string {
	apis := b.adm.Table.APIs()
	ops := make([]string, 0, len(apis))
	for _, api := range apis {
		ops = append(ops, api.Op)
	}
	return ops
}

// save writes the levels atomically (a temporary file renamed).
func (b bucketSet) save(now time.Time) error {
	lv := SnapshotBuckets(b.adm.Buckets, b.ops(), now)
	data, err := json.Marshal(lv)
	if err != nil {
		return err
	}
	tmp := b.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, b.path)
}

// restore takes from the fresh buckets what the previous run left
// unrefilled; it returns the operations it touched.
func (b bucketSet) restore(now time.Time) (int, error) {
	data, err := os.ReadFile(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var lv BucketLevels
	if err := json.Unmarshal(data, &lv); err != nil {
		return 0, fmt.Errorf("%s: %w", b.path, err)
	}
	h := b.adm.Buckets
	n := 0
	for op, d := range lv.Deficits(now, BucketUnsavedWorst, h.Limit) {
		if dec, err := h.TryAt(now, ratelimit.Request{Op: op, Cost: d, Priority: ratelimit.PriorityCritical}); err == nil && dec.OK {
			n++
		}
	}
	return n, nil
}

// saveBuckets saves every set; the first error is returned.
func (a *App) saveBuckets(sets []bucketSet, now time.Time) error {
	var first error
	for _, b := range sets {
		if err := b.save(now); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// startBucketSaver restores the levels of the previous run, then saves them
// every BucketSaveInterval until the returned stop is called, and once
// more then (calls in flight may still be admitted during the shutdown
// grace, after ctx ends). Nothing happens when the buckets live in Redis (they outlive
// the process there). With pools each pool's buckets are saved in a file of
// their own (PoolBucketsFile).
func (a *App) startBucketSaver(ctx context.Context) (stop func()) {
	sets := a.bucketSets()
	if len(sets) == 0 || a.Config.DataDir == "" {
		return func() {}
	}
	for _, b := range sets {
		if n, err := b.restore(time.Now()); err != nil {
			a.Log.Warn("bucket levels of the previous run not restored; starting full", "file", b.path, "err", err)
		} else if n > 0 {
			a.Log.Info("buckets start from the previous run's admissions", "file", filepath.Base(b.path), "operations", n)
		}
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
				if err := a.saveBuckets(sets, time.Now()); err != nil {
					a.Log.Warn("saving bucket levels", "err", err)
				}
				return
			case <-t.C:
				if err := a.saveBuckets(sets, time.Now()); err != nil && !warned {
					a.Log.Warn("saving bucket levels", "err", err)
					warned = true
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}
