package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/client"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/internal/testenv/moto"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/sqs"
	"github.com/tollgatehq/tollgate/sim"
)

func idLine(id, number, token string) string {
	tok := ""
	if token != "" {
		tok = fmt.Sprintf(`,"client_token":%q`, token)
	}
	return fmt.Sprintf(`{"id":%q,"op":"StartOutboundVoiceContact"%s,"input":{"InstanceId":%q,"ContactFlowId":%q,"DestinationPhoneNumber":%q}}`,
		id, tok, sim.DefaultInstanceID, sim.DefaultContactFlowID, number)
}

// TestNoDuplicateCalls runs the duplicate scenarios of issue 12 through the
// API on the embedded store and on SQS (moto_server), against the
// simulator: a re-submitted batch, a re-submitted id with other input
// (409), two jobs with one client_token (409), a token of a stored job
// (409), and a job enqueued twice behind the API's back (on SQS a second
// message, as from another process). The simulator must start exactly one
// contact per job: contacts_started = jobs succeeded.
func TestNoDuplicateCalls(t *testing.T) {
	for _, backend := range []string{"embedded", "sqs"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			simSrv := newSim(t)
			simHTTP := httptest.NewServer(simSrv)
			defer simHTTP.Close()
			cfg := config.Default()
			cfg.DataDir = t.TempDir()
			cfg.Token = testToken
			cfg.AWS.Endpoint = simHTTP.URL
			cfg.Limits.RateScale = 50
			cfg.Dispatch.CallPacing = false // the simulator has room for every call (quota raised above)
			cfg.Dispatch.CallTimeout = 2 * time.Second
			awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDDUP", "secret", "")}
			var m *moto.Server
			if backend == "sqs" {
				m = moto.Start(t)
				cfg.Queue.Backend = "sqs"
				cfg.Queue.SQS.QueueURL = m.URL + "/" + moto.AccountID + fmt.Sprintf("/dup-%d", time.Now().UnixNano())
				cfg.Queue.SQS.Endpoint = m.URL
				cfg.Queue.SQS.WaitTime = time.Second
				awsCfg = aws.Config{Region: moto.Region, Credentials: credentials.NewStaticCredentialsProvider(moto.AccessKey, moto.SecretKey, "")}
			}
			s, err := server.New(context.Background(), cfg, app.Options{AWS: &awsCfg})
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Serve(ctx, ln, nil) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Serve: %v", err)
				}
			}()
			c := &client.Client{BaseURL: "http://" + ln.Addr().String(), Token: testToken}

			const n = 30
			var body strings.Builder
			ids := make([]string, n)
			for i := range n {
				ids[i] = fmt.Sprintf("call-%02d", i)
				body.WriteString(idLine(ids[i], fmt.Sprintf("+1206555%04d", i), "") + "\n")
			}
			first, err := c.SubmitRaw(ctx, []byte(body.String()))
			if err != nil || first.Accepted != n {
				t.Fatalf("submit: %+v %v", first, err)
			}
			for i, j := range first.Jobs {
				if want := queue.DeriveToken("", sim.DefaultInstanceID, ids[i]); j.ClientToken != want {
					t.Fatalf("job %s: token %s, want the one derived from its id %s", ids[i], j.ClientToken, want)
				}
			}
			again, err := c.SubmitRaw(ctx, []byte(body.String()))
			if err != nil || again.Accepted != n {
				t.Fatalf("re-submit: %+v %v, want 202 for the same jobs", again, err)
			}
			wantConflict := func(what, body, id, field string) {
				t.Helper()
				_, err := c.SubmitRaw(ctx, []byte(body))
				var ae *client.APIError
				if !errors.As(err, &ae) || ae.Status != 409 || ae.Code != "conflict" || ae.ID != id || ae.Field != field || !strings.Contains(ae.Message, id) {
					t.Errorf("%s: %v, want 409 conflict naming %s (field %s)", what, err, id, field)
				}
			}
			wantConflict("re-submitted id, other input", idLine("call-05", "+12065559999", ""), "call-05", "id")
			wantConflict("two jobs, one client_token", idLine("x-1", "+12065558881", "shared-1")+"\n"+idLine("x-2", "+12065558882", "shared-1"), "x-2", "client_token")
			wantConflict("the token of a stored job", idLine("y-1", "+12065558883", first.Jobs[7].ClientToken), "y-1", "client_token")
			{
				// One id twice in one request: the error names both lines.
				body := idLine("z-1", "+12065558884", "") + "\n" + idLine("z-2", "+12065558885", "") + "\n" + idLine("z-1", "+12065558886", "")
				_, err := c.SubmitRaw(ctx, []byte(body))
				var ae *client.APIError
				if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "invalid_job" || ae.Line != 3 || !strings.Contains(ae.Message, "repeats job 1 (line 1)") {
					t.Errorf("one id twice: %v (line %d), want 400 invalid_job at line 3 naming job 1 (line 1)", err, ae.Line)
				}
			}
			for _, id := range []string{"x-1", "x-2", "y-1", "z-1", "z-2"} {
				if _, err := c.Job(ctx, id); err == nil {
					t.Errorf("job %s of a refused submission was stored", id)
				}
			}

			// The same job enqueued once more behind the API: on SQS a
			// second process's handle sends a second message.
			dup := queue.Job{ID: "call-03", Op: "StartOutboundVoiceContact", Input: json.RawMessage(
				fmt.Sprintf(`{"InstanceId":%q,"ContactFlowId":%q,"DestinationPhoneNumber":"+12065550003"}`, sim.DefaultInstanceID, sim.DefaultContactFlowID))}
			messages := n
			if backend == "sqs" {
				other, err := sqs.Open(ctx, awssqs.NewFromConfig(awsCfg, func(o *awssqs.Options) { o.BaseEndpoint = aws.String(m.URL) }),
					sqs.Options{QueueURL: cfg.Queue.SQS.QueueURL, DeadLetterURL: cfg.Queue.SQS.QueueURL + "-dlq", WaitTime: -1})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := other.Enqueue(ctx, dup); err != nil {
					t.Fatal(err)
				}
				messages++
			} else if _, err := s.Queue().Enqueue(ctx, dup); err != nil {
				t.Fatal(err)
			}

			deadline := time.Now().Add(90 * time.Second)
			for {
				st, err := c.Stats(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if st.Dispatch.Succeeded+st.Dispatch.Dead >= int64(messages) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not done: %+v", st.Dispatch)
				}
				time.Sleep(50 * time.Millisecond)
			}
			res, err := c.Lookup(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			succeeded := 0
			for _, j := range res.Jobs {
				if j.Status == queue.StatusSucceeded {
					succeeded++
				}
			}
			st := simSrv.Stats()
			t.Logf("%s: %d jobs succeeded, %d messages settled, contacts_started %d, duplicate client tokens answered %d",
				backend, succeeded, messages, st.ContactsStarted, st.DuplicateClientTokens)
			if succeeded != n || st.ContactsStarted != int64(succeeded) {
				t.Fatalf("contacts_started %d, jobs succeeded %d: want both %d (0 duplicate calls)", st.ContactsStarted, succeeded, n)
			}
		})
	}
}

