package redisx

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/ratelimit"
)

func newTestCache(t *testing.T, o Options, co CacheOptions) *Cache {
	t.Helper()
	c, err := NewCache(o, co)
	if err != nil {
		t.Fatalf("NewCache: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCacheGetSet(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	c := newTestCache(t, testOptions(t, srv, ratelimit.Limit{}, nil), CacheOptions{StaleFor: time.Second})
	ctx := context.Background()
	if _, ok, err := c.Get(ctx, "k"); ok || err != nil {
		t.Fatalf("Get of a missing key: ok=%v err=%v", ok, err)
	}
	val := []byte("binary\x00value\xff")
	if err := c.Set(ctx, "k", val, 100*time.Millisecond); err != nil {
		t.Fatalf("Set: %v", err)
	}
	v, ok, err := c.Get(ctx, "k")
	if err != nil || !ok || string(v) != string(val) {
		t.Fatalf("Get after Set: %q ok=%v err=%v", v, ok, err)
	}
	time.Sleep(150 * time.Millisecond)
	if _, ok, _ := c.Get(ctx, "k"); ok {
		t.Errorf("Get after the TTL: still fresh")
	}
	// Stale values are still served by GetOrRefresh while someone else
	// holds the refresh lock.
	if err := c.rdb.Set(ctx, c.keys.cacheLock("k"), "other", time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetOrRefresh(ctx, "k", time.Second, func(context.Context) ([]byte, error) {
		t.Error("refresh called while another caller holds the lock")
		return nil, nil
	})
	if err != nil || string(got) != string(val) {
		t.Errorf("GetOrRefresh with a stale value and a held lock: %q, %v want the stale value", got, err)
	}
	if err := c.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "k", val, 0); err == nil {
		t.Errorf("Set with ttl 0: want an error")
	}
}

// TestCacheSingleRefresh: twenty goroutines in two processes (two Caches,
// two connection pools) ask for a missing key at once; refresh runs once
// and everyone gets its value. After the TTL, one refresh again, while the
// others are served the stale value or the new one.
func TestCacheSingleRefresh(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	o := testOptions(t, srv, ratelimit.Limit{}, nil)
	caches := []*Cache{newTestCache(t, o, CacheOptions{Poll: 5 * time.Millisecond}), newTestCache(t, o, CacheOptions{Poll: 5 * time.Millisecond})}
	var calls atomic.Int64
	refresh := func(ctx context.Context) ([]byte, error) {
		n := calls.Add(1)
		time.Sleep(80 * time.Millisecond)
		return []byte(fmt.Sprintf("v%d", n)), nil
	}
	round := func(want ...string) {
		t.Helper()
		var wg sync.WaitGroup
		results := make(chan string, 20)
		for i := range 20 {
			c := caches[i%2]
			wg.Go(func() {
				v, err := c.GetOrRefresh(context.Background(), "metrics", 300*time.Millisecond, refresh)
				if err != nil {
					t.Errorf("GetOrRefresh: %v", err)
					return
				}
				results <- string(v)
			})
		}
		wg.Wait()
		close(results)
		for v := range results {
			ok := false
			for _, w := range want {
				ok = ok || v == w
			}
			if !ok {
				t.Errorf("GetOrRefresh returned %q, want one of %v", v, want)
			}
		}
	}
	round("v1")
	if n := calls.Load(); n != 1 {
		t.Fatalf("refresh ran %d times for 20 concurrent callers, want 1", n)
	}
	round("v1") // fresh: no refresh
	if n := calls.Load(); n != 1 {
		t.Fatalf("refresh ran again while fresh: %d", n)
	}
	time.Sleep(350 * time.Millisecond)
	round("v1", "v2")
	if n := calls.Load(); n != 2 {
		t.Fatalf("refresh ran %d times in total after expiry, want 2", n)
	}
	if v, ok, _ := caches[1].Get(context.Background(), "metrics"); !ok || string(v) != "v2" {
		t.Errorf("after the second refresh: %q ok=%v want v2", v, ok)
	}
}

// TestCacheRefreshError: a failed refresh returns its error with the stale
// value, releases the lock, and the next caller refreshes.
func TestCacheRefreshError(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	c := newTestCache(t, testOptions(t, srv, ratelimit.Limit{}, nil), CacheOptions{})
	ctx := context.Background()
	// Fresh for 1 s, then stale until 2 s (StaleFor defaults to the TTL):
	// a window wide enough for a slow machine to call in.
	if err := c.Set(ctx, "k", []byte("old"), time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1050 * time.Millisecond)
	boom := errors.New("upstream throttled")
	v, err := c.GetOrRefresh(ctx, "k", time.Second, func(context.Context) ([]byte, error) { return nil, boom })
	if !errors.Is(err, boom) || string(v) != "old" {
		t.Fatalf("failed refresh: got %q, %v want the stale value and the error", v, err)
	}
	v, err = c.GetOrRefresh(ctx, "k", time.Second, func(context.Context) ([]byte, error) { return []byte("new"), nil })
	if err != nil || string(v) != "new" {
		t.Fatalf("refresh after a failure: got %q, %v want new (the lock was released)", v, err)
	}
}

// TestCacheRedisDown: with Redis unreachable GetOrRefresh calls refresh
// directly instead of failing.
func TestCacheRedisDown(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	c := newTestCache(t, testOptions(t, srv, ratelimit.Limit{}, nil), CacheOptions{})
	srv.Kill()
	v, err := c.GetOrRefresh(context.Background(), "k", time.Second, func(context.Context) ([]byte, error) { return []byte("direct"), nil })
	if err != nil || string(v) != "direct" {
		t.Fatalf("GetOrRefresh with Redis down: %q, %v want the refreshed value", v, err)
	}
	if _, _, err := c.Get(context.Background(), "k"); err == nil {
		t.Errorf("Get with Redis down: want an error")
	}
}
