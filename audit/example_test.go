package audit_test

import (
	"fmt"
	"os"

	"github.com/tollgatehq/tollgate/audit"
)

// A queue consumer that calls StartOutboundVoiceContact (2/s) twice per
// invocation with MaximumConcurrency 10 is sized far above its quota.
func ExampleCheck() {
	ten := int32(10)
	inv := &audit.Inventory{
		Region: "us-east-1", Account: "123456789012",
		Functions: []audit.Function{{
			Name: "dialer", ARN: "arn:aws:lambda:us-east-1:123456789012:function:dialer", Timeout: 20, Caller: true,
			Tags:     map[string]string{audit.TagOperations: "StartOutboundVoiceContact", audit.TagCallsPerInvocation: "2"},
			Mappings: []audit.Mapping{{UUID: "6f0e", SourceARN: "arn:aws:sqs:us-east-1:123456789012:dial", MaxConcurrency: &ten}},
		}},
		Queues: map[string]audit.Queue{"arn:aws:sqs:us-east-1:123456789012:dial": {
			ARN: "arn:aws:sqs:us-east-1:123456789012:dial", URL: "https://sqs.us-east-1.amazonaws.com/123456789012/dial", Name: "dial",
			VisibilityTimeout: 120, RedriveTarget: "arn:aws:sqs:us-east-1:123456789012:dial-dlq",
		}},
	}
	rep := audit.Check(inv, audit.Options{})
	for _, f := range rep.Findings {
		fmt.Println(f.Severity, f.Rule, f.Resource)
		fmt.Println("  found:", f.Evidence.Found)
		fmt.Println("  expected:", f.Evidence.Expected)
		fmt.Println("  fix:", f.Fix.CLI[0])
	}
	_ = audit.WritePlan(os.Stdout, &audit.Report{Region: "us-east-1"})
	// Output:
	// high ESM_OVERSIZED event-source-mapping:6f0e (dialer)
	//   found: 10 (10 × 2 call(s) = 20 calls/s)
	//   expected: ≤ 2 (StartOutboundVoiceContact allows 2/s)
	//   fix: aws lambda update-event-source-mapping --uuid 6f0e --scaling-config MaximumConcurrency=2 --region us-east-1
	// #!/bin/sh
	// # Fix plan written by tollgate audit for us-east-1.
	// # Review every command before running it: each changes the account.
	// # The audit itself changed nothing. Run: sh <this file>
	// set -eu
	//
	// # Nothing to fix.
}
