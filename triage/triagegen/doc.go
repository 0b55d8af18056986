// Package triagegen writes test data for package triage: seeded,
// deterministic CloudTrail data sets in the S3 layout for each cause triage
// diagnoses (spike, provisioning, polling, synchronized-start, retry-storm)
// and a mixed one. Realistic callers (the SDKs' retry policies, Lambdas,
// agent desktops, Terraform) are simulated against Connect's token buckets
// (ratelimit.Bucket seeded from the quota table) and concurrency and
// resource quotas, so every error in the data is one the real service would
// have sent. GenerateResult.Expect says what a correct diagnosis reports.
//
// `tollgate triage generate` is its command-line front end.
package triagegen
