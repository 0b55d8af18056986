// Package server is the front end of `tollgate serve`: the JSON HTTP API in
// front of the durable queue and the dispatcher, with bearer-token
// authentication, Prometheus metrics and graceful shutdown. The process
// behind it (AWS configuration, quotas, queue, limiter, governor,
// dispatcher) is built by internal/app; New attaches the server's metrics to
// it. The wire format is internal/api and the Go client internal/client.
//
// Routes (all but /healthz need "Authorization: Bearer <token>"):
//
//	POST /v1/jobs           submit one or many jobs: a JSON object, a JSON array, or JSON Lines;
//	                        every job is validated before any is stored (all or nothing)
//	GET  /v1/jobs/{id}      one job and its status
//	POST /v1/jobs/{id}/cancel  cancel a job that has not started (409 when in flight or ended)
//	POST /v1/jobs/purge     delete waiting jobs: {"status":"queued|delayed","before":"RFC 3339"}
//	POST /v1/jobs/lookup    the status of many jobs: {"ids":[…]} (at most 1000)
//	GET  /v1/stats          queue and dispatcher statistics (and "pools" with quota pools)
//	GET  /v1/ops            the operations a job may name
//	GET  /v1/dlq            dead letters, oldest first (?reason=&limit=&after=)
//	GET  /v1/dlq/{id}       one dead letter
//	POST /v1/dlq/redrive    move dead letters back: {"ids":[…]} or {"all":true,"reason":"…"}
//	GET  /metrics           Prometheus metrics
//	GET  /v1/metrics        every poll query's latest value (the poller's cache; never calls Connect)
//	GET  /v1/metrics/{name} one query: value, numbers, fetched_at, age, next_refresh, stale, history
//	GET  /v1/events         Server-Sent Events: "metric" (each new value) and "state" (every second)
//	GET  /v1/state          Tollgate's own live state (per operation calls/s against the quota, queue, Redis mode)
//	GET  /                  the dashboard (the login form without a session)
//	POST /login, /logout    the dashboard's session: the token in a form body, an HttpOnly cookie back
//	GET  /healthz           health, no authentication: 200 {"status":"ok"} while the queue answers
//	                        (the embedded store: no corruption found, last write succeeded);
//	                        503 {"status":"unhealthy","error":…} otherwise
//
// The dashboard's session cookie authenticates GET requests only; every
// write needs the bearer token.
//
// Errors are JSON, {"error":{"code":…,"message":…,"index":…,"field":…}},
// with a 4xx status that names the problem: 400 for malformed or invalid
// jobs (the message names the job's index, line and field), 401 for a
// missing or wrong token, 404, 405, 409 for a job id already stored with
// other work or a client_token another job holds (nothing of the
// submission is stored), 413 for a body over the cap, 503 when the queue
// failed — with "partially_stored" and every job's result when it stored
// only some (SQS). The full reference is the OpenAPI document
// internal/api/openapi.yaml, checked against these handlers by the tests.
//
// A job submitted with an id and no client_token gets a token derived from
// limits.account, its InstanceId and the id (queue.DeriveToken), so a
// repeated submission, or a message SQS delivers twice, starts at most one
// contact.
//
// With quota pools (the pools section) jobs are checked with the
// dispatcher's pool-aware check (InstanceId may be left out, logical names
// such as "outbound-sales" are accepted when every pool maps them);
// GET /v1/stats, the dashboard's state and /metrics report each pool:
// tollgate_pool_healthy{pool} (0 while the pool is out of rotation: the
// alarm), tollgate_pool_delivered_total, tollgate_pool_throttled_total,
// tollgate_pool_failed_total, tollgate_pool_in_flight,
// tollgate_pool_calls_in_progress and, from each pool's governor,
// tollgate_pool_attempts_total{pool,class}.
//
// Transport: the API binds 127.0.0.1 by default. With tls_cert and tls_key
// (--tls-cert, --tls-key) it serves HTTPS only. A listen address that is
// not loopback without TLS is refused at start unless insecure_listen
// (--insecure-listen) says the cleartext token is accepted, e.g. behind a
// TLS-terminating proxy.
//
// The token comes from the configuration (or TOLLGATE_TOKEN) or is
// generated on first start into <data dir>/token with owner-only
// permissions. It is compared in constant time and never logged.
//
// Shutdown (the context of Run ending, e.g. SIGTERM): the listener closes
// and requests in progress finish, the dispatcher stops leasing and lets
// calls in flight finish for the grace period, then releases the rest to
// the queue, and the queue is closed.
package server