// halfQueue stores the first half of each batch and fails the rest, as an
// SQS submit cut off part-way does.
type halfQueue struct{ *queue.Memory }

func (h halfQueue) Enqueue(ctx context.Context, jobs ...queue.Job) ([]queue.Job, error) {
	k := len(jobs) / 2
	if _, err := h.Memory.Enqueue(ctx, jobs[:k]...); err != nil {
		return nil, err
	}
	prepared, err := queue.Prepare(time.Now(), 0, jobs)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(jobs))
	for i := k; i < len(jobs); i++ {
		errs[i] = errors.New("sqs: send: connection reset")
	}
	return prepared, &queue.BatchError{Errs: errs}
}

// TestPartialSubmit: a submission stored in part answers 503
// partially_stored with every job's result.
func TestPartialSubmit(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Token = testToken
	cfg.AWS.Endpoint = "http://connect.sim.local"
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDDUP", "secret", "")}
	s, err := server.New(context.Background(), cfg, app.Options{AWS: &awsCfg, Queue: halfQueue{queue.NewMemory(queue.MemoryOptions{})}})
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	for i := range 4 {
		body.WriteString(idLine(fmt.Sprintf("p-%d", i), fmt.Sprintf("+1206555%04d", i), "") + "\n")
	}
	code, out := do(t, s.Handler(), "POST", "/v1/jobs", testToken, []byte(body.String()))
	var ps api.PartialSubmit
	if err := json.Unmarshal([]byte(out), &ps); err != nil || code != 503 || ps.Error.Code != "partially_stored" || ps.Accepted != 2 || len(ps.Jobs) != 4 {
		t.Fatalf("got %d %s, want 503 partially_stored with 2 of 4 stored", code, out)
	}
	for i, j := range ps.Jobs {
		want := queue.StatusQueued
		if i >= 2 {
			want = api.StatusNotStored
		}
		if j.ID != fmt.Sprintf("p-%d", i) || j.Status != want {
			t.Errorf("job %d: %+v, want id p-%d status %s", i, j, i, want)
		}
	}
}

