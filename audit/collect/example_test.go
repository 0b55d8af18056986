package collect_test

import (
	"fmt"
	"strings"

	"github.com/tollgatehq/tollgate/audit/collect"
)

// The read-only policy lists every action the audit calls, and only reads.
func ExampleReadOnlyPolicy() {
	p := collect.ReadOnlyPolicy()
	fmt.Println(strings.Contains(p, `"iam:GetAccountAuthorizationDetails"`), strings.Contains(p, `"connect:DescribeInstanceAttribute"`))
	fmt.Println(collect.Action("lambda-get", "GetPolicy"), collect.Action("eventbridge", "ListRules"))
	// Output:
	// true true
	// lambda:GetPolicy events:ListRules
}
