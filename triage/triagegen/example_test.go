package triagegen_test

import (
	"fmt"
	"os"

	"github.com/tollgatehq/tollgate/triage/triagegen"
)

// ExampleGenerate writes a provisioning data set and prints what a correct
// diagnosis must report.
func ExampleGenerate() {
	dir, err := os.MkdirTemp("", "trail")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	res, err := triagegen.Generate(dir, triagegen.GenerateOptions{Cause: "provisioning", Seed: 1, Background: -1})
	if err != nil {
		panic(err)
	}
	for _, e := range res.Expect {
		fmt.Println(e.Operation, e.Cause, e.Class)
	}
	// Output:
	// ClaimPhoneNumber provisioning hard-quota
	// CreateUser provisioning rate-throttle
}
