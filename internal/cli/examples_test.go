package cli

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tollgatehq/tollgate/triage"
	"github.com/tollgatehq/tollgate/triage/triagegen"
)

// walk calls f for every command of the tree under c, c included.
func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, s := range c.Commands() {
		walk(s, f)
	}
}

// exampleCalls returns the tollgate invocations of an Example text, each
// split into words: a line may hold several (pipes, $(…)), and comments
// (#) and shell operators end one.
func exampleCalls(example string) [][]string {
	var out [][]string
	for line := range strings.SplitSeq(example, "\n") {
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		for _, ix := range tollgateCall.FindAllStringIndex(line, -1) {
			if m := line[ix[0]:ix[1]]; strings.HasSuffix(m, "tollgate") && ix[1] < len(line) && !strings.ContainsRune(" |;&()<>`", rune(line[ix[1]])) {
				continue // a word that starts with tollgate (tollgate-data/token), not the command
			}
			out = append(out, shellWords(line[ix[0]:ix[1]])[1:])
		}
	}
	return out
}

var tollgateCall = regexp.MustCompile(`(^|[\s(])tollgate( [^|;&()<>` + "`" + `]*)?`)

// shellWords splits like a shell for the quoting examples use.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote, in = c, true
		case c == ' ' || c == '\t' || c == '(':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// TestEveryCommandHasExamples walks the command tree: every runnable,
// visible command has an Example, and every tollgate invocation in any
// Example names a real command with flags that parse and arguments the
// command accepts.
func TestEveryCommandHasExamples(t *testing.T) {
	root := NewRoot(io.Discard, io.Discard)
	n := 0
	walk(root, func(c *cobra.Command) {
		if c.Hidden || !c.Runnable() || c.Name() == "help" || c.HasParent() && c.Parent().Name() == "completion" {
			return
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s: no Example", c.CommandPath())
			return
		}
		for _, args := range exampleCalls(c.Example) {
			n++
			checkInvocation(t, c.CommandPath(), args)
		}
	})
	if n < 40 {
		t.Errorf("only %d example invocations found: the parser misses some", n)
	}
}

// checkInvocation resolves args against a fresh tree and parses its flags.
func checkInvocation(t *testing.T, where string, args []string) {
	t.Helper()
	root := NewRoot(io.Discard, io.Discard)
	if len(args) == 1 && args[0] == "--version" {
		return
	}
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root || !cmd.Runnable() {
		t.Errorf("%s example %q: no such command (%v)", where, strings.Join(args, " "), err)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s example %q: %v", where, strings.Join(args, " "), err)
		return
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		t.Errorf("%s example %q: arguments: %v", where, strings.Join(args, " "), err)
	}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Deprecated != "" || len(f.Annotations[deprecatedAnnotation]) > 0 {
			t.Errorf("%s example %q uses the deprecated --%s", where, strings.Join(args, " "), f.Name)
		}
	})
}

// TestExamplesRunAsPasted runs, in a temporary directory, the examples
// that need no server or account, in their order: triage generate then
// triage, stagger plan, version.
func TestExamplesRunAsPasted(t *testing.T) {
	t.Chdir(t.TempDir())
	root := NewRoot(io.Discard, io.Discard)
	for _, path := range [][]string{{"triage", "generate"}, {"triage"}, {"stagger", "plan"}, {"version"}} {
		c, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, args := range exampleCalls(c.Example) {
			if !runnableHere(root, args) {
				continue // input that is not here (s3-copy/, a pipe)
			}
			if path[0] == "stagger" && strings.Contains(strings.Join(args, " "), "--format json") {
				continue // the same simulation again, seconds under -race
			}
			code, _, errOut := runCLI(t, append(args, quietFor(args)...)...)
			if code != ExitOK {
				t.Errorf("%q: exit %d: %s", strings.Join(args, " "), code, errOut)
			}
		}
	}
}

// runnableHere reports whether every positional argument of an invocation
// exists in the current directory (or there are none).
func runnableHere(root *cobra.Command, args []string) bool {
	cmd, rest, err := root.Find(args)
	if err != nil || cmd.ParseFlags(rest) != nil {
		return false
	}
	for _, a := range cmd.Flags().Args() {
		if _, err := os.Stat(a); err != nil {
			return false
		}
	}
	return len(cmd.Flags().Args()) > 0 || !strings.Contains(strings.Join(args, " "), "s3-copy")
}

