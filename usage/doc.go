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
//   - ReadInstanceQuotas / ReadInstanceUse / BuildInstance: one
//     instance's concurrent active calls, chats and tasks (L-12AB7C57,
//     L-D4BA6F6E, L-60553137, codes from the quotas table; applied values
//     from GetServiceQuota with the instance ARN as ContextId) against the
//     contacts in progress, with the same 70%/80% markers.
//   - EMF: a governor observer writing CloudWatch Embedded Metric Format,
//     one JSON line per operation per minute.
//
// # Contacts in progress per instance
//
// GetCurrentMetricData has no metric that counts an instance's concurrent
// contacts. ReadInstanceUse adds two that count contacts (not agents), per
// channel (grouping CHANNEL), filtered on every queue of the instance
// (ListQueues, 100 queues a request as the API allows):
//
//   - SLOTS_ACTIVE: agent contact-handling slots holding a contact
//     (connected, on hold, in after-contact work, paused, or ringing
//     outbound), i.e. contacts with agents. AGENTS_ON_CONTACT was not
//     chosen because it counts agents: an agent with three chats is one.
//   - CONTACTS_IN_QUEUE: contacts waiting in those queues.
//
// Limits (the figure can read low or high):
//
//   - a contact still in a flow (IVR, no queue, no agent) — e.g. an
//     outbound campaign call before it is queued — is in neither metric,
//     so the count can be low; for voice, CloudWatch AWS/Connect
//     ConcurrentCalls (InstanceId, MetricGroup=VoiceCalls) is the only
//     instance-wide count and the better alarm source;
//   - a slot in after-contact work is counted although its call has ended,
//     so voice can read high by the contacts in ACW;
//   - with more than 100 queues the requests are summed, and an agent
//     serving queues of two requests is counted in both (high);
//   - GetCurrentMetricData is limited to 5 requests/s with a burst of 8,
//     per account, and cannot be raised: the command makes one request per
//     100 queues, through the Connect client given to NewClients (the CLI
//     puts it under a governor).
//
// Every AWS client is a real aws-sdk-go-v2 client; LoadConfig honours
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, and an explicit endpoint
// points every client at one place (e.g. tollgate sim).
package usage
