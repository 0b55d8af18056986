package server_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeBlock returns the first fenced block of lang after the line
// containing marker in the repository's README.
func readmeBlock(t *testing.T, marker, lang string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, marker)
	if i < 0 {
		t.Fatalf("README has no %q", marker)
	}
	s = s[i:]
	start := strings.Index(s, "```"+lang+"\n")
	if start < 0 {
		t.Fatalf("README has no %s block after %q", lang, marker)
	}
	s = s[start+len("```"+lang+"\n"):]
	end := strings.Index(s, "\n```")
	return s[:end+1]
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required with CI=true: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// TestREADMEClients runs the README's Python (urllib) and Node (fetch)
// submission examples as pasted against a running server: 202 with the
// three jobs, a second run is accepted again (the same ids), and the jobs
// are there.
func TestREADMEClients(t *testing.T) {
	python := needTool(t, "python3")
	node := needTool(t, "node")
	s, q := newServer(t, newSim(t), nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	defer func() { cancel(); <-done }()
	dir := t.TempDir()
	// The examples read the token from tollgate-data/token when
	// TOLLGATE_TOKEN is not set: use that path.
	if err := os.MkdirAll(filepath.Join(dir, "tollgate-data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tollgate-data", "token"), []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "TOLLGATE_URL=http://"+ln.Addr().String(), "TOLLGATE_TOKEN=")
	run := func(prog string, file, code string) string {
		t.Helper()
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, []byte(code), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(prog, path)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", prog, file, err, out)
		}
		return string(out)
	}
	py := readmeBlock(t, "Submitting from Python", "python")
	js := readmeBlock(t, "And from Node", "js")
	for round := range 2 {
		if out := run(python, "submit.py", py); strings.TrimSpace(out) != "202 3 accepted" {
			t.Errorf("python round %d: %q", round, out)
		}
		out := run(node, "submit.mjs", js)
		if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || lines[0] != "202 3 accepted" {
			t.Errorf("node round %d: %q", round, out)
		}
	}
	for _, id := range []string{"py-call-0", "py-call-2", "node-call-0", "node-call-2"} {
		if _, err := q.Get(ctx, id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}
