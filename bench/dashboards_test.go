package bench

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestDashboards: with the same viewers, the direct wallboards call
// Connect once per view and meet 429s; through the poller's cache the
// calls are one per interval and no viewer meets a throttle.
func TestDashboards(t *testing.T) {
	if testing.Short() {
		t.Skip("runs in real time")
	}
	rs, err := RunDashboards(context.Background(), DashboardsOptions{Viewers: 40, Duration: 4 * time.Second, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	WriteDashboards(&buf, rs)
	t.Logf("\n%s", buf.String())
	direct, tg := rs[0], rs[1]
	if tg.ConnectCalls < 3 || tg.ConnectCalls > 5 || tg.Throttled != 0 {
		t.Errorf("tollgate: %d calls (want ceil(4 s / 1 s) ± 1), %d 429s (want 0)", tg.ConnectCalls, tg.Throttled)
	}
	if direct.ConnectCalls < 10*tg.ConnectCalls || direct.Throttled == 0 {
		t.Errorf("direct: %d calls, %d 429s; want many more calls than tollgate's %d and some 429s", direct.ConnectCalls, direct.Throttled, tg.ConnectCalls)
	}
	// How fresh the viewers' figures are (about one poll interval) is a
	// latency figure, printed in the table above and by tollgate bench
	// dashboards; a busy machine stretches it. The bound here
	// only catches a cache that stops refreshing.
	if tg.StaleP99 > 10*time.Second {
		t.Errorf("tollgate staleness p99 %v: the shared cache stopped refreshing (poll interval 1 s)", tg.StaleP99)
	}
}
