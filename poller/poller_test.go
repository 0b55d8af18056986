package poller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeConnect serves GetCurrentMetricData-shaped pages: pages pages of one
// row each, the value being the call's number.
type fakeConnect struct {
	pages int
	calls atomic.Int64
	fail  atomic.Bool
	block chan struct{} // when set, each call waits for it
}

var errThrottled = errors.New("ThrottlingException: Rate exceeded")

func (f *fakeConnect) call(ctx context.Context, op string, input json.RawMessage) (json.RawMessage, error) {
	n := f.calls.Add(1)
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.fail.Load() {
		return nil, errThrottled
	}
	var in struct{ NextToken string }
	_ = json.Unmarshal(input, &in)
	page := 0
	if in.NextToken != "" {
		fmt.Sscanf(in.NextToken, "p%d", &page)
	}
	next := ""
	if page+1 < f.pages {
		next = fmt.Sprintf(`,"NextToken":"p%d"`, page+1)
	}
	return fmt.Appendf(nil, `{"MetricResults":[{"Collections":[{"Metric":{"Name":"CONTACTS_IN_QUEUE","Unit":"COUNT"},"Value":%d}]}]%s}`, n, next), nil
}

func newTestPoller(t *testing.T, f *fakeConnect, o Options) *Poller {
	t.Helper()
	o.Call = f.call
	if o.Queries == nil {
		o.Queries = []Query{{Name: "queue", Op: "GetCurrentMetricData", Interval: time.Second, Input: json.RawMessage(`{"InstanceId":"i"}`)}}
	}
	p, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// TestOnePollPerInterval: however many readers, a query is polled once per
// interval: ceil(run/interval) polls.
func TestOnePollPerInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeConnect{pages: 1}
		p := newTestPoller(t, f, Options{Queries: []Query{
			{Name: "fast", Op: "GetCurrentMetricData", Interval: time.Second},
			{Name: "slow", Op: "GetMetricDataV2", Interval: 3 * time.Second},
		}})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second-time.Millisecond)
		defer cancel()
		var readers sync.WaitGroup
		for range 50 {
			readers.Go(func() {
				for ctx.Err() == nil {
					p.Snapshot("fast", time.Now())
					p.List(time.Now())
					time.Sleep(100 * time.Millisecond)
				}
			})
		}
		_ = p.Run(ctx)
		readers.Wait()
		fast, _ := p.Snapshot("fast", time.Now())
		slow, _ := p.Snapshot("slow", time.Now())
		if fast.Polls != 10 || slow.Polls != 4 {
			t.Errorf("polls in 10 s: fast %d (want 10 at 1 s), slow %d (want 4 at 3 s)", fast.Polls, slow.Polls)
		}
		if got := f.calls.Load(); got != 14 {
			t.Errorf("calls: got %d want 14", got)
		}
		if len(fast.History) != 10 {
			t.Errorf("history: got %d points want 10", len(fast.History))
		}
	})
}

// TestFollowsNextToken: a poll fetches every page and merges the rows.
func TestFollowsNextToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeConnect{pages: 3}
		p := newTestPoller(t, f, Options{})
		if err := p.Refresh(t.Context(), "queue"); err != nil {
			t.Fatal(err)
		}
		s, _ := p.Snapshot("queue", time.Now())
		var v struct{ MetricResults []json.RawMessage }
		if err := json.Unmarshal(s.Value, &v); err != nil {
			t.Fatal(err)
		}
		if len(v.MetricResults) != 3 || s.Calls != 3 || s.Polls != 1 {
			t.Errorf("got %d rows, %d calls, %d polls; want 3, 3, 1", len(v.MetricResults), s.Calls, s.Polls)
		}
		if got := s.Numbers["CONTACTS_IN_QUEUE"]; got != 1+2+3 {
			t.Errorf("CONTACTS_IN_QUEUE summed over pages: got %v want 6", got)
		}
		if s.Stale || s.Age != 0 {
			t.Errorf("a value just fetched: stale %v age %v", s.Stale, s.Age)
		}
		time.Sleep(2 * time.Second)
		s, _ = p.Snapshot("queue", time.Now())
		if !s.Stale || s.Age != 2 {
			t.Errorf("two intervals later: stale %v age %v, want stale and 2", s.Stale, s.Age)
		}
	})
}

// TestSingleFlight: concurrent refreshes in one process share one poll.
func TestSingleFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeConnect{pages: 1, block: make(chan struct{})}
		p := newTestPoller(t, f, Options{})
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if err := p.Refresh(t.Context(), "queue"); err != nil {
					t.Error(err)
				}
			})
		}
		synctest.Wait()
		close(f.block)
		wg.Wait()
		if got := f.calls.Load(); got != 1 {
			t.Errorf("calls for 100 concurrent refreshes: got %d want 1", got)
		}
	})
}

