// Package audittest builds AWS accounts for testing tollgate audit: a
// moto_server for Lambda, IAM, SQS, EventBridge, Scheduler, CloudTrail and
// STS, and a tollgate sim for Connect's instance attributes (moto does not
// serve them), seeded through the real aws-sdk-go-v2 clients.
//
// Env points the SDK's own AWS_ENDPOINT_URL (moto) and
// AWS_ENDPOINT_URL_CONNECT (the simulator) at them, so code under test
// loads its configuration the way it does against AWS.
package audittest
