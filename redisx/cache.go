package redisx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// CacheOptions tunes a Cache. The zero value means every default.
type CacheOptions struct {
	// StaleFor is how long after its TTL a value is still kept, to be
	// served by GetOrRefresh while one caller refreshes it. Zero means the
	// TTL of each Set (a value lives twice its TTL).
	StaleFor time.Duration
	// LockTTL bounds one refresh: the refresh's context ends after it, and
	// another caller may take over after it. Default 10s.
	LockTTL time.Duration
	// Poll is how often a caller that has no value at all checks for the
	// one being refreshed elsewhere. Default 20ms.
	Poll time.Duration
}

// Cache is a byte cache in Redis shared by every process of an account and
// Region (the metrics poller's "poll once, serve many"). Values have a TTL
// on Redis's clock and are kept stale for a while after it. Safe for
// concurrent use.
type Cache struct {
	rdb  redis.UniversalClient
	own  bool
	keys keyspace
	o    Options
	co   CacheOptions
	log  *slog.Logger

	mu      sync.Mutex
	flights map[string]*flight // in-process single flight, by key
}

// flight is one in-process GetOrRefresh in progress.
type flight struct {
	done chan struct{}
	val  []byte
	err  error
}

// NewCache returns a Cache for o.Account and o.Region, dialing o.URL
// unless o.Client is set. Only the connection, key and logging fields of o
// are used.
func NewCache(o Options, co CacheOptions) (*Cache, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if co.StaleFor < 0 {
		return nil, invalid("CacheOptions.StaleFor", "must be >= 0, got %v", co.StaleFor)
	}
	if co.LockTTL, err = positive("CacheOptions.LockTTL", co.LockTTL, 10*time.Second); err != nil {
		return nil, err
	}
	if co.Poll, err = positive("CacheOptions.Poll", co.Poll, 20*time.Millisecond); err != nil {
		return nil, err
	}
	c := &Cache{rdb: o.Client, keys: newKeyspace(o.KeyPrefix, o.Account, o.Region), o: o, co: co, log: o.Logger, flights: map[string]*flight{}}
	if c.rdb == nil {
		if c.rdb, err = dial(o); err != nil {
			return nil, err
		}
		c.own = true
	}
	return c, nil
}

// Close closes the Redis client if NewCache dialed it.
func (c *Cache) Close() error {
	if c.own {
		return c.rdb.Close()
	}
	return nil
}

// ctx bounds one command by Options.Timeout.
func (c *Cache) cmdCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.o.Timeout)
}

// Get returns key's value if it is fresh (within its TTL): ok is false for
// a missing or stale value.
func (c *Cache) Get(ctx context.Context, key string) (v []byte, ok bool, err error) {
	v, fresh, err := c.lookup(ctx, key)
	if err != nil || !fresh {
		return nil, false, err
	}
	return v, true, nil
}

// lookup returns key's value, fresh or stale (v nil: none).
func (c *Cache) lookup(ctx context.Context, key string) (v []byte, fresh bool, err error) {
	cctx, cancel := c.cmdCtx(ctx)
	defer cancel()
	res, err := cacheGetScript.Run(cctx, c.rdb, []string{c.keys.cache(key)}).Slice()
	if err != nil {
		return nil, false, fmt.Errorf("redisx: cache get %q: %w", key, err)
	}
	if len(res) != 2 {
		return nil, false, errReply
	}
	s, ok := res[0].(string)
	if !ok {
		return nil, false, nil
	}
	n, _ := res[1].(int64)
	return []byte(s), n == 1, nil
}

// Set stores v under key, fresh for ttl and kept stale StaleFor more.
func (c *Cache) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	return c.set(ctx, key, v, ttl, "")
}

// set stores v and releases the refresh lock if token holds it.
func (c *Cache) set(ctx context.Context, key string, v []byte, ttl time.Duration, token string) error {
	if ttl <= 0 {
		return fmt.Errorf("redisx: cache set %q: ttl must be > 0, got %v", key, ttl)
	}
	stale := c.co.StaleFor
	if stale == 0 {
		stale = ttl
	}
	cctx, cancel := c.cmdCtx(ctx)
	defer cancel()
	err := cacheSetScript.Run(cctx, c.rdb, []string{c.keys.cache(key), c.keys.cacheLock(key)},
		v, max(ttl.Milliseconds(), 1), max(stale.Milliseconds(), 1), token).Err()
	if err != nil {
		return fmt.Errorf("redisx: cache set %q: %w", key, err)
	}
	return nil
}

