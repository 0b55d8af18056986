// Package redisproc runs a real redis-server as a child process: its own
// process on a free loopback port, with no persistence. It is the one
// launcher of the project: `tollgate bench` starts one when it is given no
// Redis URL, and the tests start theirs through internal/testenv/redis,
// which adds the testing.TB plumbing on top of this package (so nothing of
// package testing reaches the binary).
//
// The binary is found on PATH (exec.LookPath("redis-server")); ErrNotFound
// says so when it is missing. A server can require a password
// (Options.Password) and can listen with TLS (Options.TLS), using a
// throwaway certificate authority and server certificate generated with
// crypto/x509. Kill and Relaunch stop and start the process on the same
// port, and Pause and Resume freeze it, for failure tests. On Linux the
// server dies with the process that started it.
package redisproc
