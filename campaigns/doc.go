// Package campaigns is the adapter for Amazon Connect Outbound Campaigns
// (service connect-campaigns): a client for PutDialRequestBatch, the one
// Outbound Campaigns operation Tollgate calls.
//
// The Go module proxy serves no generated aws-sdk-go-v2 client for Outbound
// Campaigns (neither service/connectcampaigns nor service/connectcampaignsv2),
// so Client speaks the operation's restJson1 binding itself and signs with
// the SDK's own SigV4 signer (aws/signer/v4) using the aws.Config's
// credentials, Region and HTTP client. Error responses are parsed with
// awserr.ParseResponse, so a caller's awserr.Classify sees code, status,
// request id and x-amz-retry-after. The client does not retry: the caller's
// governor does.
package campaigns
