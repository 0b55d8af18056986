// Package servicequotas is the simulator's AWS Service Quotas endpoint for
// service code "connect": an http.Handler speaking awsJson1_1
// (X-Amz-Target: ServiceQuotasV20190624.<Op>) for GetServiceQuota,
// GetAWSDefaultServiceQuota, ListServiceQuotas, ListAWSDefaultServiceQuotas,
// RequestServiceQuotaIncrease, GetRequestedServiceQuotaChange,
// ListRequestedServiceQuotaChangeHistory and
// ListRequestedServiceQuotaChangeHistoryByQuota.
//
// Quotas come from the same quota table (package quotas) the simulator's
// Connect buckets are built from. An increase request moves PENDING →
// CASE_OPENED → APPROVED or DENIED on a schedule drawn from Options.Seed;
// the state is advanced lazily from the clock (Options.Now) on every
// request, so a test with a fake clock decides exactly when AWS "answers".
// An approval changes the applied value and calls Options.OnApprove, which
// the simulator uses to raise its own bucket.
//
// The package does not import package sim; sim mounts it.
package servicequotas
