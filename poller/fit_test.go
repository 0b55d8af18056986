package poller

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFit(t *testing.T) {
	rate := func(op string) (float64, bool) {
		switch op {
		case "GetCurrentMetricData":
			return 5, true
		case "GetCurrentUserData":
			return 2, true
		}
		return 0, false
	}
	q := func(name, op string, every time.Duration) Query { return Query{Name: name, Op: op, Interval: every} }
	steps := []struct {
		qs       []Query
		share    float64
		query    string
		smallest time.Duration
		together int
	}{
		// 2.5/s allowed on GetCurrentMetricData at the default 50%.
		{qs: []Query{q("a", "GetCurrentMetricData", time.Second), q("b", "GetCurrentMetricData", time.Second)}},
		{qs: []Query{q("a", "GetCurrentMetricData", 400*time.Millisecond)}},
		{qs: []Query{q("a", "GetCurrentMetricData", 390*time.Millisecond)}, query: "a", smallest: 400 * time.Millisecond},
		// 1/s + 1/s used; 0.5/s left for c: 2 s.
		{qs: []Query{q("a", "GetCurrentMetricData", time.Second), q("b", "GetCurrentMetricData", time.Second), q("c", "GetCurrentMetricData", 300*time.Millisecond)},
			query: "c", smallest: 2 * time.Second},
		// The others alone use the whole share: everyone needs 3/2.5 = 1.2 s.
		{qs: []Query{q("a", "GetCurrentMetricData", 500*time.Millisecond), q("b", "GetCurrentMetricData", 500*time.Millisecond), q("c", "GetCurrentMetricData", 400*time.Millisecond)},
			query: "c", smallest: 1200 * time.Millisecond, together: 3},
		// Another operation's quota is separate; unknown operations pass.
		{qs: []Query{q("a", "GetCurrentMetricData", 500*time.Millisecond), q("u", "GetCurrentUserData", time.Second), q("x", "ListQueues", 100*time.Millisecond)}},
		{qs: []Query{q("u", "GetCurrentUserData", 900*time.Millisecond)}, query: "u", smallest: time.Second},
		{qs: []Query{q("u", "GetCurrentUserData", 900*time.Millisecond)}, share: 0.9},
	}
	for i, s := range steps {
		err := Fit(s.qs, s.share, rate)
		if s.query == "" {
			if err != nil {
				t.Errorf("step %d: got %v want nil", i, err)
			}
			continue
		}
		var fe *FitError
		if !errors.As(err, &fe) || !errors.Is(err, ErrDoesNotFit) {
			t.Errorf("step %d: got %v want a *FitError", i, err)
			continue
		}
		if fe.Query != s.query || fe.Smallest != s.smallest || len(fe.Together) != s.together {
			t.Errorf("step %d: got query %q smallest %v together %v; want %q %v %d", i, fe.Query, fe.Smallest, fe.Together, s.query, s.smallest, s.together)
		}
		if !strings.Contains(err.Error(), s.smallest.String()) || !strings.Contains(err.Error(), s.query) {
			t.Errorf("step %d: message %q does not name the query and %v", i, err, s.smallest)
		}
		// The proposed interval must fit.
		fixed := append([]Query(nil), s.qs...)
		for j := range fixed {
			if fixed[j].Name == fe.Query || (s.together > 0 && fixed[j].Op == fe.Op) {
				fixed[j].Interval = fe.Smallest
			}
		}
		if err := Fit(fixed, s.share, rate); err != nil {
			t.Errorf("step %d: the proposed interval does not fit: %v", i, err)
		}
	}
}

func TestValidate(t *testing.T) {
	isRead := func(op string) bool { return strings.HasPrefix(op, "Get") }
	steps := []struct {
		q     Query
		field string
	}{
		{q: Query{Name: "ok", Op: "GetCurrentMetricData", Interval: time.Second, Input: []byte(`{"InstanceId":"x"}`)}},
		{q: Query{Name: "", Op: "GetCurrentMetricData", Interval: time.Second}, field: "name"},
		{q: Query{Name: "a b", Op: "GetCurrentMetricData", Interval: time.Second}, field: "name"},
		{q: Query{Name: "a", Interval: time.Second}, field: "op"},
		{q: Query{Name: "a", Op: "StopContact", Interval: time.Second}, field: "op"},
		{q: Query{Name: "a", Op: "GetCurrentMetricData", Interval: time.Millisecond}, field: "interval"},
		{q: Query{Name: "a", Op: "GetCurrentMetricData", Interval: time.Second, Input: []byte(`[1]`)}, field: "input"},
		{q: Query{Name: "a", Op: "GetCurrentMetricData", Interval: time.Second, Input: []byte(`{"NextToken":"x"}`)}, field: "input"},
	}
	for i, s := range steps {
		err := Validate([]Query{s.q}, isRead)
		var qe *QueryError
		switch {
		case s.field == "" && err != nil:
			t.Errorf("step %d: got %v want nil", i, err)
		case s.field != "" && (!errors.As(err, &qe) || qe.Field != s.field || !errors.Is(err, ErrInvalidQuery)):
			t.Errorf("step %d: got %v want a QueryError on %s", i, err, s.field)
		}
	}
	dup := []Query{{Name: "a", Op: "GetX", Interval: time.Second}, {Name: "a", Op: "GetX", Interval: time.Second}}
	if err := Validate(dup, isRead); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate names: got %v", err)
	}
}

func TestStretch(t *testing.T) {
	base := time.Second
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	var s stretch
	steps := []struct {
		throttle bool
		at       time.Time
		want     float64
	}{
		{throttle: true, at: at(0), want: 2},
		{throttle: true, at: at(500), want: 2},   // same burst (within 2 s)
		{throttle: true, at: at(2100), want: 4},  // next stretched interval
		{throttle: false, at: at(3000), want: 4}, // not a whole 4 s clean yet
		{throttle: false, at: at(6200), want: 2},
		{throttle: false, at: at(7000), want: 2},
		{throttle: false, at: at(8300), want: 1},
		{throttle: false, at: at(20000), want: 1},
	}
	for i, st := range steps {
		if st.throttle {
			s.throttled(st.at, base)
		} else {
			s.ok(st.at, base)
		}
		if got := s.factor(); got != st.want {
			t.Errorf("step %d: got %v want %v", i, got, st.want)
		}
	}
	for i := 0; i < 10; i++ {
		s.throttled(at(30000+i*40000), base)
	}
	if s.factor() != MaxStretch {
		t.Errorf("after many throttles: got %v want %v", s.factor(), MaxStretch)
	}
}
