// Package demo is `tollgate demo`: a dialer campaign through the durable,
// rate-paced queue, against the simulator, on any machine, with no AWS
// account, in well under a minute.
//
// It starts the simulator in-process on a loopback port with the published
// quotas scaled (default ×10, so StartOutboundVoiceContact allows 20
// calls/s with a burst of 50), runs `tollgate serve` on the embedded store
// in a temporary directory, and submits a campaign through the HTTP API:
// several hundred outbound calls, some to numbers the simulator refuses
// (they end as "client-fault" dead letters, DestinationNotAllowedException)
// and some, at low priority, with a deadline that passes before their turn
// (they end as "expired" dead letters instead of calling a customer late).
// Meanwhile a dashboard polls GetCurrentMetricData through the same
// governor. A progress bar (or, off a terminal, periodic lines) shows the
// campaign; the summary gives the calls placed, the throttles met (from the
// simulator's own statistics), the time against the theoretical minimum
// (N − burst)/rate, the dead letters with their reasons, and
// duplicate_client_tokens.
package demo
