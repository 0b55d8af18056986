// Package audit checks an account's Lambda, SQS, EventBridge, Scheduler,
// Connect and CloudTrail set-up against the throttling checklist: the
// architecture that keeps callers of Amazon Connect inside their API quotas
// and loses no work when they are throttled.
//
// The package is pure: Check takes an Inventory (what package
// audit/collect read from the account through the AWS SDK and the governor)
// and returns a Report of Findings, each with a rule id, a severity, a
// one-sentence reason, the evidence (value found against value expected)
// and the fix as exact aws CLI commands plus the CloudFormation and
// Terraform property to set. Render writes a report as text (worst first),
// JSON (for CI) or Markdown (for a ticket); WritePlan writes the fixes as a
// shell script to review and run. Audit never changes the account.
//
// # Which functions are checked
//
// A Lambda function is a Connect caller when its execution role may call a
// Connect operation (ConnectOps resolves inline and attached policy
// documents, wildcards included, against the quota table's operations) or
// when it carries the opt-in tag TagOptIn. Sizing rules read two more tags
// when present: TagOperations (the Connect operations the function calls)
// and TagCallsPerInvocation; otherwise they assume what Assumptions says and
// print the assumption with the finding.
//
// The package imports only the standard library and the core package
// quotas.
package audit
