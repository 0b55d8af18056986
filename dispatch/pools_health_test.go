package dispatch

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// TestHealth steps a pool's health: three failures in a row take it out
// for the base backoff; before it passes nothing is let through; then one
// probe; a failed probe doubles the backoff (capped); a successful one puts
// the pool back and resets everything.
func TestHealth(t *testing.T) {
	var h health
	h.init(3, time.Second, 4*time.Second)
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	type step struct {
		name    string
		do      func() bool // returns what the step reports
		want    bool
		healthy bool
	}
	var probe bool
	take := func(d time.Duration) func() bool {
		return func() bool {
			ok, p := h.take(at(d))
			if ok {
				probe = p
			}
			return ok
		}
	}
	for i, st := range []step{
		{"fail 1", func() bool { return h.failure(at(0), false, "x") }, false, true},
		{"fail 2", func() bool { return h.failure(at(0), false, "x") }, false, true},
		{"success resets", func() bool { h.success(false); return true }, true, true},
		{"fail 1 again", func() bool { return h.failure(at(0), false, "x") }, false, true},
		{"fail 2 again", func() bool { return h.failure(at(0), false, "x") }, false, true},
		{"fail 3: out", func() bool { return h.failure(at(0), false, "AccessDenied") }, true, false},
		{"not before the backoff", take(500 * time.Millisecond), false, false},
		{"probe after it", take(time.Second), true, false},
		{"only one probe", take(time.Second), false, false},
		{"probe fails: out again", func() bool { return h.failure(at(time.Second), probe, "AccessDenied") }, true, false},
		{"backoff doubled", take(2700 * time.Millisecond), false, false},
		{"second probe", take(3 * time.Second), true, false},
		{"fails: doubled again", func() bool { return h.failure(at(3*time.Second), probe, "x") }, true, false},
		{"third probe (cap 4s)", take(7 * time.Second), true, false},
		{"fails: capped", func() bool { return h.failure(at(7*time.Second), probe, "x") }, true, false},
		{"not before 4s", take(10500 * time.Millisecond), false, false},
		{"fourth probe", take(11 * time.Second), true, false},
		{"neutral probe frees the slot", func() bool { h.neutral(probe); return true }, true, false},
		{"fifth probe", take(11 * time.Second), true, false},
		{"probe succeeds: back", func() bool { h.success(probe); return true }, true, true},
		{"in rotation", take(11 * time.Second), true, true},
	} {
		if got := st.do(); got != st.want {
			t.Fatalf("step %d (%s): got %v want %v", i, st.name, got, st.want)
		}
		if ok, _ := h.describe(at(0)); ok != st.healthy {
			t.Fatalf("step %d (%s): healthy %v want %v", i, st.name, ok, st.healthy)
		}
	}
	// Back in rotation, it takes three failures again to go out.
	if h.failure(at(12*time.Second), false, "x") || h.failure(at(12*time.Second), false, "x") || !h.failure(at(12*time.Second), false, "x") {
		t.Fatal("after recovery: want out at the third failure")
	}
	if _, d := h.describe(at(12 * time.Second)); !strings.HasPrefix(d, "out: x, back in ") {
		t.Fatalf("describe: %q", d)
	}
}

type countingClient struct{ n int }

func (c *countingClient) Do(*http.Request) (*http.Response, error) {
	c.n++
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// TestPoolOutRequestNotSent: a job's request reaching the transport of a
// pool that went out of rotation after the job was routed there is not
// sent (a probe's is); requests outside a job (DescribeContact polls) are.
func TestPoolOutRequestNotSent(t *testing.T) {
	p := &pool{Pool: Pool{Name: "a"}}
	p.health.init(1, time.Second, time.Minute)
	next := &countingClient{}
	c := trackingClient{next: next, p: p}
	req := func(ctx context.Context) *http.Request {
		r, _ := http.NewRequestWithContext(ctx, "PUT", "http://sim/contact/outbound-voice", nil)
		return r
	}
	job, _ := withAttemptLog(context.Background(), false)
	probe, _ := withAttemptLog(context.Background(), true)
	if _, err := c.Do(req(job)); err != nil || next.n != 1 {
		t.Fatalf("in rotation: %v, sent %d", err, next.n)
	}
	p.health.failure(time.Now(), false, "x")
	var out *poolOutError
	if _, err := c.Do(req(job)); !errors.As(err, &out) || next.n != 1 {
		t.Fatalf("out of rotation: %v, sent %d; want poolOutError, nothing sent", err, next.n)
	}
	if info := awserr.Classify("StartOutboundVoiceContact", &poolOutError{"a"}); info.Retryable() {
		t.Fatalf("poolOutError classified %v: must not be retried", info.Class)
	}
	if _, err := c.Do(req(probe)); err != nil || next.n != 2 {
		t.Fatalf("probe: %v, sent %d", err, next.n)
	}
	if _, err := c.Do(req(context.Background())); err != nil || next.n != 3 {
		t.Fatalf("poll: %v, sent %d", err, next.n)
	}
}

type wrapped struct{ ratelimit.Limiter }

func (w wrapped) Inner() ratelimit.Limiter { return w.Limiter }

// TestEstimatorUnwraps: the routing reads tokens through a limiter that
// wraps another and exposes it (adaptive.Adapter's Inner), and does
// without when nothing implements ratelimit.Estimator.
func TestEstimatorUnwraps(t *testing.T) {
	h := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Ops: map[string]ratelimit.Limit{"X": {Rate: 1, Burst: 3}}})
	if e := estimator(wrapped{h}); e == nil {
		t.Fatal("no Estimator through Inner")
	} else if tok, _ := e.Available("X", time.Now()); tok != 3 {
		t.Fatalf("tokens %v, want 3", tok)
	}
	type plain struct{ ratelimit.Limiter }
	if e := estimator(plain{h}); e != nil {
		t.Fatal("an Estimator found where none is exposed")
	}
}
