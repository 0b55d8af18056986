// Package triage reads Amazon Connect API activity from CloudTrail and
// CloudWatch Logs and says which API is throttled, in which class, which
// callers drained the bucket, why, and what to change.
//
// # Inputs
//
// Analyze reads any mix of:
//   - CloudTrail log files in the S3 layout
//     (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz), each a
//     gzip or plain JSON object {"Records":[…]};
//   - CloudTrail records one per line, EventBridge "AWS API Call via
//     CloudTrail" events and `aws cloudtrail lookup-events` output;
//   - CloudWatch Logs export objects (gzip, one "<timestamp> <message>" event
//     per line) and `aws logs filter-log-events` JSON output, whose messages
//     are CloudTrail records or Lambda log lines holding AWS SDK errors in
//     the JavaScript, Python (boto3) or Go SDK shapes (ParseSDKError);
//   - standard input, in any of the forms above.
//
// Files are read in parallel, each as a stream: memory is bounded by the
// number of operations, callers and seconds seen, never by the number of
// records. A corrupt gzip stream, truncated JSON or JSON that is not
// CloudTrail is reported as a Problem naming the file and the byte offset or
// line; everything else is still analysed and Report.Partial says so.
//
// # Analysis
//
// Errors are classified with awserr.ClassifyCode and compared with the rate
// quotas of quotas.Table, the same classification and quotas the runtime
// uses. For every operation the report has calls and errors per second and
// per minute, errors by class and code, and the peak 1-second and 1-minute
// rates against the quota. Every throttled operation becomes a Finding with
// its top callers (principal, role session, user agent, source IP; by calls
// and by throttles) and a cause:
//
//   - provisioning: the throttled operation is a provisioning action
//     (CreateUser, ClaimPhoneNumber, …) or a resource quota ran out;
//   - polling: one caller polls a metrics API at sub-second intervals;
//   - retry-storm: one caller repeats refused requests (the same
//     ClientToken, or the same parameters) more often than any SDK would or
//     at sub-backoff spacing (mean gap under 0.1 s);
//   - synchronized-start: many distinct sessions call the same read API
//     within seconds (shift change, VDI restart);
//   - spike: throttles coincide with call-rate peaks above the usual level;
//   - sustained-overload: the usual level itself stays above the quota
//     for minutes (a queue only delays it);
//
// with the evidence and a fix tied to Tollgate (serve's metrics poller,
// `tollgate serve` queue, `tollgate stagger plan`, governed retries, a
// drafted quota increase request that counts distinct requests, not
// retries, and states what the data shows about them).
//
// # Output
//
// Render writes a Report as text (diagnosis first), JSON, Markdown or a
// self-contained HTML page with inline SVG charts.
//
// # Test data
//
// Test data generators live in the subpackage triagegen, so that the
// analysis stays free of them.
package triage
