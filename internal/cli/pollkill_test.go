package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/poller"
	"github.com/tollgatehq/tollgate/sim"
)

// gate holds back the simulator's GetCurrentMetricData while closed.
type gate struct {
	h    http.Handler
	mu   sync.Mutex
	hold chan struct{} // nil: open
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	hold := g.hold
	g.mu.Unlock()
	if hold != nil && strings.HasPrefix(r.URL.Path, "/metrics/current/") {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	g.h.ServeHTTP(w, r)
}

func getMetric(t *testing.T, base, name string) (poller.Snapshot, int) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v1/metrics/"+name, nil)
	req.Header.Set("Authorization", "Bearer "+killTestToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var s poller.Snapshot
	_ = json.NewDecoder(res.Body).Decode(&s)
	return s, res.StatusCode
}

// TestKillNineServesLastValuesStale: serve polling the simulator is killed
// with SIGKILL; started again on the same data directory while Connect does
// not answer, it serves the last values at once, marked stale, before its
// first poll returns; then the poll lands and they are fresh again.
func TestKillNineServesLastValuesStale(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	simSrv, err := sim.New(sim.Options{RateScale: 50, Seed: 4, MetricDrift: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{h: simSrv}
	hs := httptest.NewServer(g)
	defer hs.Close()
	dataDir := t.TempDir()
	poll := []string{"--poll-instance", sim.DefaultInstanceID, "--poll-queues", sim.DefaultQueueID, "--poll-interval", "300ms"}

	first := startServe(t, dataDir, hs.URL, poll...)
	var last poller.Snapshot
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, code := getMetric(t, first.url, "queues")
		if code != 200 {
			t.Fatalf("GET /v1/metrics/queues: %d\n%s", code, first.stderr())
		}
		if s.Polls >= 3 {
			last = s
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no polls: %+v\n%s", s, first.stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Close the gate first so that the value read now is the last one
	// stored (a poll in flight is held back, then the process dies).
	g.mu.Lock()
	g.hold = make(chan struct{})
	g.mu.Unlock()
	time.Sleep(400 * time.Millisecond)
	last, _ = getMetric(t, first.url, "queues")
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done

	second := startServe(t, dataDir, hs.URL, poll...)
	s, code := getMetric(t, second.url, "queues")
	if code != 200 || !s.Stale || !s.Restored || string(s.Value) != string(last.Value) || !s.FetchedAt.Equal(last.FetchedAt) {
		t.Fatalf("right after the restart (first poll held back): %d stale=%v restored=%v fetched %v (want %v)\nvalue %s\nwant  %s",
			code, s.Stale, s.Restored, s.FetchedAt, last.FetchedAt, s.Value, last.Value)
	}
	t.Logf("restarted serve answered at once with the value fetched %v ago, stale", time.Since(s.FetchedAt).Round(time.Millisecond))
	close(g.hold)
	deadline = time.Now().Add(30 * time.Second)
	for {
		s, _ = getMetric(t, second.url, "queues")
		if !s.Restored && !s.Stale {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first poll after the restart never landed: %+v\n%s", s, second.stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-second.done; err != nil {
		t.Errorf("serve after SIGTERM: %v\n%s", err, second.stderr())
	}
}
