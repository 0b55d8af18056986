package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestNoTestCodeInBinary: nothing under internal/testenv and no package
// testing is linked into the binary (`go list -deps ./cmd/tollgate`).
func TestNoTestCodeInBinary(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" || strings.Contains(pkg, "/internal/testenv") {
			t.Errorf("the binary links %s", pkg)
		}
	}
}
