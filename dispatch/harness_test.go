package dispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/ratelimit"
	"github.com/tollgatehq/tollgate/sim"
)

// handlerTransport serves requests in memory with an http.Handler, so a real
// SDK client and the simulator run inside a testing/synctest bubble.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.RequestURI = r.URL.RequestURI()
	if r2.Host == "" {
		r2.Host = r.URL.Host
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r2)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	res := rec.Result()
	res.Request = r
	return res, nil
}

// awsConfig reaches h in memory with static credentials.
func awsConfig(h http.Handler) aws.Config {
	return aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDDISPATCH", SecretAccessKey: "secret", Source: "test"}, nil
		}),
		HTTPClient: &http.Client{Transport: handlerTransport{h}},
	}
}

// newSim returns a simulator with the quotas scaled by scale, contacts that
// end at once and room for any number of concurrent calls.
func newSim(t testing.TB, scale float64, mod func(*sim.Options)) *sim.Server {
	t.Helper()
	o := sim.Options{
		RateScale:    scale,
		Seed:         1,
		CallDuration: sim.Distribution{Kind: sim.DistFixed, Min: time.Millisecond},
	}
	if mod != nil {
		mod(&o)
	}
	s, err := sim.New(o)
	if err != nil {
		t.Fatalf("sim.New: %v", err)
	}
	if err := s.SetResourceQuota(quotas.ConcurrentActiveCalls, 1_000_000); err != nil {
		t.Fatalf("SetResourceQuota: %v", err)
	}
	return s
}

// newGovernor admits through the published quotas scaled by scale.
func newGovernor(scale float64, callTimeout time.Duration) *governor.Governor {
	l := ratelimit.NewHierarchy(ratelimit.HierarchyOptions{Table: quotas.Default().Scale(scale)})
	return governor.New(l, governor.Options{MaxElapsed: callTimeout})
}

// recorder collects outcomes.
type recorder struct {
	mu   sync.Mutex
	all  []dispatch.Outcome
	last time.Time
}

func (r *recorder) observe(o dispatch.Outcome) {
	r.mu.Lock()
	r.all = append(r.all, o)
	r.last = time.Now()
	r.mu.Unlock()
}

func (r *recorder) snapshot() ([]dispatch.Outcome, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]dispatch.Outcome(nil), r.all...), r.last
}

// sovc returns a StartOutboundVoiceContact job to number.
func sovc(number string) queue.Job {
	return queue.Job{Op: "StartOutboundVoiceContact", Input: []byte(fmt.Sprintf(
		`{"InstanceId":%q,"ContactFlowId":%q,"DestinationPhoneNumber":%q}`,
		sim.DefaultInstanceID, sim.DefaultContactFlowID, number))}
}

// waitDone polls until the queue holds no unfinished job, or fails the
// test after limit.
func waitDone(t testing.TB, q queue.Queue, limit time.Duration) queue.Stats {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		st, err := q.Stats(context.Background())
		if err != nil {
			t.Fatalf("Stats: %v", err)
		}
		if st.Ready+st.InFlight+st.Delayed == 0 {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue not drained after %v: %+v", limit, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runDispatcher starts d.Run and returns a function that stops it and
// returns Run's error.
func runDispatcher(d *dispatch.Dispatcher) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return func() error {
		cancel()
		err := <-done
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	}
}

// scripted wraps the simulator: respond may answer a request itself (an
// error response) instead of passing it on; every request's operation and
// ClientToken are recorded.
type scripted struct {
	next    http.Handler
	respond func(op string, n int) (status int, code string) // n: 1-based count of op's requests; status 0 passes on

	mu     sync.Mutex
	counts map[string]int
	tokens map[string][]string // op → ClientToken of each request
}

func newScripted(next http.Handler, respond func(op string, n int) (int, string)) *scripted {
	return &scripted{next: next, respond: respond, counts: map[string]int{}, tokens: map[string][]string{}}
}

func opOf(r *http.Request) string {
	switch p := r.URL.Path; {
	case r.Method == "PUT" && p == "/contact/outbound-voice":
		return "StartOutboundVoiceContact"
	case r.Method == "PUT" && p == "/contact/chat":
		return "StartChatContact"
	case r.Method == "PUT" && p == "/contact/task":
		return "StartTaskContact"
	case r.Method == "PUT" && p == "/instance":
		return "CreateInstance"
	case r.Method == "PUT" && strings.HasSuffix(p, "/dial-requests"):
		return "PutDialRequestBatch"
	}
	return r.Method + " " + r.URL.Path
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := opOf(r)
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var tok struct{ ClientToken string }
	_ = json.Unmarshal(body, &tok)
	s.mu.Lock()
	s.counts[op]++
	n := s.counts[op]
	s.tokens[op] = append(s.tokens[op], tok.ClientToken)
	s.mu.Unlock()
	if s.respond != nil {
		if status, code := s.respond(op, n); status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-Errortype", code)
			w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("req-%s-%d", op, n))
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"message":"scripted %s"}`, code)
			return
		}
	}
	s.next.ServeHTTP(w, r)
}

func (s *scripted) count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

func (s *scripted) tokensOf(op string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens[op]...)
}
