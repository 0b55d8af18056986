package bench

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestPoolsBound: the N-pool lower bound, worked by hand.
func TestPoolsBound(t *testing.T) {
	for i, st := range []struct {
		pools, jobs int
		rate, burst float64
		want        time.Duration
	}{
		{1, 1000, 20, 50, 47500 * time.Millisecond}, // (1000 − 50) / 20
		{2, 1000, 20, 50, 22500 * time.Millisecond}, // (1000 − 100) / 40
		{4, 1000, 20, 50, 10 * time.Second},         // (1000 − 200) / 80
		{4, 100, 20, 50, 0},                         // the buckets hold them all
		{1, 10, 0, 5, 0},
	} {
		if got := PoolsBound(st.pools, st.jobs, st.rate, st.burst); got != st.want {
			t.Errorf("step %d: got %v want %v", i, got, st.want)
		}
	}
}

// TestRunPoolsSmall runs the scenario small (its figures are for the
// harness, not asserted here): every job succeeds once, the contacts
// started over the accounts equal the jobs, and the pools share the work.
func TestRunPoolsSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs serve against a simulator")
	}
	rep, err := RunPools(context.Background(), PoolsConfig{Pools: []int{1, 2}, Jobs: 120, RateScale: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 {
		t.Fatalf("%d results, want 2", len(rep.Results))
	}
	for _, r := range rep.Results {
		var sum int64
		for _, n := range r.PerPool {
			sum += n
		}
		if r.Succeeded != 120 || r.Dead != 0 || r.ContactsStarted != 120 || sum != 120 || len(r.PerPool) != r.Pools || r.Bound <= 0 {
			t.Errorf("%d pools: %+v", r.Pools, r)
		}
	}
	var out strings.Builder
	if err := WritePools(&out, rep); err != nil || !strings.Contains(out.String(), "contacts started") {
		t.Errorf("WritePools: %v\n%s", err, out.String())
	}
}

// TestPoolsConfigRefused: bad settings are refused, naming the flag.
func TestPoolsConfigRefused(t *testing.T) {
	for _, c := range []PoolsConfig{{Pools: []int{0}}, {Jobs: -1}, {RateScale: -1}} {
		_, err := RunPools(context.Background(), c)
		if !errors.Is(err, ErrPoolsConfig) {
			t.Errorf("%+v: %v, want ErrPoolsConfig", c, err)
		}
	}
}
