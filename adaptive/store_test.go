package adaptive

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// TestMarshalRoundTrip feeds the same attempts to a learner and to a copy
// that goes through MarshalBinary/UnmarshalBinary before every
// observation: their limits must be equal at every step, since a shared
// store relies on the encoding losing nothing.
func TestMarshalRoundTrip(t *testing.T) {
	seed := ratelimit.Limit{Rate: 10, Burst: 10}
	direct := NewLearner(seed, Options{Peers: 4})
	copied := NewLearner(seed, Options{Peers: 4})
	rnd := rand.New(rand.NewPCG(1, 2))
	t0 := time.Unix(1_700_000_000, 0)
	now := 0.0
	for i := range 3000 {
		now += rnd.ExpFloat64() / 12 // a little over the seed rate
		at := t0.Add(time.Duration(now * float64(time.Second)))
		sig := Signal{Sent: at.Add(-time.Millisecond)}
		if rnd.Float64() < 0.08 {
			sig.Kind = Throttled
		}
		data, err := copied.MarshalBinary()
		if err != nil {
			t.Fatalf("step %d: marshal: %v", i, err)
		}
		copied = new(Learner)
		if err := copied.UnmarshalBinary(data); err != nil {
			t.Fatalf("step %d: unmarshal: %v", i, err)
		}
		c1, c2 := direct.Observe(at, sig), copied.Observe(at, sig)
		if c1 != c2 || direct.Limit(at) != copied.Limit(at) || direct.Ceiling() != copied.Ceiling() || direct.Knee() != copied.Knee() {
			t.Fatalf("step %d: direct %v %+v ceil %v knee %v, round-tripped %v %+v ceil %v knee %v",
				i, c1, direct.Limit(at), direct.Ceiling(), direct.Knee(), c2, copied.Limit(at), copied.Ceiling(), copied.Knee())
		}
	}
	if direct.Knee() == 0 {
		t.Fatal("the run never measured a knee: the test exercised too little")
	}
}

func TestUnmarshalBad(t *testing.T) {
	for _, data := range []string{"", "{", `{"v":2}`, `{"v":1}`, `{"v":1,"seed":{"Rate":1,"Burst":1},"rate":1,"ceil":1,"recent":[` + "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1" + `]}`} {
		var l Learner
		if err := l.UnmarshalBinary([]byte(data)); !errors.Is(err, ErrBadState) {
			t.Errorf("UnmarshalBinary(%q): got %v want ErrBadState", data, err)
		}
	}
}

// TestMemoryStore: create, read without saving, replace, delete.
func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore()
	seed := ratelimit.Limit{Rate: 2, Burst: 5}
	steps := []struct {
		fn      func(*Learner) (*Learner, bool)
		wantNil bool // the learner fn sees next
	}{
		{func(cur *Learner) (*Learner, bool) { return NewLearner(seed, Options{}), true }, false},
		{func(cur *Learner) (*Learner, bool) { return nil, false }, false},                        // not saved: nothing changes
		{func(cur *Learner) (*Learner, bool) { return NewLearner(seed, Options{}), true }, false}, // replaced
		{func(cur *Learner) (*Learner, bool) { return nil, true }, true},                          // deleted
	}
	var seen *Learner
	peek := func(cur *Learner) (*Learner, bool) { seen = cur; return cur, false }
	if err := s.Update(ctx, "op", peek); err != nil || seen != nil {
		t.Fatalf("empty store: %v, %v", seen, err)
	}
	for i, st := range steps {
		if err := s.Update(ctx, "op", st.fn); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if err := s.Update(ctx, "op", peek); err != nil || (seen == nil) != st.wantNil {
			t.Fatalf("step %d: stored %v (err %v), want nil=%v", i, seen, err, st.wantNil)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Update(cctx, "op", peek); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled ctx: %v", err)
	}
}
