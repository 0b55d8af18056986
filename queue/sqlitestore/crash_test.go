package sqlitestore_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/sqlitestore"
)

// The crash child: when this variable names a database, the test binary
// enqueues, leases and acks in a loop and prints each finished step, until it
// is killed.
const crashEnv = "TOLLGATE_SQLITESTORE_CRASH_DB"

func TestMain(m *testing.M) {
	if path := os.Getenv(leaseEnv); path != "" {
		leaseChild(path)
		return
	}
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path, os.Getenv(crashEnv+"_ITER"))
		return
	}
	os.Exit(m.Run())
}

// crashChild runs four workers. Each enqueues a job and prints "E id" once
// Enqueue has returned; then leases one job (visibility 2 s) and, two times
// out of three, acks it and prints "A id" once Ack has returned. It never
// exits on its own.
func crashChild(path, iter string) {
	s, err := sqlitestore.Open(path, sqlitestore.Options{MaxReceives: 1000})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for k := 0; ; k++ {
				id := fmt.Sprintf("i%s-w%d-%d", iter, w, k)
				if _, err := s.Enqueue(ctx, queue.Job{ID: id, Op: "StartTaskContact", Input: []byte(`{"k":"` + id + `"}`)}); err != nil {
					fmt.Fprintln(os.Stderr, "enqueue:", err)
					os.Exit(2)
				}
				os.Stdout.WriteString("E " + id + "\n")
				ls, err := s.Lease(ctx, 1, 2*time.Second)
				if err != nil {
					fmt.Fprintln(os.Stderr, "lease:", err)
					os.Exit(2)
				}
				for _, l := range ls {
					if k%3 == 0 {
						continue // leave it leased: it must come back after the crash
					}
					if err := s.Ack(ctx, l.Receipt); err != nil {
						fmt.Fprintln(os.Stderr, "ack:", err)
						os.Exit(2)
					}
					os.Stdout.WriteString("A " + l.Job.ID + "\n")
				}
			}
		})
	}
	wg.Wait()
}

// TestCrashKill9 kills the child with SIGKILL at a random moment, several
// times on the same file, and checks after each crash that the file is
// intact, every enqueue that returned is there, every ack that returned is
// "succeeded", and finally that no acked job is ever leased again and no job
// is lost.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	enq := map[string]bool{}
	acked := map[string]bool{}
	const iterations = 4
	for it := range iterations {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path, fmt.Sprintf("%s_ITER=%d", crashEnv, it))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Start the clock once the child is working (a race-enabled binary
		// on a busy machine can take a while to start), then kill it at a
		// random moment.
		var got []string
		select {
		case l, ok := <-lines:
			if ok {
				got = append(got, l)
			}
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("iteration %d: the child printed nothing within 60 s: %s", it, stderr.String())
		}
		time.Sleep(time.Duration(300+rand.IntN(700)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for l := range lines {
			got = append(got, l)
		}
		_ = cmd.Wait()
		if strings.TrimSpace(stderr.String()) != "" {
			t.Fatalf("iteration %d: child failed: %s", it, stderr.String())
		}
		ne, na := 0, 0
		last := map[string]int{} // worker → its last confirmed enqueue number
		for _, l := range got {
			kind, id, ok := strings.Cut(l, " ")
			if !ok {
				t.Fatalf("iteration %d: bad line %q", it, l)
			}
			switch kind {
			case "E":
				enq[id] = true
				ne++
				var w string
				var k int
				if i := strings.LastIndex(id, "-"); i > 0 {
					w = id[:i]
					k, _ = strconv.Atoi(id[i+1:])
				}
				last[w] = max(last[w], k+1)
			case "A":
				acked[id] = true
				na++
			}
		}
		if ne == 0 {
			t.Fatalf("iteration %d: the child enqueued nothing before the kill", it)
		}
		// Each worker may have committed one more enqueue than it printed.
		var maybe []string
		for w := range 4 {
			key := fmt.Sprintf("i%d-w%d", it, w)
			maybe = append(maybe, fmt.Sprintf("%s-%d", key, last[key]))
		}
		unprinted := verifyCrash(t, path, enq, acked, maybe)
		t.Logf("iteration %d: %d enqueues and %d acks confirmed before SIGKILL; %d committed but unconfirmed", it, ne, na, unprinted)
	}

	// Finally every job not acked must come back (the child's 2 s leases
	// expire), and no acked job may.
	ctx := context.Background()
	s, err := sqlitestore.Open(path, sqlitestore.Options{MaxReceives: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waiting := st.Ready + st.InFlight + st.Delayed
	time.Sleep(2100 * time.Millisecond)
	var leased int64
	for {
		ls, err := s.Lease(ctx, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) == 0 {
			break
		}
		for _, l := range ls {
			if acked[l.Job.ID] {
				t.Fatalf("acked job %s was leased again", l.Job.ID)
			}
			if err := s.Ack(ctx, l.Receipt); err != nil {
				t.Fatal(err)
			}
		}
		leased += int64(len(ls))
	}
	if leased != waiting {
		t.Fatalf("leased %d jobs after the crashes, want the %d that were waiting", leased, waiting)
	}
	st, err = s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Ready+st.InFlight+st.Delayed+st.Dead != 0 || st.Succeeded < int64(len(enq)) {
		t.Fatalf("final stats %+v; want nothing waiting and at least %d succeeded", st, len(enq))
	}
}

// verifyCrash reopens the file and checks it against what the child
// confirmed. maybe lists the IDs the child may have committed without
// printing (one per worker); those found are added to enq. It returns how
// many were found.
func verifyCrash(t *testing.T, path string, enq, acked map[string]bool, maybe []string) int {
	t.Helper()
	ctx := context.Background()
	s, err := sqlitestore.Open(path, sqlitestore.Options{MaxReceives: 1000})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, id := range maybe {
		if _, err := s.Get(ctx, id); err == nil && !enq[id] {
			enq[id] = true
			found++
		}
	}
	for id := range enq {
		j, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("confirmed enqueue %s lost: %v", id, err)
		}
		if j.Status == queue.StatusDead {
			t.Fatalf("job %s dead: %s", id, j.DeadReason)
		}
		if acked[id] && j.Status != queue.StatusSucceeded {
			t.Fatalf("confirmed ack of %s lost: status %s", id, j.Status)
		}
		if !acked[id] && j.Status == queue.StatusSucceeded {
			acked[id] = true // acked just before the kill, not yet printed: fine, and now final
		}
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := st.Ready + st.InFlight + st.Delayed + st.Dead + st.Succeeded
	if total != int64(len(enq)) {
		t.Fatalf("stored %d jobs, want exactly the %d enqueued", total, len(enq))
	}
	return found
}
