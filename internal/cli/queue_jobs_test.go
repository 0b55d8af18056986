package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// startFastServer is startServer with a quick simulator (short calls, room
// for every call) and the embedded store, for campaigns of a thousand jobs.
func startFastServer(t *testing.T) (string, *sim.Server, *server.Server) {
	t.Helper()
	s, err := sim.New(sim.Options{RateScale: 200, Seed: 1, CallDuration: sim.Distribution{Kind: sim.DistFixed, Min: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetResourceQuota(quotas.ConcurrentActiveCalls, 1_000_000); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Token = "queue-cli-token-0123456789"
	cfg.AWS.Endpoint = "http://connect.sim.local"
	cfg.Limits.RateScale = 200
	cfg.Dispatch.CallPacing = false // the simulator has room for every call (quota raised above)
	awsCfg := aws.Config{Region: "us-east-1", HTTPClient: &http.Client{Transport: memRoundTripper{s}},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDCLI", SecretAccessKey: "x"}, nil
		})}
	srv, err := server.New(context.Background(), cfg, app.Options{AWS: &awsCfg})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	t.Setenv("TOLLGATE_TOKEN", cfg.Token)
	return "http://" + ln.Addr().String(), s, srv
}

func voiceLine(n string) string {
	return fmt.Sprintf(`{"op":"StartOutboundVoiceContact","input":{"InstanceId":%q,"ContactFlowId":%q,"DestinationPhoneNumber":%q}}`,
		sim.DefaultInstanceID, sim.DefaultContactFlowID, n)
}

// TestSubmitWait: `queue submit --wait` on 1,000 jobs draws its progress
// bar and prints the outcome summary (the 10 refused numbers
// dead-lettered by reason); running the same submit again stores nothing
// twice (ids made of the file and the line) and calls nobody twice.
func TestSubmitWait(t *testing.T) {
	url, simSrv, _ := startFastServer(t)
	old := waitPoll
	waitPoll = 100 * time.Millisecond
	defer func() { waitPoll = old }()
	var b strings.Builder
	for i := range 1000 {
		n := fmt.Sprintf("+1206555%04d", i)
		if i%100 == 99 {
			n = "+15550002222" // the simulator refuses it: DestinationNotAllowedException
		}
		b.WriteString(voiceLine(n) + "\n")
	}
	file := filepath.Join(t.TempDir(), "campaign.jsonl")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, "", "queue", "submit", "--server", url, "--file", file, "--wait", "--progress", "--chunk-jobs", "300")
	if code != ExitPartial {
		t.Fatalf("exit %d (want 3: some were dead-lettered)\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"accepted 1000 job(s)", "1000 job(s) ended", "succeeded                 990", "dead-lettered             10 (client-fault 10)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "jobs ended") || !strings.Contains(errOut, "/1000)") {
		t.Errorf("no progress bar on standard error:\n%.500s", errOut)
	}
	t.Logf("summary:\n%s", out)
	started := simSrv.Stats().ContactsStarted

	// The same submit again: the same ids, nothing new, nobody called twice.
	code, out, errOut = cli(t, "", "queue", "submit", "--server", url, "--file", file, "--wait", "--format", "json")
	var sum WaitSummary
	if code != ExitPartial || json.Unmarshal([]byte(out), &sum) != nil || sum.Succeeded != 990 || sum.DeadLettered["client-fault"] != 10 {
		t.Fatalf("re-submit: exit %d %s %s", code, out, errOut)
	}
	if strings.Contains(errOut, "jobs ended") {
		t.Errorf("a bar was drawn off a terminal with --format json")
	}
	time.Sleep(200 * time.Millisecond)
	if again := simSrv.Stats().ContactsStarted; again != started || started != 990 {
		t.Fatalf("contacts_started %d after the first submit, %d after the second; want 990 both times", started, again)
	}
}

// TestJobShowCancelPurge: job show, job cancel (refused once it ran), and
// purge by status.
func TestJobShowCancelPurge(t *testing.T) {
	url, q := startServer(t)
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	lines := voiceLine("+12065550100") + "\n" +
		`{"id":"later-1","op":"StartOutboundVoiceContact","not_before":"` + later + `","input":{"InstanceId":"` + sim.DefaultInstanceID + `","ContactFlowId":"` + sim.DefaultContactFlowID + `","DestinationPhoneNumber":"+12065550101"}}` + "\n" +
		`{"id":"later-2","op":"StartOutboundVoiceContact","not_before":"` + later + `","input":{"InstanceId":"` + sim.DefaultInstanceID + `","ContactFlowId":"` + sim.DefaultContactFlowID + `","DestinationPhoneNumber":"+12065550102"}}` + "\n"
	code, out, errOut := cli(t, lines, "queue", "submit", "--server", url, "--file", "-", "--format", "json")
	if code != ExitOK {
		t.Fatalf("submit: %d %s %s", code, out, errOut)
	}
	code, out, _ = cli(t, "", "queue", "job", "show", "--server", url, "later-1")
	if code != ExitOK || !strings.Contains(out, `"id": "later-1"`) || !strings.Contains(out, `"status": "queued"`) {
		t.Fatalf("job show: %d %s", code, out)
	}
	code, out, _ = cli(t, "", "queue", "job", "cancel", "--server", url, "later-1")
	if code != ExitOK || !strings.Contains(out, "later-1: canceled") {
		t.Fatalf("job cancel: %d %s", code, out)
	}
	j, _ := q.Get(context.Background(), "later-1")
	if j.Status != queue.StatusDead || j.DeadReason != queue.ReasonCanceled {
		t.Fatalf("canceled job: %+v", j)
	}
	code, _, errOut = cli(t, "", "queue", "job", "cancel", "--server", url, "later-1", "nope")
	if code != ExitPartial || !strings.Contains(errOut, "later-1: not canceled: job later-1 has already ended (dead)") || !strings.Contains(errOut, "nope: not canceled") {
		t.Fatalf("cancel again: %d %s", code, errOut)
	}
	if code, _, errOut := cli(t, "", "queue", "purge", "--server", url, "--status", "delayed"); code != ExitUsage || !strings.Contains(errOut, "--yes") {
		t.Fatalf("purge without --yes: %d %s", code, errOut)
	}
	if code, _, _ := cli(t, "", "queue", "purge", "--server", url, "--status", "dead", "--yes"); code != ExitUsage {
		t.Fatalf("purge --status dead: %d", code)
	}
	code, out, _ = cli(t, "", "queue", "purge", "--server", url, "--status", "delayed", "--before", "-1h", "--yes")
	if code != ExitUsage {
		t.Fatalf("purge --before -1h: %d %s", code, out)
	}
	code, out, _ = cli(t, "", "queue", "purge", "--server", url, "--status", "delayed", "--yes")
	if code != ExitOK || !strings.Contains(out, "purged 1 job(s)") {
		t.Fatalf("purge: %d %s", code, out)
	}
	if _, err := q.Get(context.Background(), "later-2"); err == nil {
		t.Fatalf("purged job still there")
	}
}

// TestSplitJobsByCount: a file of 25,000 short jobs goes in requests of at
// most 10,000 jobs with the default options.
func TestSplitJobsByCount(t *testing.T) {
	var b strings.Builder
	for i := range 25000 {
		fmt.Fprintf(&b, `{"op":"ListInstances","id":"j-%d"}`+"\n", i)
		if i == 5 {
			b.WriteString("\n") // blank lines are not jobs
		}
	}
	chunks, starts, err := splitJobs([]byte(b.String()), 3<<20, server.MaxJobsPerRequest)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 3 || starts[1] != 10002 || starts[2] != 20002 {
		t.Fatalf("%d chunks starting at %v, want 3 at lines 1, 10002, 20002", len(chunks), starts)
	}
	for i, c := range chunks {
		n := 0
		for _, l := range strings.Split(strings.TrimSpace(string(c)), "\n") {
			if strings.TrimSpace(l) != "" {
				n++
			}
		}
		if n > server.MaxJobsPerRequest {
			t.Errorf("chunk %d holds %d jobs", i, n)
		}
	}
}

// TestAssignIDs: ids made of the content and the line; kept when given;
// the same content gives the same ids.
func TestAssignIDs(t *testing.T) {
	in := []byte(`{"op":"ListInstances"}` + "\n\n" + `{"op":"ListInstances","id":"mine"}` + "\n")
	a, err := assignIDs(in)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := assignIDs(in)
	if string(a) != string(b) {
		t.Fatalf("not stable:\n%s\n%s", a, b)
	}
	lines := strings.Split(string(a), "\n")
	if !strings.Contains(lines[0], `"id":"f`) || !strings.HasSuffix(lines[0], `-1"}`) && !strings.Contains(lines[0], `-1"`) || lines[1] != "" || !strings.Contains(lines[2], `"id":"mine"`) {
		t.Fatalf("assigned:\n%s", a)
	}
	arr, _ := assignIDs([]byte(`[{"op":"ListInstances"},{"op":"ListInstances"}]`))
	if strings.Count(string(arr), "\n") != 2 || !strings.Contains(string(arr), `-2"`) {
		t.Fatalf("array:\n%s", arr)
	}
}
