package bench

import (
	"context"
	"errors"
	"strings"
	"testing"

	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
)

// TestTollgateRedisFleet runs a small fleet with the tollgate-redis strategy
// over loopback HTTP in real time, its callers in this process (the test
// binary cannot be re-executed as a worker; internal/cli tests the process
// mode): four callers share the quota through a real redis-server.
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
	t.Logf("%+v", r)
	if r.Failures != 0 || r.Successes != r.Calls {
		t.Errorf("failures: %d of %d", r.Failures, r.Calls)
	}
	if r.ThrottlesPerSuccess > 0.05 {
		t.Errorf("429s per success: got %.3f want at most 0.05", r.ThrottlesPerSuccess)
	}
	if r.GoodputRatio < 0.85 {
		t.Errorf("goodput: got %.3f want at least 0.85", r.GoodputRatio)
	}
	if r.Fairness > 1.5 {
		t.Errorf("fairness: got %.2f want at most 1.5", r.Fairness)
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