// quietFor adds --quiet where a command draws progress.
func quietFor(args []string) []string {
	if args[0] == "triage" && (len(args) < 2 || args[1] != "generate") {
		return []string{"--quiet"}
	}
	return nil
}

// TestOneSpellingPerFlag: progress off is --quiet and JSON is --format
// json on every command that has them; the old spellings still work but
// are hidden and deprecated.
func TestOneSpellingPerFlag(t *testing.T) {
	root := NewRoot(io.Discard, io.Discard)
	walk(root, func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			switch f.Name {
			case "plain", "no-progress", "json", "no-color", "silent":
				if !f.Hidden || len(f.Annotations[deprecatedAnnotation]) == 0 {
					t.Errorf("%s --%s: a second spelling that is not a hidden deprecated alias", c.CommandPath(), f.Name)
				}
			case "format":
				if !strings.Contains(f.Usage, "json") {
					t.Errorf("%s --format: %q does not offer json", c.CommandPath(), f.Usage)
				}
			}
		})
	})
	for _, path := range []string{"demo", "triage", "bench"} {
		c, _, _ := root.Find([]string{path})
		if c.Flags().Lookup("quiet") == nil {
			t.Errorf("%s has no --quiet", path)
		}
	}
	for _, path := range [][]string{{"triage", "generate"}, {"queue", "dlq", "redrive"}, {"queue", "dlq", "list"}, {"queue", "stats"}} {
		c, _, _ := root.Find(path)
		if c.Flags().Lookup("format") == nil {
			t.Errorf("%s has no --format", strings.Join(path, " "))
		}
	}
	// The deprecated spellings still do their job.
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "triage", "generate", "--cause", "spike", "--out", dir, "--json", "--duration", "10m", "--background", "-1")
	if code != ExitOK || !strings.HasPrefix(strings.TrimSpace(out), "{") || !strings.Contains(errOut, "deprecated") {
		t.Errorf("--json: exit %d, out %.40q, err %q", code, out, errOut)
	}
}

// TestVersionFlag: `tollgate --version` prints what `tollgate version` does.
func TestVersionFlag(t *testing.T) {
	c1, out1, _ := runCLI(t, "--version")
	c2, out2, _ := runCLI(t, "version")
	if c1 != ExitOK || c2 != ExitOK || out1 != out2 || !strings.HasPrefix(out1, "tollgate ") {
		t.Errorf("--version: %d %q; version: %d %q", c1, out1, c2, out2)
	}
}

// TestTriageAdviceExists: every tollgate command a triage fix names (in
// backquotes) is a real command whose flags parse, for every generated
// cause.
func TestTriageAdviceExists(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []string{"mixed", triagegen.DialerRetryStorm} {
		sub := filepath.Join(dir, c)
		if _, err := triagegen.Generate(sub, triagegen.GenerateOptions{Cause: c, Seed: 3, Duration: 10 * time.Minute, Background: 1}); err != nil {
			t.Fatal(err)
		}
	}
	inputs, err := triage.FileInputs([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := triage.Analyze(t.Context(), inputs, triage.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		seen[f.Cause] = true
		for _, m := range backquoted.FindAllStringSubmatch(f.Fix, -1) {
			words := shellWords(m[1])
			switch {
			case words[0] == "tollgate":
				checkInvocation(t, f.Operation+" fix", words[1:])
			case m[1] == "awssdk.Govern" || m[1] == "Governor.Do":
				// Go API: awssdk.Govern and (*governor.Governor).Do exist (compiled in elsewhere).
			default:
				t.Errorf("%s fix names %q, which is neither a tollgate command nor a known API", f.Operation, m[1])
			}
		}
	}
	for _, c := range []string{triage.CausePolling, triage.CauseSynchronizedStart, triage.CauseRetryStorm, triage.CauseSpike, triage.CauseProvisioning} {
		if !seen[c] {
			t.Errorf("no %s finding: the advice of that cause went unchecked", c)
		}
	}
	// serve's poller flags the polling advice names exist.
	root := NewRoot(io.Discard, io.Discard)
	serve, _, _ := root.Find([]string{"serve"})
	for _, fl := range []string{"poll-instance", "poll-queues"} {
		if serve.Flags().Lookup(fl) == nil {
			t.Errorf("the polling advice names serve --%s, which does not exist", fl)
		}
	}
}

var backquoted = regexp.MustCompile("`([^`]+)`")
