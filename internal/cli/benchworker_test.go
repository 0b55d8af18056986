package cli

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tollgatehq/tollgate/bench"
	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
)

// TestBenchRedisWorkerProcesses runs the fleet scenario with the
// tollgate-redis strategy whose callers are separate processes (this test
// binary re-executed as the CLI's bench-redis-worker), and checks that the
// heartbeat set saw one worker per caller, each from its own process.
func TestBenchRedisWorkerProcesses(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	t.Setenv(reexecEnv, "1") // the children run the CLI

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	var mu sync.Mutex
	seen := map[string]bool{}
	sample := func() {
		keys, _ := rdb.Keys(context.Background(), "tollgate:*:workers").Result()
		for _, k := range keys {
			ids, _ := rdb.ZRange(context.Background(), k, 0, -1).Result()
			mu.Lock()
			for _, id := range ids {
				seen[id] = true
			}
			mu.Unlock()
		}
	}
	var calls int
	res, err := bench.Run(context.Background(), bench.Config{
		Scenarios: []string{bench.ScenarioFleet}, Strategies: []string{bench.StrategyTollgateRedis},
		Clients: 4, Size: 0.5, RateScale: 10,
		RedisURL: srv.URL(), RedisWorker: []string{os.Args[0], benchRedisWorkerCmd},
		Progress: func(total, done int) {
			mu.Lock()
			calls += done
			n := calls
			mu.Unlock()
			if n == 20 {
				sample()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	t.Logf("%+v", r)
	if r.Failures != 0 {
		t.Errorf("failures: %d of %d", r.Failures, r.Calls)
	}
	if r.ThrottlesPerSuccess > 0.05 {
		t.Errorf("429s per success: got %.3f want at most 0.05", r.ThrottlesPerSuccess)
	}
	pids := map[string]bool{}
	mu.Lock()
	for id := range seen {
		if _, pid, ok := strings.Cut(id, "-pid"); ok {
			pids[pid] = true
		}
	}
	mu.Unlock()
	if pids[strconv.Itoa(os.Getpid())] {
		t.Errorf("a caller ran in the test process: workers %v", seen)
	}
	if len(pids) < 4 {
		t.Errorf("workers seen %v: want at least 4 separate processes", seen)
	}
}
