// Package contactevents reads and writes Amazon Connect contact events
// (EventBridge detail-type "Amazon Connect Contact Event", source
// aws.connect) carried by Amazon SQS: the route by which a dialer learns
// that its calls ended.
//
// In AWS an EventBridge rule on the account's default bus, matching
//
//	{"source": ["aws.connect"], "detail-type": ["Amazon Connect Contact Event"]}
//
// with the SQS queue as its target (no input transformer), delivers each
// event's whole JSON envelope as a message body. Consumer long-polls that
// queue, decodes each body with Parse and hands the events to a callback,
// then deletes the messages. Publisher is the other end: it sends events
// the way that rule does, and is what `tollgate sim` uses to publish the
// events of its simulated calls.
//
// The pipeline is lossy, duplicating and unordered (EventBridge delivers
// best effort; a standard queue delivers at least once, out of order), so
// consumers must treat ends as idempotent and keep a fallback (DescribeContact,
// a maximum call duration). Parse accepts the casing variants of AWS's own
// samples (JSON keys match case-insensitively; enum values are compared with
// strings.EqualFold) and treats timestamps before 2000 as unset.
package contactevents
