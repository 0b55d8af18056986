package stagger

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// TestJSModuleAgainstService runs the desktop module (js/stagger-start) in
// Node against this package's reservation handler: the third login in line
// gets the bucket's delay; with the service gone the module waits for the
// same fallback slot as SlotDelay.
func TestJSModuleAgainstService(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is required (CI=true)")
		}
		t.Skip("node not on PATH")
	}
	mod, _ := filepath.Abs("../js/stagger-start/index.js")
	svc, err := NewService(ServiceOptions{Token: "desktop-token-0123456789", Limit: ratelimit.Limit{Rate: 10, Burst: 2}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	url := srv.URL + "/v1/stagger/reserve"
	run := func(login, url, token string, timeoutMs int) map[string]any {
		t.Helper()
		script := `import { staggerStart } from ` + jsString("file://"+mod) + `;
const r = await staggerStart(process.argv[1], { reserveUrl: process.argv[2], token: process.argv[3], windowMs: 600, slotMs: 10, timeoutMs: Number(process.argv[4]) });
console.log(JSON.stringify(r));`
		out, err := exec.Command(node, "--input-type=module", "-e", script, login, url, token, strconv.Itoa(timeoutMs)).CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		var r map[string]any
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return r
	}
	for _, l := range []string{"x", "y"} {
		if _, _, err := svc.Reservations().Reserve(time.Now(), l); err != nil {
			t.Fatal(err)
		}
	}
	// Third in line at 10/s with a burst of 2: at most 100 ms from now
	// (less by the time Node takes to start).
	r := run("agent-0001", url, "desktop-token-0123456789", 10000)
	if d, _ := r["delayMs"].(float64); r["source"] != "reserve" || d < 0 || d > 100 {
		t.Errorf("with serve up: %v, want a reservation of at most 100 ms", r)
	}
	wantSlot := float64(SlotDelay("foobar", "", 600*time.Millisecond, 10*time.Millisecond).Milliseconds())
	if r := run("foobar", url, "wrong-token-0123456789", 10000); r["source"] != "fallback" || r["delayMs"] != wantSlot {
		t.Errorf("wrong token: %v, want the fallback slot %v ms", r, wantSlot)
	}
	srv.Close()
	if r := run("foobar", url, "desktop-token-0123456789", 10000); r["source"] != "fallback" || r["delayMs"] != wantSlot {
		t.Errorf("serve down: %v, want the fallback slot %v ms", r, wantSlot)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return strings.ReplaceAll(string(b), "'", `\'`)
}
