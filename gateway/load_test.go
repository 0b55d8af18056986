package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

// TestLoadOverhead measures, on loopback, the latency the gateway adds per
// call (p50 of sequential ListQueues, through the gateway minus direct to
// the simulator) and the throughput through the gateway with 32 concurrent
// connections for 3 s. Quotas are raised in the simulator and the gateway
// so that nothing throttles. Set TOLLGATE_GATEWAY_LOAD=1 to run it; the
// targets are p50 overhead ≤ 1 ms and ≥ 5,000 requests/s.
func TestLoadOverhead(t *testing.T) {
	if os.Getenv("TOLLGATE_GATEWAY_LOAD") != "1" {
		t.Skip("set TOLLGATE_GATEWAY_LOAD=1 to run the gateway load test")
	}
	s, err := sim.New(sim.Options{Credentials: map[string]string{gwKey: gwSecret}, RateScale: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(s)
	defer simSrv.Close()
	cs, err := gateway.ParseCallers("callers.yaml", []byte(callersYAML), func(string) string { return dialerSec })
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Options{
		Upstream:    simSrv.URL,
		Credentials: credentials.NewStaticCredentialsProvider(gwKey, gwSecret, ""),
		Governor:    governor.New(ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: quotas.Default().Scale(1e6)}), governor.Options{}),
		Callers:     cs,
	})
	if err != nil {
		t.Fatal(err)
	}
	gwSrv := httptest.NewServer(gw)
	defer gwSrv.Close()
	e := &env{gwURL: gwSrv.URL, simURL: simSrv.URL}
	lq := "/queues-summary/" + sim.DefaultInstanceID

	// One signed request per target, replayed (valid for 5 minutes), so
	// the load generator spends no CPU on signing.
	direct := signedReq(t, &env{gwURL: simSrv.URL}, "GET", lq, "", gwKey, gwSecret, "connect", "us-east-1", time.Now())
	via := signedReq(t, e, "GET", lq, "", dialerKey, dialerSec, "connect", "us-east-1", time.Now())
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	do := func(r *http.Request) {
		resp, err := tr.RoundTrip(r.Clone(r.Context()))
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("status %d", resp.StatusCode)
		}
	}
	p50 := func(r *http.Request, n int) (time.Duration, time.Duration) {
		for range 200 {
			do(r) // warm up connections and caches
		}
		d := make([]time.Duration, n)
		for i := range d {
			st := time.Now()
			do(r)
			d[i] = time.Since(st)
		}
		slices.Sort(d)
		return d[n/2], d[n*99/100]
	}
	dp50, dp99 := p50(direct, 3000)
	gp50, gp99 := p50(via, 3000)
	added := gp50 - dp50
	t.Logf("sequential ListQueues, %d CPUs: direct p50 %v p99 %v; through the gateway p50 %v p99 %v; added p50 %v",
		runtime.NumCPU(), dp50, dp99, gp50, gp99, added)

	rate := func(r *http.Request, workers int, d time.Duration) float64 {
		var n atomic.Int64
		stop := time.Now().Add(d)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for time.Now().Before(stop) {
					do(r)
					n.Add(1)
				}
			})
		}
		wg.Wait()
		return float64(n.Load()) / d.Seconds()
	}
	dr := rate(direct, 32, 2*time.Second)
	cpu0 := cpuTime()
	gr := rate(via, 32, 3*time.Second)
	perReq := time.Duration(float64(cpuTime()-cpu0) / (gr * 3))
	t.Logf("32 connections: direct %.0f req/s; through the gateway %.0f req/s", dr, gr)
	t.Logf("CPU per request through the gateway (load generator + gateway + simulator, one process): %v; ceiling on %d idle cores ≈ %.0f req/s",
		perReq, runtime.NumCPU(), float64(runtime.NumCPU())*float64(time.Second)/float64(perReq))
	if added > time.Millisecond {
		t.Errorf("added p50 latency %v > 1 ms", added)
	}
	if gr < 5000 {
		t.Errorf("throughput through the gateway %.0f req/s < 5,000", gr)
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
