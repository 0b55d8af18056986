package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/internal/client"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

const killTestToken = "kill-test-token-0123456789"

// child is `tollgate serve` running as a separate process (this test
// binary, re-executed).
type child struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	mu   *sync.Mutex
	done chan error
}

func startServe(t *testing.T, dataDir, simURL string, extra ...string) *child {
	t.Helper()
	return startServeEnv(t, nil, dataDir, simURL, extra...)
}

// startServeEnv is startServe with env (KEY=value) added to the child's
// environment.
func startServeEnv(t *testing.T, env []string, dataDir, simURL string, extra ...string) *child {
	t.Helper()
	args := append([]string{"serve",
		"--data-dir", dataDir, "--listen", "127.0.0.1:0",
		"--endpoint", simURL, "--rate-scale", "50",
		"--call-timeout", "1s", "--shutdown-grace", "1s", "--log-level", "warn",
		// The simulator's concurrent-calls quota is raised to 1,000,000
		// (1 ms calls); pacing on calls in progress is not under test.
		"--call-pacing=false"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(),
		reexecEnv+"=1",
		"TOLLGATE_TOKEN="+killTestToken,
		"AWS_ACCESS_KEY_ID=AKIDKILLTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	)
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, logs: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan error, 1)}
	cmd.Stderr = lockedWriter{c.mu, c.logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if _, rest, ok := strings.Cut(line, "listening on "); ok {
				urls <- strings.Fields(rest)[0]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { c.done <- cmd.Wait() }()
	select {
	case c.url = <-urls:
	case err := <-c.done:
		t.Fatalf("serve exited before listening: %v\n%s", err, c.stderr())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve did not start in 60s\n%s", c.stderr())
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

func (c *child) stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logs.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestKillNine: serve delivering 2,000 calls is killed with SIGKILL mid-run
// and started again on the same data directory. Afterwards:
//
//   - every job ended exactly once: each has status succeeded or dead, the
//     2,000 split into exactly the non-refused numbers (succeeded) and the
//     refused ones (dead, client-fault);
//   - no customer was called twice: the simulator started exactly as many
//     contacts as there are succeeded jobs (contacts_started ==
//     succeeded). A job that was called before the kill but not
//     acknowledged is delivered again with the same ClientToken, and the
//     simulator answers it from its idempotency record; that shows up in
//     duplicate_client_tokens (which may be > 0), never in
//     contacts_started.
//
// Finally the restarted serve gets SIGTERM and must exit cleanly.
func TestKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	simSrv, err := sim.New(sim.Options{RateScale: 50, Seed: 9, CallDuration: sim.Distribution{Kind: sim.DistFixed, Min: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := simSrv.SetResourceQuota(quotas.ConcurrentActiveCalls, 1_000_000); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(simSrv)
	defer hs.Close()
	dataDir := t.TempDir()

	const total, refusedEvery = 2000, 20
	var body bytes.Buffer
	refused := map[int]bool{}
	for i := range total {
		number := fmt.Sprintf("+1206555%04d", i)
		if i%refusedEvery == 0 {
			number = fmt.Sprintf("+1555000%04d", i)
			refused[i] = true
		}
		fmt.Fprintf(&body, `{"id":"call-%04d","op":"StartOutboundVoiceContact","input":{"InstanceId":%q,"ContactFlowId":%q,"DestinationPhoneNumber":%q}}`+"\n",
			i, sim.DefaultInstanceID, sim.DefaultContactFlowID, number)
	}

	ctx := context.Background()
	first := startServe(t, dataDir, hs.URL)
	c := &client.Client{BaseURL: first.url, Token: killTestToken}
	if res, err := c.SubmitRaw(ctx, body.Bytes()); err != nil || res.Accepted != total {
		t.Fatalf("submit: %+v %v", res, err)
	}
	// Kill it a third of the way through.
	deadline := time.Now().Add(60 * time.Second)
	var before api.StatsResponse
	for {
		before, err = c.Stats(ctx)
		if err != nil {
			t.Fatalf("stats: %v\n%s", err, first.stderr())
		}
		if before.Queue.Succeeded+before.Queue.Dead >= total/3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress: %+v\n%s", before, first.stderr())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	atKill := simSrv.Stats()
	t.Logf("killed after about %d settled jobs; the simulator had started %d contacts", before.Queue.Succeeded+before.Queue.Dead, atKill.ContactsStarted)

	second := startServe(t, dataDir, hs.URL)
	c = &client.Client{BaseURL: second.url, Token: killTestToken}
	deadline = time.Now().Add(90 * time.Second)
	var after api.StatsResponse
	for {
		after, err = c.Stats(ctx)
		if err != nil {
			t.Fatalf("stats: %v\n%s", err, second.stderr())
		}
		q := after.Queue
		if q.Ready+q.InFlight+q.Delayed == 0 && q.Succeeded+q.Dead == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not drained after the restart: %+v\n%s", after, second.stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Every job, one by one.
	var succeeded, dead, redelivered int
	for i := range total {
		j, err := c.Job(ctx, fmt.Sprintf("call-%04d", i))
		if err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
		if j.Receives > 1 {
			redelivered++
		}
		switch {
		case refused[i] && j.Status == queue.StatusDead && j.DeadReason == queue.ReasonClientFault:
			dead++
		case !refused[i] && j.Status == queue.StatusSucceeded:
			succeeded++
		default:
			t.Errorf("job %d (refused %v): status %s reason %q detail %q", i, refused[i], j.Status, j.DeadReason, j.DeadDetail)
		}
	}
	st := simSrv.Stats()
	t.Logf("succeeded %d, dead %d, redelivered after the kill %d; simulator: contacts_started %d, duplicate_client_tokens %d, requests %d, throttled %d",
		succeeded, dead, redelivered, st.ContactsStarted, st.DuplicateClientTokens, st.Totals.Requests, st.Totals.Throttled)
	if succeeded+dead != total || dead != total/refusedEvery {
		t.Errorf("succeeded %d + dead %d, want %d + %d", succeeded, dead, total-total/refusedEvery, total/refusedEvery)
	}
	// The exact assertion: one contact per succeeded job, no more.
	if st.ContactsStarted != int64(succeeded) {
		t.Errorf("contacts_started %d != succeeded jobs %d: a customer was called twice (or a call was lost)", st.ContactsStarted, succeeded)
	}

	// A clean stop this time.
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-second.done:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, second.stderr())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("serve did not exit within 30s of SIGTERM")
	}
}
