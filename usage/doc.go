// Package usage watches Amazon Connect's API usage against its service
// quotas and does the paperwork.
//
//   - ReadQuotas: the applied and default values of the connect rate
//     quotas, from Service Quotas (ListServiceQuotas and
//     ListAWSDefaultServiceQuotas), matched to operations by their usage
//     metric.
//   - ReadUsage: per-operation CallCount from CloudWatch AWS/Usage
//     (Service=Connect, Type=API, Resource=<op>, Class=None, Sum per
//     minute), optionally combined with Tollgate's own per-second peaks
//     (SecondPeaks, a governor observer), since a one-minute sum hides the
//     bursts that throttle.
//   - BuildStatus: usage against quota with the 70% (warn) and 80% (alarm)
//     markers.
//   - PlanAlarms / ApplyAlarms: CloudWatch alarms on
//     m1/PERIOD(m1)/SERVICE_QUOTA(m1)*100 for the operations in use;
//     only alarms named with the prefix are ever changed.
//   - DraftRequest / Submit / RequestStatus: a quota-increase request
//     justified from measured data, submitted only when asked, and tracked
//     in business days.
//   - Sync: refreshes applied values from Service Quotas on an interval and
//     sets the limiter's rates, so an approved increase takes effect
//     without a restart.
//   - EMF: a governor observer writing CloudWatch Embedded Metric Format,
//     one JSON line per operation per minute.
//
// Every AWS client is a real aws-sdk-go-v2 client; LoadConfig honours
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, and an explicit endpoint
// points every client at one place (e.g. tollgate sim).
package usage
