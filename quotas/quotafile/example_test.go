package quotafile_test

import (
	"fmt"
	"strings"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/quotas/quotafile"
)

func ExampleParse() {
	const file = `overrides:
  - op: StartOutboundVoiceContact
    rate: 10
    burst: 20
resources:
  - name: concurrent-active-calls
    value: 50
`
	ovs, err := quotafile.Parse(strings.NewReader(file), "quotas.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	t := quotas.Default()
	if err := t.Apply(ovs, "123456789012", "us-east-1"); err != nil {
		fmt.Println(err)
		return
	}
	a, _ := t.API("StartOutboundVoiceContact")
	r, _ := t.Resource(quotas.ConcurrentActiveCalls)
	fmt.Println(a.Rate, a.Burst, r.Default)

	_, err = quotafile.Parse(strings.NewReader("overrides:\n  - op: ListUsers\n    rate: 0\n"), "quotas.yaml")
	fmt.Println(err)
	// Output:
	// 10 20 50
	// quotas.yaml:3: overrides[0].rate: must be > 0, got 0
}
