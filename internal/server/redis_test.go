package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	goredis "github.com/redis/go-redis/v9"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/client"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	redisenv "github.com/tollgatehq/tollgate/internal/testenv/redis"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/redisx"
	"github.com/tollgatehq/tollgate/sim"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes (a log sink).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveJobs starts s on a loopback listener, submits n jobs (half
// StartOutboundVoiceContact, half PutDialRequestBatch), waits until all have
// succeeded and returns the /metrics text; it stops the server when the
// test ends.
func serveJobs(t *testing.T, s *server.Server, n int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	c := &client.Client{BaseURL: "http://" + ln.Addr().String(), Token: testToken}
	var body bytes.Buffer
	for i := range n {
		if i%2 == 0 {
			body.WriteString(sovcLine(fmt.Sprintf("+1206555%04d", i)) + "\n")
		} else {
			fmt.Fprintf(&body, `{"op":"PutDialRequestBatch","input":{"campaignId":%q,"phoneNumber":"+1206666%04d"}}`+"\n", sim.DefaultCampaignID, i)
		}
	}
	res, err := c.SubmitRaw(ctx, body.Bytes())
	if err != nil || res.Accepted != n {
		t.Fatalf("submit: %+v %v", res, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := c.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Queue.Succeeded+st.Queue.Dead == int64(n) {
			if st.Queue.Dead != 0 {
				t.Fatalf("%d jobs dead (%v), want all %d to succeed", st.Queue.Dead, st.Queue.DeadByReason, n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	req, _ := http.NewRequest("GET", c.BaseURL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// newLoggedServer is newServer with the log captured.
func newLoggedServer(t *testing.T, h http.Handler, log io.Writer, mod func(*config.Config)) *server.Server {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Token = testToken
	cfg.AWS.Endpoint = "http://connect.sim.local"
	cfg.Limits.RateScale = 50
	cfg.Dispatch.CallTimeout = 5 * time.Second
	mod(&cfg)
	awsCfg := aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDSERVER", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient: &http.Client{Transport: memTransport{h}},
	}
	s, err := server.New(context.Background(), cfg, app.Options{
		AWS:    &awsCfg,
		Queue:  queue.NewMemory(queue.MemoryOptions{}),
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestServeRedis: with limits.redis_url the server admits through a real
// Redis (shared mode), every job succeeds, the account's keys exist, the
// limiter's series are on /metrics and the password is never logged.
func TestServeRedis(t *testing.T) {
	const password = "redis-pass-7f3a9c"
	const account = "123456789012"
	rs := redisenv.Start(t, redisenv.Options{Password: password})
	var logs syncBuffer
	s := newLoggedServer(t, newSim(t), &logs, func(c *config.Config) {
		c.Limits.RedisURL = rs.URL()
		c.Limits.Account = account
		// The suite runs beside other packages on a small machine: a
		// 50ms command bound would send the limiter into fallback for
		// a moment whenever the CPU is busy, and this test checks shared
		// mode, not the fallback (the outage tests do).
		c.Limits.RedisTimeout = time.Second
	})
	rl := s.App().Admission.Shared
	if rl == nil {
		t.Fatal("SharedLimiter is nil with limits.redis_url set")
	}
	if m := rl.Mode(); m != redisx.ModeShared {
		t.Fatalf("mode %v, want shared", m)
	}
	metrics := serveJobs(t, s, 40)

	if st := rl.Stats(); st.RoundTrips == 0 || st.SharedAdmits+st.LeaseAdmits == 0 {
		t.Errorf("limiter stats %+v: no admissions decided in Redis", st)
	}
	if m := rl.Mode(); m != redisx.ModeShared {
		t.Errorf("mode after the run %v, want shared", m)
	}
	for _, want := range []string{
		`tollgate_redis_shared_mode{account="123456789012",region="us-east-1"} 1`,
		`tollgate_redis_round_trips_total{account="123456789012",region="us-east-1"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	opt, err := goredis.ParseURL(rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	rc := goredis.NewClient(opt)
	defer rc.Close()
	ctx := context.Background()
	keys, err := rc.Keys(ctx, "tollgate:{"+account+":us-east-1}:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, k := range keys {
		have[k] = true
	}
	for _, op := range []string{"StartOutboundVoiceContact", "PutDialRequestBatch"} {
		if k := "tollgate:{" + account + ":us-east-1}:o:" + op; !have[k] {
			t.Errorf("key %s missing; keys: %v", k, keys)
		}
	}
	if k := "tollgate:{" + account + ":us-east-1}:workers"; !have[k] {
		t.Errorf("key %s missing; keys: %v", k, keys)
	}
	if strings.Contains(logs.String(), password) {
		t.Errorf("the Redis password appears in the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "sharing rate limits through Redis") {
		t.Errorf("no log line about sharing through Redis:\n%s", logs.String())
	}
}

// TestServeRedisUnreachable: an unreachable Redis does not stop the start;
// the limiter falls back to local buckets and jobs still succeed.
func TestServeRedisUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	var logs syncBuffer
	s := newLoggedServer(t, newSim(t), &logs, func(c *config.Config) {
		c.Limits.RedisURL = "redis://:hidden-secret@" + addr
		c.Limits.Account = "123456789012"
	})
	if m := s.App().Admission.Shared.Mode(); m != redisx.ModeFallback {
		t.Errorf("mode %v, want fallback", m)
	}
	serveJobs(t, s, 10)
	if strings.Contains(logs.String(), "hidden-secret") {
		t.Errorf("the Redis password appears in the log:\n%s", logs.String())
	}
}

// TestServeAdaptive: with limits.adaptive the learner paces the calls and
// every job still succeeds.
func TestServeAdaptive(t *testing.T) {
	var logs syncBuffer
	s := newLoggedServer(t, newSim(t), &logs, func(c *config.Config) { c.Limits.Adaptive = true })
	if s.App().Admission.Shared != nil {
		t.Error("SharedLimiter set without limits.redis_url")
	}
	serveJobs(t, s, 30)
	if !strings.Contains(logs.String(), "adaptive rate learning on") {
		t.Errorf("no log line about adaptive learning:\n%s", logs.String())
	}
}

// TestServeAdaptiveRedis: limits.adaptive with limits.redis_url runs the
// learner on state shared through Redis: every job succeeds and the
// learners of the operations used live in Redis.
func TestServeAdaptiveRedis(t *testing.T) {
	const account = "123456789012"
	rs := redisenv.Start(t, redisenv.Options{})
	var logs syncBuffer
	s := newLoggedServer(t, newSim(t), &logs, func(c *config.Config) {
		c.Limits.RedisURL = rs.URL()
		c.Limits.Account = account
		c.Limits.Adaptive = true
		c.Limits.RedisTimeout = time.Second // as TestServeRedis: shared mode, not fallback, is under test
	})
	if s.App().Admission.Shared == nil {
		t.Fatal("SharedLimiter is nil with limits.redis_url set")
	}
	serveJobs(t, s, 30)
	if !strings.Contains(logs.String(), "adaptive rate learning on, shared through Redis") {
		t.Errorf("no log line about the shared learner:\n%s", logs.String())
	}
	opt, err := goredis.ParseURL(rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	rc := goredis.NewClient(opt)
	defer rc.Close()
	key := "tollgate:{" + account + ":us-east-1}:l:StartOutboundVoiceContact"
	v, err := rc.HGet(context.Background(), key, "v").Int()
	if err != nil || v < 2 {
		keys, _ := rc.Keys(context.Background(), "tollgate:*").Result()
		t.Errorf("learner %s: version %d, %v; want a learner saved and updated (mode %v, keys %v)", key, v, err, s.App().Admission.Shared.Mode(), keys)
	}
}
