package cli

import (
	"os"
	"testing"
)

// reexecEnv makes the test binary run the CLI instead of the tests, so a
// test can start `tollgate serve` as a real child process (and kill it)
// without building the binary.
const reexecEnv = "TOLLGATE_TEST_REEXEC_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(reexecEnv) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
