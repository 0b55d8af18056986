package iampolicy_test

import (
	"fmt"
	"os"

	"github.com/tollgatehq/tollgate/internal/iampolicy"
)

// The extension's policy for a function that places calls and lists
// queues, scoped to one instance.
func ExampleFor() {
	p, err := iampolicy.For(iampolicy.Extension, iampolicy.Options{
		InstanceARN: "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555",
		Operations:  []string{"StartOutboundVoiceContact", "ListQueues"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(p.JSON())
	// Output:
	// {
	//   "Version": "2012-10-17",
	//   "Statement": [
	//     {
	//       "Sid": "TollgateExtensionConnect",
	//       "Effect": "Allow",
	//       "Action": [
	//         "connect:ListQueues",
	//         "connect:StartOutboundVoiceContact"
	//       ],
	//       "Resource": [
	//         "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555",
	//         "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555/*"
	//       ]
	//     }
	//   ]
	// }
}
