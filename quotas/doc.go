// Package quotas is the Amazon Connect quota table: the per-operation API rate
// quotas (steady rate and burst, per account and Region), the account and
// instance resource quotas (instances, concurrent calls, chats, tasks, users,
// phone numbers, queues, …), their Service Quotas codes, and whether AWS will
// raise them.
//
// The same table seeds the client-side buckets (package ratelimit), the
// simulator's server-side buckets (package sim) and the log analysis (package
// triage), so an override changes all of them at once.
//
// Sources are listed in the repository's shared reference (connect-api.md §5):
// the 2023 admin-guide table (GetMetricData and GetCurrentMetricData 5/s burst
// 8; StartChatContact 5/8; everything else 2/5) and the Service Quotas dump
// for the newer per-operation steady rates. Where AWS publishes no burst, the
// table uses the older rule's burst for 2/s operations and burst = rate for
// faster ones, and marks the entry BurstVerified=false.
//
// Overrides change the table for one deployment: (*Table).Apply takes
// []Override (an operation's rate, burst or code, or a resource quota's
// value), each optionally limited to one account and/or Region, validates
// them all (errors name the entry and the field, as *FieldError) and applies
// the matching ones, most specific last. Package quotafile reads them from
// YAML.
//
// The package imports only the standard library.
package quotas