// Delete removes key.
func (c *Cache) Delete(ctx context.Context, key string) error {
	cctx, cancel := c.cmdCtx(ctx)
	defer cancel()
	if err := c.rdb.Del(cctx, c.keys.cache(key)).Err(); err != nil {
		return fmt.Errorf("redisx: cache delete %q: %w", key, err)
	}
	return nil
}

// GetOrRefresh returns key's fresh value, or refreshes it with refresh and
// stores the result for ttl. Across all processes one caller at a time
// refreshes a key (a lock taken with SET NX PX, released when the new value
// is stored, expiring after CacheOptions.LockTTL); meanwhile the others
// return the stale value if there is one, or wait for the new value. Within
// a process, concurrent calls for one key share one attempt.
//
// If refresh fails, its error is returned, together with the stale value
// if one exists (a dashboard may prefer it to nothing). If Redis is
// unreachable, refresh is called directly and its result returned
// uncached: the cache degrades to no cache, not to an outage.
func (c *Cache) GetOrRefresh(ctx context.Context, key string, ttl time.Duration, refresh func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("redisx: cache %q: ttl must be > 0, got %v", key, ttl)
	}
	c.mu.Lock()
	if f, ok := c.flights[key]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.val, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	c.flights[key] = f
	c.mu.Unlock()
	// The attempt outlives a caller that gives up: others may be waiting.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.co.LockTTL)
	go func() {
		defer cancel()
		f.val, f.err = c.getOrRefresh(fctx, key, ttl, refresh)
		c.mu.Lock()
		delete(c.flights, key)
		c.mu.Unlock()
		close(f.done)
	}()
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Cache) getOrRefresh(ctx context.Context, key string, ttl time.Duration, refresh func(context.Context) ([]byte, error)) ([]byte, error) {
	v, fresh, err := c.lookup(ctx, key)
	if err != nil {
		return c.direct(ctx, key, refresh, err)
	}
	if fresh {
		return v, nil
	}
	token := newToken()
	for {
		lctx, cancel := c.cmdCtx(ctx)
		got, err := c.rdb.SetNX(lctx, c.keys.cacheLock(key), token, c.co.LockTTL).Result()
		cancel()
		if err != nil {
			return c.direct(ctx, key, refresh, err)
		}
		if got {
			// Someone may have stored a fresh value between our last look
			// and taking the lock.
			if cur, fresh, err := c.lookup(ctx, key); err == nil && fresh {
				c.unlock(ctx, key, token)
				return cur, nil
			}
			nv, rerr := refresh(ctx)
			if rerr != nil {
				c.unlock(ctx, key, token)
				return v, fmt.Errorf("redisx: cache refresh %q: %w", key, rerr)
			}
			if err := c.set(context.WithoutCancel(ctx), key, nv, ttl, token); err != nil {
				c.log.Warn("redisx: cache: could not store refreshed value", "key", key, "err", err.Error())
			}
			return nv, nil
		}
		if v != nil {
			return v, nil // someone else is refreshing: serve stale
		}
		// Nothing to serve: wait for the refresher's value (or for its lock
		// to lapse, then try to take over).
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("redisx: cache %q: waiting for refresh: %w", key, ctx.Err())
		case <-time.After(c.co.Poll):
		}
		v, fresh, err = c.lookup(ctx, key)
		if err != nil {
			return c.direct(ctx, key, refresh, err)
		}
		if fresh {
			return v, nil
		}
	}
}

// unlock releases key's refresh lock if token still holds it.
func (c *Cache) unlock(ctx context.Context, key, token string) {
	uctx, cancel := c.cmdCtx(context.WithoutCancel(ctx))
	defer cancel()
	_ = cacheUnlockScr.Run(uctx, c.rdb, []string{c.keys.cacheLock(key)}, token).Err()
}

// direct refreshes without Redis.
func (c *Cache) direct(ctx context.Context, key string, refresh func(context.Context) ([]byte, error), cause error) ([]byte, error) {
	if errors.Is(cause, context.Canceled) && ctx.Err() != nil {
		return nil, cause
	}
	c.log.Warn("redisx: cache unavailable; refreshing without it", "key", key, "err", cause.Error())
	v, err := refresh(ctx)
	if err != nil {
		return nil, fmt.Errorf("redisx: cache refresh %q: %w", key, err)
	}
	return v, nil
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
