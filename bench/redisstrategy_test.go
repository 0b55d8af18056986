package bench

import (
	"context"
	"errors"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
)

// TestTollgateRedisFleet runs a small fleet with the tollgate-redis strategy
// over loopback HTTP in real time, its callers in this process (the test
// binary cannot be re-executed as a worker; internal/cli tests the process
// mode): four callers share the quota and one learner per operation through
// a real redis-server. It checks what holds on any machine: every call
// succeeds and the learner the callers shared lives in Redis. How well the
// fleet uses the quota (goodput, 429s, fairness) is a speed figure: `tollgate
// bench --scenario fleet` measures it, not a unit test on a loaded laptop.
func TestTollgateRedisFleet(t *testing.T) {
	srv := redisenv.Start(t, redisenv.Options{})
	res, err := Run(context.Background(), Config{
		Scenarios: []string{ScenarioFleet}, Strategies: []string{StrategyTollgateRedis},
		Clients: 4, Size: 0.5, RateScale: 10, RedisURL: srv.URL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	t.Logf("goodput %.3f, 429s per success %.3f, fairness %.2f", r.GoodputRatio, r.ThrottlesPerSuccess, r.Fairness)
	if r.Failures != 0 || r.Successes != r.Calls || r.Calls == 0 {
		t.Errorf("failures: %d of %d", r.Failures, r.Calls)
	}
	opt, err := goredis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	rc := goredis.NewClient(opt)
	defer rc.Close()
	keys, err := rc.Keys(context.Background(), "*:l:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	shared := 0
	for _, k := range keys {
		if v, err := rc.HGet(context.Background(), k, "v").Int(); err == nil && v > 1 {
			shared++
		}
	}
	if shared == 0 {
		t.Errorf("no learner updated in Redis (keys %v): the callers did not share one learner", keys)
	}
}

// TestTollgateRedisNeedsURL: without a Redis URL the strategy says what to
// set instead of starting anything.
func TestTollgateRedisNeedsURL(t *testing.T) {
	_, err := Run(context.Background(), Config{
		Scenarios: []string{ScenarioBurst}, Strategies: []string{StrategyTollgateRedis}, Size: 0.05,
	})
	if !errors.Is(err, ErrNoRedis) || !strings.Contains(err.Error(), RedisURLEnv) {
		t.Fatalf("got %v want ErrNoRedis naming %s", err, RedisURLEnv)
	}
}

func TestParseOpLimit(t *testing.T) {
	steps := []struct {
		in   string
		ok   bool
		name string
		rate float64
	}{
		{"DescribeUser=99:8", true, "DescribeUser", 99},
		{"DescribeUser=0.5:1", true, "DescribeUser", 0.5},
		{"DescribeUser=99", false, "", 0},
		{"=1:1", false, "", 0},
		{"X=-1:1", false, "", 0},
		{"X=1:0", false, "", 0},
	}
	for i, s := range steps {
		name, lim, err := ParseOpLimit(s.in)
		if (err == nil) != s.ok || name != s.name || (s.ok && lim.Rate != s.rate) {
			t.Errorf("step %d (%q): got %q %+v %v", i, s.in, name, lim, err)
		}
	}
}
