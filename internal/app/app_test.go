package app_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tollgatehq/tollgate/adaptive"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
)

func staticAWS() *aws.Config {
	return &aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDAPP", "secret", "")}
}

// TestNewAdmission: the limits settings pick the limiter, scale the table
// and take the headroom off every burst.
func TestNewAdmission(t *testing.T) {
	type step struct {
		limits       config.Limits
		adaptive     bool
		rate         float64
		burst        int
		accountLimit bool
	}
	base, _ := quotas.Default().API("DescribeUser")
	for i, s := range []step{
		{config.Limits{}, false, base.Rate, base.Burst, false},
		{config.Limits{RateScale: 10, BurstHeadroom: 1}, false, base.Rate * 10, base.Burst*10 - 1, false},
		{config.Limits{RateScale: 2, Adaptive: true}, true, base.Rate * 2, base.Burst * 2, false},
		{config.Limits{RateScale: 1, AccountRate: 3, AccountBurst: 3}, false, base.Rate, base.Burst, true},
	} {
		adm, err := app.NewAdmission(app.AdmissionOptions{Limits: s.limits})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got, _ := adm.Table.API("DescribeUser")
		if got.Rate != s.rate || got.Burst != s.burst {
			t.Errorf("step %d: DescribeUser %v/%d, want %v/%d", i, got.Rate, got.Burst, s.rate, s.burst)
		}
		if (adm.Adapter != nil) != s.adaptive || (adm.Observer != nil) != s.adaptive {
			t.Errorf("step %d: adapter %v observer %v, want adaptive=%v", i, adm.Adapter, adm.Observer, s.adaptive)
		}
		if _, isHier := adm.Limiter.(*ratelimit.Hierarchy); isHier == s.adaptive {
			t.Errorf("step %d: limiter %T", i, adm.Limiter)
		}
		if err := adm.Close(); err != nil {
			t.Errorf("step %d: Close: %v", i, err)
		}
	}
}

// throttle is a rate throttle as the SDK reports it.
type throttle struct{}

func (throttle) Error() string     { return "ThrottlingException: Rate exceeded" }
func (throttle) ErrorCode() string { return "ThrottlingException" }

// TestNewGovernorKeepsLearner: a caller's own observer is added to the
// learner's, never in place of it.
func TestNewGovernorKeepsLearner(t *testing.T) {
	adm, err := app.NewAdmission(app.AdmissionOptions{Limits: config.Limits{Adaptive: true}, Adapter: adaptive.AdapterOptions{RandSeed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var mine atomic.Int64
	g := adm.NewGovernor(governor.Options{MaxAttempts: 1, Observer: governor.ObserverFuncs{Attempt: func(governor.Attempt) { mine.Add(1) }}})
	for range 3 {
		_ = g.Do(context.Background(), "DescribeUser", func(context.Context) error { return throttle{} })
	}
	if mine.Load() != 3 {
		t.Errorf("own observer saw %d attempts, want 3", mine.Load())
	}
	snap, ok := adm.Adapter.Snapshot("DescribeUser")
	if !ok || snap.Limit.Rate >= snap.Seed.Rate {
		t.Errorf("the learner did not lower its rate after throttles: %+v (ok %v)", snap, ok)
	}
}

// TestNewEmbedded: New on the defaults opens the embedded queue in the data
// directory, and Close closes it.
func TestNewEmbedded(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.AWS.Endpoint = "http://127.0.0.1:1"
	a, err := app.New(context.Background(), cfg, app.Options{AWS: staticAWS(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, app.QueueFile)); err != nil {
		t.Errorf("embedded queue file: %v", err)
	}
	if a.Admission.Shared != nil || a.Admission.Adapter != nil {
		t.Errorf("defaults built %+v, want the plain Hierarchy", a.Admission)
	}
	if _, err := a.Queue.Enqueue(context.Background(), queue.Job{Op: "ListQueues", Input: []byte(`{"InstanceId":"x"}`)}); err != nil {
		t.Errorf("enqueue: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestNewInvalid: New refuses an invalid configuration before opening
// anything, naming the field.
func TestNewInvalid(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Dispatch.Concurrency = -1
	if _, err := app.New(context.Background(), cfg, app.Options{AWS: staticAWS()}); err == nil {
		t.Fatal("New accepted a negative concurrency")
	}
}
