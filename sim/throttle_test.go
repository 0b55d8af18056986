package sim

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/tollgatehq/tollgate/quotas"
)

func TestBucketSteps(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := newBucket(2, 3, t0)
	steps := []struct {
		at      time.Duration
		ok      bool
		retryIn time.Duration
	}{
		{0, true, 0}, {0, true, 0}, {0, true, 0}, // the burst
		{0, false, 500 * time.Millisecond}, // empty: one token in 1/rate
		{250 * time.Millisecond, false, 250 * time.Millisecond},
		{500 * time.Millisecond, true, 0},
		{500 * time.Millisecond, false, 500 * time.Millisecond},
		{10 * time.Second, true, 0}, // refilled to the burst, not beyond
		{10 * time.Second, true, 0},
		{10 * time.Second, true, 0},
		{10 * time.Second, false, 500 * time.Millisecond},
	}
	for i, st := range steps {
		ok, wait := b.take(t0.Add(st.at))
		if ok != st.ok || wait != st.retryIn {
			t.Fatalf("step %d: got %v %v want %v %v", i, ok, wait, st.ok, st.retryIn)
		}
	}
	b.set(t0.Add(10*time.Second), 10, 1)
	if ok, _ := b.take(t0.Add(10*time.Second + 100*time.Millisecond)); !ok {
		t.Fatal("after set: no token after 1/rate")
	}
	got := 0
	for got < 5 {
		if ok, _ := b.take(t0.Add(11 * time.Second)); !ok {
			break
		}
		got++
	}
	if got != 1 {
		t.Fatalf("tokens capped at the new burst: took %d want 1", got)
	}
}

// TestThrottleAccuracy: many callers (distinct access keys, one account)
// hammer one operation through the real SDK for T seconds of fake time.
// The shared bucket admits at most burst + rate×T, and at least 99% of it.
func TestThrottleAccuracy(t *testing.T) {
	for _, tc := range []struct {
		name          string
		rate          float64
		burst         int
		account       bool // also set an account ceiling above the op's rate
		callers       int
		poll, horizon time.Duration
	}{
		{"10rps-burst20", 10, 20, false, 8, 40 * time.Millisecond, 30 * time.Second},
		{"2rps-burst5", 2, 5, false, 16, 200 * time.Millisecond, 60 * time.Second},
		{"with-account-ceiling", 5, 8, true, 8, 60 * time.Millisecond, 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := quotas.Default()
				if err := q.SetAPI(quotas.API{Op: "DescribeUser", Rate: tc.rate, Burst: tc.burst}); err != nil {
					t.Fatal(err)
				}
				o := Options{Quotas: q}
				if tc.account {
					o.AccountRate, o.AccountBurst = 100, 100
				}
				s := newServer(t, o)
				start := time.Now()
				var ok, throttled atomic.Int64
				var wg sync.WaitGroup
				for i := 0; i < tc.callers; i++ {
					c := connect.New(connect.Options{
						Region: "us-east-1", BaseEndpoint: aws.String("http://connect.sim.local"),
						Credentials:      credentials.NewStaticCredentialsProvider(fmt.Sprintf("AKIDCALLER%02d", i), "s", ""),
						HTTPClient:       &httpClientNoNet{handlerTransport{s}},
						RetryMaxAttempts: 1,
					})
					offset := time.Duration(i) * tc.poll / time.Duration(tc.callers) // callers interleave
					wg.Go(func() {
						time.Sleep(offset)
						for time.Since(start) < tc.horizon {
							_, err := c.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: inst, UserId: aws.String(DefaultUserID)})
							var te *types.ThrottlingException
							switch {
							case err == nil:
								ok.Add(1)
							case errors.As(err, &te):
								throttled.Add(1)
							default:
								t.Errorf("unexpected error: %v", err)
								return
							}
							time.Sleep(tc.poll)
						}
					})
				}
				wg.Wait()
				limit := float64(tc.burst) + tc.rate*tc.horizon.Seconds()
				got := float64(ok.Load())
				if got > limit || got < 0.99*limit {
					t.Fatalf("successes %v, want in [%v, %v] (throttled %d)", got, 0.99*limit, limit, throttled.Load())
				}
				st := s.Stats()
				if st.Operations["DescribeUser"].Accepted != ok.Load() || st.Operations["DescribeUser"].ThrottledByCode["ThrottlingException"] != throttled.Load() {
					t.Fatalf("stats disagree: %+v vs ok %d throttled %d", st.Operations["DescribeUser"], ok.Load(), throttled.Load())
				}
				if len(st.Callers) != tc.callers {
					t.Fatalf("callers in stats: %d, want %d", len(st.Callers), tc.callers)
				}
				var sum int64
				for _, sec := range st.Timeline {
					sum += sec.Accepted
					if float64(sec.Accepted) > tc.rate+float64(tc.burst) {
						t.Fatalf("second %d admitted %d > rate+burst", sec.T, sec.Accepted)
					}
				}
				if sum != ok.Load() {
					t.Fatalf("timeline sums to %d, want %d", sum, ok.Load())
				}
				t.Logf("%d callers, %v: %d accepted (limit %.0f), %d throttled", tc.callers, tc.horizon, ok.Load(), limit, throttled.Load())
			})
		})
	}
}

// httpClientNoNet adapts a RoundTripper to the SDK's HTTPClient interface.
type httpClientNoNet struct{ rt handlerTransport }

func (c *httpClientNoNet) Do(r *http.Request) (*http.Response, error) { return c.rt.RoundTrip(r) }
