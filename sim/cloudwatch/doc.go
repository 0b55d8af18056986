// Package cloudwatch is the simulator's CloudWatch subset in the protocol
// current aws-sdk-go-v2 service/cloudwatch speaks (Smithy RPC v2 CBOR:
// POST /service/GraniteServiceVersion20100801/operation/<Op> with
// Smithy-Protocol: rpc-v2-cbor): GetMetricData, PutMetricAlarm,
// DescribeAlarms and DeleteAlarms.
//
// The only metrics are AWS/Usage CallCount{Service=Connect, Type=API,
// Resource=<operation>, Class=None}, summed from the calls the simulator
// really accepted (Backend.CallCounts). Metric math covers + - * /,
// parentheses, numbers, query ids, PERIOD(id) and SERVICE_QUOTA(id); the
// latter is the applied Service Quotas value of the quota whose usage
// metric is the query's metric (Backend.Quota), and fails for any other
// metric. Alarms are evaluated lazily against the same data when they are
// described.
//
// CBOR is decoded and encoded with github.com/fxamacker/cbor/v2: the
// client sends indefinite-length maps and tag-1 float timestamps, which it
// decodes into tagged structs directly.
//
// The package does not import package sim; sim mounts it.
package cloudwatch
