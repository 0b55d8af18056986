package ratelimittest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/ratelimit/ratelimittest"
)

// The suite must catch broken limiters. Each mutant below is run through
// one suite case in a child process, which must fail.

const mutantEnv = "RATELIMITTEST_MUTANT"

func TestSuiteCatchesBrokenLimiters(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("running as a mutant child")
	}
	for _, c := range []struct{ mutant, suiteCase string }{
		{"ignore-account", "AccountBurst"},
		{"double-rate", "RefillAtRate"},
		{"non-atomic", "AccountRefusalTakesNothingFromOp"},
		{"non-atomic", "WaitDeadline"},
		{"ignore-cost", "WeightedCost"},
		{"non-atomic", "SetLimitCanceled"}, // sloppy ignores ctx too
	} {
		t.Run(c.mutant+"/"+c.suiteCase, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestMutant$/^"+c.suiteCase+"$", "-test.count=1")
			cmd.Env = append(os.Environ(), mutantEnv+"="+c.mutant)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("suite case %s passed a %s limiter; want failure\n%s", c.suiteCase, c.mutant, out)
			}
			if want := "--- FAIL: TestMutant/" + c.suiteCase; !strings.Contains(string(out), want) {
				t.Fatalf("child output lacks %q:\n%s", want, out)
			}
		})
	}
}

// TestMutant runs the suite against the mutant named by the environment.
func TestMutant(t *testing.T) {
	m := os.Getenv(mutantEnv)
	if m == "" {
		t.Skip("only run as a child of TestSuiteCatchesBrokenLimiters")
	}
	ratelimittest.Run(t, func(t *testing.T, account ratelimit.Limit, ops map[string]ratelimit.Limit) ratelimit.Limiter {
		switch m {
		case "ignore-account":
			return ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Ops: ops})
		case "double-rate":
			double := map[string]ratelimit.Limit{}
			for k, v := range ops {
				double[k] = ratelimit.Limit{Rate: 2 * v.Rate, Burst: v.Burst}
			}
			return ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Account: account, Ops: double})
		case "non-atomic":
			return newSloppy(account, ops, false)
		case "ignore-cost":
			return newSloppy(account, ops, true)
		}
		panic(fmt.Sprintf("unknown mutant %q", m))
	})
}

// sloppy takes from the operation's bucket and then the account's, not
// atomically, and waits by polling until ctx ends.
type sloppy struct {
	mu         sync.Mutex
	acct       ratelimit.Bucket
	ops        map[string]*ratelimit.Bucket
	limits     map[string]ratelimit.Limit
	ignoreCost bool
}

func newSloppy(account ratelimit.Limit, ops map[string]ratelimit.Limit, ignoreCost bool) *sloppy {
	now := time.Now()
	if account == (ratelimit.Limit{}) {
		account = ratelimit.Limit{Rate: ratelimit.Inf}
	}
	s := &sloppy{acct: ratelimit.NewBucket(account, now), ops: map[string]*ratelimit.Bucket{}, limits: map[string]ratelimit.Limit{"": account}, ignoreCost: ignoreCost}
	for k, v := range ops {
		b := ratelimit.NewBucket(v, now)
		s.ops[k], s.limits[k] = &b, v
	}
	return s
}

func (s *sloppy) Try(ctx context.Context, req ratelimit.Request) (ratelimit.Decision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	c := req.Cost
	if c == 0 || s.ignoreCost {
		c = 1
	}
	if b := s.ops[req.Op]; b != nil {
		if c > b.Limit().Burst {
			return ratelimit.Decision{}, ratelimit.ErrExceedsBurst
		}
		if !b.AllowN(now, c) {
			return ratelimit.Decision{RetryIn: b.DelayN(now, c)}, nil
		}
	}
	if !s.acct.AllowN(now, c) {
		return ratelimit.Decision{RetryIn: s.acct.DelayN(now, c)}, nil
	}
	return ratelimit.Decision{OK: true}, nil
}

func (s *sloppy) Wait(ctx context.Context, req ratelimit.Request) error {
	for {
		d, err := s.Try(ctx, req)
		if err != nil || d.OK {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func (s *sloppy) SetLimit(_ context.Context, op string, l ratelimit.Limit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[op] = l
	if op == "" {
		s.acct.SetLimit(time.Now(), l)
		return nil
	}
	s.ops[op].SetLimit(time.Now(), l)
	return nil
}

func (s *sloppy) Limit(op string) ratelimit.Limit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits[op]
}
