package sim

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadRequest is a keep-alive DescribeUser with a SigV4-shaped
// Authorization header (the access key is read for stats; signatures are
// verified only when credentials are configured).
var loadRequest = []byte("GET /users/" + DefaultInstanceID + "/" + DefaultUserID + " HTTP/1.1\r\n" +
	"Host: 127.0.0.1\r\n" +
	"User-Agent: tollgate-load\r\n" +
	"X-Amz-Date: 20260101T000000Z\r\n" +
	"Authorization: AWS4-HMAC-SHA256 Credential=AKIDLOAD/20260101/us-east-1/connect/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000\r\n\r\n")

// runLoad drives addr with conns keep-alive connections for d, each with
// depth requests in flight (HTTP/1.1 pipelining when depth > 1), and returns
// the responses per second and the count by status.
func runLoad(t testing.TB, addr string, conns, depth int, d time.Duration) (float64, map[int]int64) {
	batch := bytes.Repeat(loadRequest, depth)
	var total atomic.Int64
	var mu sync.Mutex
	byStatus := map[int]int64{}
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			br := bufio.NewReaderSize(c, 16<<10)
			local := map[int]int64{}
			n := int64(0)
			for time.Now().Before(deadline) {
				if _, err := c.Write(batch); err != nil {
					t.Error(err)
					return
				}
				for j := 0; j < depth; j++ {
					status, err := readResponse(br)
					if err != nil {
						t.Error(err)
						return
					}
					local[status]++
					n++
				}
			}
			total.Add(n)
			mu.Lock()
			for k, v := range local {
				byStatus[k] += v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return float64(total.Load()) / d.Seconds(), byStatus
}

// readResponse reads one HTTP/1.1 response with a Content-Length body.
func readResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 {
		return 0, http.ErrNotSupported
	}
	status, _ := strconv.Atoi(string(line[9:12]))
	length := 0
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(h, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	_, err = br.Discard(length)
	return status, err
}

func loadServer(t testing.TB) (*Server, *httptest.Server) {
	s := newServer(t, Options{})
	if err := s.SetQuota("DescribeUser", 1e9, 1e9); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

// TestLoadLoopback is the bounded load test (3 s of traffic), run when
// SIM_LOAD=1: 32 keep-alive connections on loopback send DescribeUser and
// the simulator must sustain at least 20,000 requests/s. SIM_LOAD_DEPTH sets
// the requests in flight per connection (default 1: no pipelining);
// SIM_LOAD_MIN changes the bar. The load generator shares the machine's
// cores with the simulator.
func TestLoadLoopback(t *testing.T) {
	if os.Getenv("SIM_LOAD") == "" {
		t.Skip("set SIM_LOAD=1 to run the 3-second loopback load test")
	}
	depth := 1
	if v := os.Getenv("SIM_LOAD_DEPTH"); v != "" {
		depth, _ = strconv.Atoi(v)
		depth = max(1, min(depth, 64))
	}
	s, hs := loadServer(t)
	rps, byStatus := runLoad(t, hs.Listener.Addr().String(), 32, depth, 3*time.Second)
	st := s.Stats()
	t.Logf("loopback: %.0f requests/s, 32 connections x %d in flight (status %v); simulator counted %d accepted", rps, depth, byStatus, st.Operations["DescribeUser"].Accepted)
	if byStatus[200] == 0 || len(byStatus) != 1 {
		t.Fatalf("unexpected statuses %v", byStatus)
	}
	want := 20000.0
	if v := os.Getenv("SIM_LOAD_MIN"); v != "" {
		want, _ = strconv.ParseFloat(v, 64)
	}
	if rps < want {
		t.Fatalf("%.0f requests/s < %.0f", rps, want)
	}
}

// BenchmarkLoopback measures requests/s over loopback TCP.
func BenchmarkLoopback(b *testing.B) {
	_, hs := loadServer(b)
	b.ResetTimer()
	start := time.Now()
	var done atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", hs.Listener.Addr().String())
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for pb.Next() {
			if _, err := c.Write(loadRequest); err != nil {
				b.Error(err)
				return
			}
			if _, err := readResponse(br); err != nil {
				b.Error(err)
				return
			}
			done.Add(1)
		}
	})
	b.ReportMetric(float64(done.Load())/time.Since(start).Seconds(), "req/s")
}

// discardWriter is a minimal ResponseWriter for in-process benchmarks.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkServeHTTP measures the handler alone (no network).
func BenchmarkServeHTTP(b *testing.B) {
	s := newServer(b, Options{})
	_ = s.SetQuota("DescribeUser", 1e9, 1e9)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/users/"+DefaultInstanceID+"/"+DefaultUserID, nil)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDLOAD/20260101/us-east-1/connect/aws4_request, SignedHeaders=host, Signature=00")
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			s.ServeHTTP(w, req)
		}
	})
}

// BenchmarkThrottled measures the throttle path (empty bucket).
func BenchmarkThrottled(b *testing.B) {
	s := newServer(b, Options{})
	_ = s.SetQuota("DescribeUser", 0.001, 1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/users/"+DefaultInstanceID+"/"+DefaultUserID, nil)
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			s.ServeHTTP(w, req)
		}
	})
}
