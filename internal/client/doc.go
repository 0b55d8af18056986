// Package client is the Go client of tollgate serve's HTTP API: submit
// jobs, read one job and the statistics, list, inspect and redrive dead
// letters. `tollgate queue` and `tollgate demo` use it. The bodies are the
// types of internal/api; an error answer comes back as an *APIError with
// the server's code, message and, for a refused submission, the job's
// index, line and field.
//
// It is internal: its only callers are in this module, and keeping it out
// of the public API leaves the wire format free to change with the server.
package client
