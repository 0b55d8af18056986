// Package iampolicy builds the least-privilege IAM policy each tollgate
// command needs from the operations its code calls: the dispatcher's job
// table (dispatch.Ops), the gateway's routes (gateway.Operations), the
// audit's call list (collect.Calls), the client interfaces of package usage
// and of the SQS queue adapter, and, for serve, the operations its
// configuration names (poll queries, the queue backend, quota sync).
//
// Connect actions whose request names an instance are scoped to that
// instance and everything inside it when an instance ARN is given; every
// other action is granted on "*" and says why. Each grant carries its
// source, so the policy can be read as a list of reasons.
package iampolicy
