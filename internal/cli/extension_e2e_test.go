package cli

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/internal/iampolicy"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

// rieModule is the Lambda Runtime Interface Emulator, installed from the Go
// module proxy.
const rieModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest"

// needTool returns a tool's path, failing with CI=true and skipping
// otherwise when it is missing.
func needTool(t *testing.T, name, why string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: %s", name, why)
		}
		t.Skipf("%s is missing: %s", name, why)
	}
	return p
}

// rieBinary returns the emulator: $TOLLGATE_RIE, or built once from the Go
// module proxy into the user cache.
func rieBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TOLLGATE_RIE"); p != "" {
		return p
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "tollgate-test", "rie")
	bin := filepath.Join(dir, "aws-lambda-rie")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, "install", rieModule)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go install %s: %v\n%s", rieModule, err, out)
		}
		t.Skipf("go install %s: %v\n%s", rieModule, err, out)
	}
	return bin
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// repoRoot is the module root (this package is internal/cli).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// unzipLayer extracts the layer as Lambda does under /opt.
func unzipLayer(t *testing.T, zipPath, dst string) {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		p := filepath.Join(dst, f.Name)
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, f.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// lambdaEnv is one execution environment: the emulator in its own mount
// namespace, with the layer at /opt and the Node function.
type lambdaEnv struct {
	cmd     *exec.Cmd
	invoke  string // the emulator's invoke URL
	out     *syncBuffer
	stopped chan struct{}
}

// TestExtensionUnderRIE is the end-to-end run: the layer built by `tollgate
// package lambda-layer`, extracted at /opt (a bind mount in a new mount
// namespace, so /opt/extensions/tollgate is where Lambda looks), started by
// the Lambda Runtime Interface Emulator beside a Node function (a minimal
// Runtime API bootstrap) whose handler calls StartOutboundVoiceContact and
// ListQueues with @aws-sdk/client-connect and AWS_ENDPOINT_URL_CONNECT at the
// extension, which forwards to the simulator. Five environments take a
// burst of 50 invocations (the emulator runs one invocation at a time per
// environment, as Lambda does); each extension admits 1/5 of each quota.
func TestExtensionUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the layer and the emulator")
	}
	node := needTool(t, "node", "the function's runtime")
	unshare := needTool(t, "unshare", "a mount namespace for /opt")
	rie := rieBinary(t)
	fnDir := filepath.Join(repoRoot(t), "examples", "deploy", "lambda", "function")
	if _, err := os.Stat(filepath.Join(fnDir, "node_modules", "@aws-sdk", "client-connect")); err != nil {
		npm := needTool(t, "npm", "installs @aws-sdk/client-connect")
		c := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		c.Dir = fnDir
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	if out, err := exec.Command(unshare, "--user", "--map-root-user", "--mount", "true").CombinedOutput(); err != nil {
		t.Skipf("no unprivileged mount namespaces here (%v: %s): the emulator needs /opt/extensions", err, out)
	}

	// The layer, as users build it.
	dir := t.TempDir()
	layer := filepath.Join(dir, "layer.zip")
	arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	if code, out, errs := runQuotaCLI("package", "lambda-layer", "--arch", arch, "-o", layer, "--source", repoRoot(t)); code != ExitOK {
		t.Fatalf("package lambda-layer: %d\n%s%s", code, out, errs)
	}
	opt := filepath.Join(dir, "opt")
	unzipLayer(t, layer, opt)
	if st, err := os.Stat(filepath.Join(opt, "extensions", "tollgate")); err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Fatalf("layer: extensions/tollgate %v %v", st, err)
	}

	// The simulator knows only the function's key: every call it accepts was
	// verified and re-signed by an extension with the function's credentials.
	const key, secret, token = "ASIAE2EFUNCTION00001", "e2e-function-secret", "e2e-session-token"
	s, err := sim.New(sim.Options{Seed: 1, RateScale: 10, Credentials: map[string]string{key: secret},
		CallDuration: sim.Distribution{Kind: sim.DistFixed, Min: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetResourceQuota(quotas.ConcurrentActiveCalls, 1_000_000); err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(s)
	defer up.Close()

	// The function timeout is generous because the emulator counts the
	// environment's init (five Node runtimes importing the SDK at once on a
	// shared CI machine) against it; the figures logged below show what
	// the invocations themselves took.
	const envs, perEnv, fnTimeout = 5, 10, 90
	var lenvs []*lambdaEnv
	for range envs {
		rp, ap, ep := freeLoopbackPort(t), freeLoopbackPort(t), freeLoopbackPort(t)
		script := `mount --bind "$TG_OPT" /opt && exec "$TG_RIE" --runtime-interface-emulator-address "127.0.0.1:$TG_RIE_PORT" --runtime-api-address "127.0.0.1:$TG_API_PORT" "$TG_NODE" "$TG_FN/bootstrap.mjs" index.handler`
		cmd := exec.Command(unshare, "--user", "--map-root-user", "--mount", "--propagation", "private", "/bin/sh", "-c", script)
		cmd.Dir = fnDir
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
			"TG_OPT=" + opt, "TG_RIE=" + rie, "TG_NODE=" + node, "TG_FN=" + fnDir,
			fmt.Sprintf("TG_RIE_PORT=%d", rp), fmt.Sprintf("TG_API_PORT=%d", ap),
			// The function's credentials and Region, as Lambda sets them.
			"AWS_ACCESS_KEY_ID=" + key, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_SESSION_TOKEN=" + token,
			"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
			fmt.Sprintf("AWS_LAMBDA_FUNCTION_TIMEOUT=%d", fnTimeout), "AWS_LAMBDA_FUNCTION_NAME=dialer",
			"LAMBDA_TASK_ROOT=" + fnDir,
			// The function's two settings: its endpoint at the extension, and
			// the extension's share of the quota (no Redis here).
			fmt.Sprintf("AWS_ENDPOINT_URL_CONNECT=http://127.0.0.1:%d", ep), fmt.Sprintf("TOLLGATE_EXTENSION_LISTEN=127.0.0.1:%d", ep),
			fmt.Sprintf("TOLLGATE_QUOTA_SHARE=%g", 1.0/envs),
			// Test wiring: the simulator as upstream, its rate scale.
			"TOLLGATE_UPSTREAM=" + up.URL, "TOLLGATE_RATE_SCALE=10", "TOLLGATE_DEADLINE=20s",
			"CONNECT_INSTANCE_ID=" + sim.DefaultInstanceID, "CONNECT_CONTACT_FLOW_ID=" + sim.DefaultContactFlowID,
		}
		le := &lambdaEnv{cmd: cmd, invoke: fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", rp), out: &syncBuffer{}, stopped: make(chan struct{})}
		cmd.Stdout, cmd.Stderr = le.out, le.out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = cmd.Wait(); close(le.stopped) }()
		t.Cleanup(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-le.stopped
		})
		lenvs = append(lenvs, le)
	}
	// Wait for every emulator to listen.
	for _, le := range lenvs {
		deadline := time.Now().Add(30 * time.Second)
		for {
			c, err := net.Dial("tcp", strings.TrimPrefix(strings.Split(le.invoke, "/2015")[0], "http://"))
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("emulator not listening:\n%s", le.out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	type result struct {
		env, n int
		took   time.Duration
		status int
		body   string
	}
	results := make(chan result, envs*perEnv)
	start := time.Now()
	var wg sync.WaitGroup
	for i, le := range lenvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: (fnTimeout + 10) * time.Second}
			for n := range perEnv {
				t0 := time.Now()
				resp, err := hc.Post(le.invoke, "application/json", strings.NewReader(fmt.Sprintf(`{"phoneNumber":"+1206555%02d%02d"}`, i, n)))
				r := result{env: i, n: n, took: time.Since(t0)}
				if err != nil {
					r.body = err.Error()
				} else {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					r.status, r.body = resp.StatusCode, string(b)
				}
				results <- r
			}
		}()
	}
	wg.Wait()
	close(results)
	total := time.Since(start)
	var firsts, rest []time.Duration
	ok := 0
	for r := range results {
		var out struct {
			ContactID string `json:"contactId"`
			Queues    int    `json:"queues"`
		}
		if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &out) != nil || out.ContactID == "" || out.Queues == 0 {
			t.Errorf("env %d invocation %d: %d %s", r.env, r.n, r.status, r.body)
			continue
		}
		ok++
		if r.n == 0 {
			firsts = append(firsts, r.took)
		} else {
			rest = append(rest, r.took)
		}
	}
	if t.Failed() {
		for i, le := range lenvs {
			t.Logf("environment %d output:\n%s", i, le.out.String())
		}
		t.FailNow()
	}
	// The emulator's REPORT lines: each invocation's duration (the
	// function timeout's measure; init is not part of it, as in Lambda) and
	// each environment's init duration (extension, runtime and function).
	reportRE := regexp.MustCompile(`REPORT RequestId: \S+\t(?:Init Duration: ([0-9.]+) ms\t)?Duration: ([0-9.]+) ms`)
	// The emulator prints REPORT as it answers; its output reaches us
	// through a pipe, so give the last lines a moment.
	countReports := func() int {
		n := 0
		for _, le := range lenvs {
			n += len(reportRE.FindAllString(le.out.String(), -1))
		}
		return n
	}
	for deadline := time.Now().Add(5 * time.Second); countReports() < envs*perEnv && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	var inits []float64
	reports := 0
	for i, le := range lenvs {
		for _, m := range reportRE.FindAllStringSubmatch(le.out.String(), -1) {
			reports++
			if m[1] != "" {
				v, _ := strconv.ParseFloat(m[1], 64)
				inits = append(inits, v)
			}
			if d, _ := strconv.ParseFloat(m[2], 64); d >= fnTimeout*1000 {
				t.Errorf("environment %d: an invocation ran %v ms, the function timeout", i, d)
			}
		}
	}
	if reports != envs*perEnv {
		t.Errorf("%d REPORT lines, want %d", reports, envs*perEnv)
	}
	sort.Float64s(inits)
	if len(inits) > 0 {
		t.Logf("init duration (emulator's INIT: extension registration, Node runtime and function import) median %.0f ms, max %.0f ms", inits[len(inits)/2], inits[len(inits)-1])
	}
	st := s.Stats()
	sovc, lq := st.Operations["StartOutboundVoiceContact"], st.Operations["ListQueues"]
	if sovc.Accepted != envs*perEnv || lq.Accepted != envs*perEnv {
		t.Errorf("simulator accepted %d StartOutboundVoiceContact and %d ListQueues, want %d each", sovc.Accepted, lq.Accepted, envs*perEnv)
	}
	if st.Totals.Throttled*100 > st.Totals.Requests {
		t.Errorf("simulator throttled %d of %d requests (> 1%%)", st.Totals.Throttled, st.Totals.Requests)
	}
	if got := st.Callers[key].Requests; got != st.Totals.Requests {
		t.Errorf("%d of %d requests came from the function's key", got, st.Totals.Requests)
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i] < rest[j] })
	sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
	t.Logf("%d/%d invocations ok in %v over %d environments; simulator: %d requests, %d throttled; first invocation (cold: emulator, extension and Node init) median %v; warm invocations median %v, max %v",
		ok, envs*perEnv, total.Round(time.Millisecond), envs, st.Totals.Requests, st.Totals.Throttled,
		firsts[len(firsts)/2].Round(time.Millisecond), rest[len(rest)/2].Round(time.Millisecond), rest[len(rest)-1].Round(time.Millisecond))
	var rec opSet
	rec.addSim(st)
	checkPolicy(t, policyFor(t, iampolicy.Extension, iampolicy.Options{Operations: []string{"StartOutboundVoiceContact", "ListQueues"}}), rec.list())
	for i, le := range lenvs {
		if strings.Contains(le.out.String(), "tollgate: invocation") {
			t.Errorf("environment %d logged a not-ok invocation:\n%s", i, le.out.String())
		}
	}
}
