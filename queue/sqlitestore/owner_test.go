package sqlitestore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/queue"
	"github.com/tollgatehq/tollgate/queue/sqlitestore"
)

// leaseEnv makes the test binary a child that leases five of ten jobs for
// an hour, prints "leased", and waits to be killed.
const leaseEnv = "TOLLGATE_SQLITESTORE_LEASE_DB"

func leaseChild(path string) {
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	for i := range 10 {
		if _, err := s.Enqueue(ctx, queue.Job{ID: fmt.Sprintf("job-%d", i), Op: "StartTaskContact"}); err != nil {
			fmt.Fprintln(os.Stderr, "enqueue:", err)
			os.Exit(2)
		}
	}
	if ls, err := s.Lease(ctx, 5, time.Hour); err != nil || len(ls) != 5 {
		fmt.Fprintln(os.Stderr, "lease:", len(ls), err)
		os.Exit(2)
	}
	fmt.Println("leased")
	select {}
}

// TestKilledOwnerLeasesReleased: the leases of a process killed with
// SIGKILL are released when the store opens again, not after their hour.
// While the process lives, a second store on the file leaves them alone.
func TestKilledOwnerLeasesReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), leaseEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "leased" {
		t.Fatalf("child did not lease: %q", sc.Text())
	}
	ctx := context.Background()

	// The child is alive: its leases stay.
	live, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := live.Recovered(); n != 0 {
		t.Fatalf("released %d leases of a live process", n)
	}
	ls, err := live.Lease(ctx, 10, time.Minute)
	if err != nil || len(ls) != 5 {
		t.Fatalf("leased %d (%v) beside a live owner, want the 5 it did not hold", len(ls), err)
	}
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// 5 of the killed child's, 5 of the closed store's.
	if n := s.Recovered(); n != 10 {
		t.Fatalf("Recovered() = %d, want 10", n)
	}
	ls, err = s.Lease(ctx, 20, time.Minute)
	if err != nil || len(ls) != 10 {
		t.Fatalf("leased %d (%v) after the restart, want all 10 at once", len(ls), err)
	}
	for _, l := range ls {
		if l.Job.Receives != 2 {
			t.Errorf("%s: receives %d, want 2 (the lost lease counts)", l.Job.ID, l.Job.Receives)
		}
	}
	if m, _ := filepath.Glob(path + "-owner-*.lock"); len(m) != 1 {
		t.Errorf("owner lock files %v, want only the open store's", m)
	}
}
