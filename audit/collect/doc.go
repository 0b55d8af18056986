// Package collect reads the parts of an AWS account that package audit
// checks (Lambda functions and their roles, event source mappings, SQS
// queues, async invoke configurations, EventBridge rules, Scheduler
// schedules, Connect instance attributes and CloudTrail trails) through
// aws-sdk-go-v2 clients, every call admitted by a governor.Governor with
// the control-plane quotas of its service (ControlPlane).
//
// Everything is paginated and read with bounded concurrency
// (Options.Concurrency). A refused permission (AccessDenied) on one service
// becomes an audit.Gap naming the IAM action, and the rest is still read;
// a failure to reach AWS at all (unknown Region, no network, no
// credentials) is an error. ReadOnlyPolicy is the IAM policy that grants
// every call made here.
//
// The package is an adapter: it wraps the AWS SDK for package audit.
package collect