// TestRestoreServesStale: the last value is kept on disk; a new poller
// serves it at once, marked stale and restored, before its first poll.
func TestRestoreServesStale(t *testing.T) {
	file := filepath.Join(t.TempDir(), "poll.json")
	var saved Snapshot
	synctest.Test(t, func(t *testing.T) {
		f := &fakeConnect{pages: 1}
		p := newTestPoller(t, f, Options{StateFile: file})
		for range 3 {
			if err := p.Refresh(t.Context(), "queue"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
		}
		saved, _ = p.Snapshot("queue", time.Now())
	})
	synctest.Test(t, func(t *testing.T) {
		f := &fakeConnect{pages: 1, block: make(chan struct{})}
		p := newTestPoller(t, f, Options{StateFile: file})
		s, _ := p.Snapshot("queue", time.Now())
		if !s.Restored || !s.Stale || string(s.Value) != string(saved.Value) || len(s.History) != 3 {
			t.Fatalf("restored: restored %v stale %v value %s history %d; want the saved %s, stale, 3 points", s.Restored, s.Stale, s.Value, len(s.History), saved.Value)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { _ = p.Run(ctx); close(done) }()
		synctest.Wait() // the first poll is waiting on Connect: still served stale
		s, _ = p.Snapshot("queue", time.Now())
		if !s.Restored || string(s.Value) != string(saved.Value) {
			t.Errorf("during the first poll: got %s restored %v", s.Value, s.Restored)
		}
		close(f.block)
		synctest.Wait()
		s, _ = p.Snapshot("queue", time.Now())
		if s.Restored || s.Stale {
			t.Errorf("after the first poll: restored %v stale %v", s.Restored, s.Stale)
		}
		cancel()
		<-done
	})
	// A changed query does not get the old value.
	synctest.Test(t, func(t *testing.T) {
		f := &fakeConnect{pages: 1}
		p := newTestPoller(t, f, Options{StateFile: file, Queries: []Query{{Name: "queue", Op: "GetCurrentMetricData", Interval: time.Second, Input: json.RawMessage(`{"InstanceId":"other"}`)}}})
		if s, _ := p.Snapshot("queue", time.Now()); s.Value != nil {
			t.Errorf("a query whose input changed got the old value %s", s.Value)
		}
	})
}

// TestThrottlesStretchAndRecover: throttles on the operation stretch the
// interval; clean polls bring it back.
func TestThrottlesStretchAndRecover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeConnect{pages: 1}
		p := newTestPoller(t, f, Options{})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { _ = p.Run(ctx); close(done) }()
		time.Sleep(5500 * time.Millisecond) // polls at 0..5: 6
		if got := f.calls.Load(); got != 6 {
			t.Fatalf("before throttles: %d calls want 6", got)
		}
		// Another caller drains the bucket: throttles for 10 s.
		for i := range 10 {
			p.Throttled("GetCurrentMetricData", time.Now())
			if i == 0 {
				if s := p.Stretch()["GetCurrentMetricData"]; s != 2 {
					t.Errorf("stretch after the first throttle: %v want 2", s)
				}
			}
			time.Sleep(time.Second)
		}
		stretched := p.Stretch()["GetCurrentMetricData"]
		during := f.calls.Load() - 6
		if stretched < 4 || during > 5 {
			t.Errorf("during 10 s of throttles: stretch %v (want ≥ 4), %d polls (want ≤ 5 instead of 10)", stretched, during)
		}
		time.Sleep(60 * time.Second)
		if s := p.Stretch()["GetCurrentMetricData"]; s != 1 {
			t.Errorf("a minute after the throttles: stretch %v want 1", s)
		}
		snap, _ := p.Snapshot("queue", time.Now())
		if snap.Effective != 1 {
			t.Errorf("effective interval after recovery: %v want 1", snap.Effective)
		}
		cancel()
		<-done
	})
}

// TestFailedPollKeepsValue: a failed poll keeps the last value (stale once
// old) and says why.
func TestFailedPollKeepsValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeConnect{pages: 1}
		p := newTestPoller(t, f, Options{})
		if err := p.Refresh(t.Context(), "queue"); err != nil {
			t.Fatal(err)
		}
		f.fail.Store(true)
		time.Sleep(2 * time.Second)
		if err := p.Refresh(t.Context(), "queue"); !errors.Is(err, errThrottled) {
			t.Fatalf("got %v want the call's error", err)
		}
		s, _ := p.Snapshot("queue", time.Now())
		if s.Value == nil || !s.Stale || s.LastError == "" {
			t.Errorf("after a failed poll: value %s stale %v last error %q", s.Value, s.Stale, s.LastError)
		}
	})
}

func TestSubscribe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeConnect{pages: 1}
		p := newTestPoller(t, f, Options{})
		ch, stop, err := p.Subscribe(4)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		if err := p.Refresh(t.Context(), "queue"); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-ch:
			if ev.Snapshot.Name != "queue" || ev.Snapshot.Numbers["CONTACTS_IN_QUEUE"] != 1 {
				t.Errorf("event: %+v", ev.Snapshot)
			}
		default:
			t.Fatal("no event after a new value")
		}
	})
}

func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"version":1,"queries":{"q":{"op":"GetCurrentMetricData","value":{"a":1},"fetched_at":"2026-01-01T00:00:00Z"}}}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"queries":{"bad name":{}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState(b)
		if err != nil {
			return
		}
		for name, q := range st.Queries {
			if !nameRE.MatchString(name) || (len(q.Value) > 0 && !json.Valid(q.Value)) {
				t.Fatalf("accepted a bad query %q", name)
			}
		}
	})
}

func FuzzNumbers(f *testing.F) {
	f.Add([]byte(`{"MetricResults":[{"Collections":[{"Metric":{"Name":"X"},"Value":2}]}],"UserDataList":[{},{}],"ApproximateTotalCount":3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = Numbers(b)
	})
}