// TestCancelRacesDispatch: cancels sent through the API while the
// dispatcher delivers the same jobs (embedded store, simulator): every job
// either ran once (succeeded, its cancel refused with 409) or not at all
// (canceled), and the simulator started exactly one contact per job that
// ran.
func TestCancelRacesDispatch(t *testing.T) {
	simSrv := newSim(t)
	simHTTP := httptest.NewServer(simSrv)
	defer simHTTP.Close()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Token = testToken
	cfg.AWS.Endpoint = simHTTP.URL
	cfg.Limits.RateScale = 50
	cfg.Dispatch.CallPacing = false // the simulator has room for every call (quota raised above)
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDRACE", "secret", "")}
	s, err := server.New(context.Background(), cfg, app.Options{AWS: &awsCfg})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	defer func() { cancel(); <-done }()
	c := &client.Client{BaseURL: "http://" + ln.Addr().String(), Token: testToken}

	const n = 300
	var body strings.Builder
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("race-%03d", i)
		body.WriteString(idLine(ids[i], fmt.Sprintf("+1206555%04d", i), "") + "\n")
	}
	if res, err := c.SubmitRaw(ctx, []byte(body.String())); err != nil || res.Accepted != n {
		t.Fatalf("submit: %+v %v", res, err)
	}
	canceled := map[string]bool{}
	refused := 0
	for i := n - 1; i >= 0; i-- { // from the back, to meet the dispatcher mid-way
		_, err := c.Cancel(ctx, ids[i])
		var ae *client.APIError
		switch {
		case err == nil:
			canceled[ids[i]] = true
		case errors.As(err, &ae) && ae.Status == 409 && ae.Code == "not_cancelable":
			refused++
		default:
			t.Fatalf("cancel %s: %v", ids[i], err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := c.Lookup(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		ran, settled := 0, 0
		for _, j := range res.Jobs {
			switch {
			case j.Status == queue.StatusSucceeded:
				ran++
				settled++
				if canceled[j.ID] {
					t.Fatalf("%s was canceled and ran", j.ID)
				}
			case j.Status == queue.StatusDead:
				settled++
				if !canceled[j.ID] || j.DeadReason != queue.ReasonCanceled {
					t.Fatalf("%s dead (%s) but not canceled by us", j.ID, j.DeadReason)
				}
			}
		}
		if settled == n {
			st := simSrv.Stats()
			t.Logf("%d canceled, %d cancels refused (in flight or done), %d ran; contacts_started %d", len(canceled), refused, ran, st.ContactsStarted)
			if ran+len(canceled) != n || st.ContactsStarted != int64(ran) {
				t.Fatalf("ran %d + canceled %d != %d, or contacts_started %d != ran", ran, len(canceled), n, st.ContactsStarted)
			}
			if len(canceled) == 0 || ran == 0 {
				t.Logf("the race did not interleave this time (all %s)", map[bool]string{true: "canceled", false: "ran"}[ran == 0])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled: %d of %d", settled, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
