// Package redis starts a real redis-server for tests: its own process on a
// free loopback port, with no persistence, killed when the test ends. It is
// package internal/redisproc (the project's one launcher) with the
// testing.TB plumbing; nothing in the tollgate binary imports it.
//
// The binary is found on PATH (exec.LookPath("redis-server")); when it is
// missing the test fails if the environment variable CI is "true" and is
// skipped otherwise (the project's test script installs Debian's
// redis-server package).
//
// A server can require a password (Options.Password) and can listen with
// TLS (Options.TLS). Kill and Restart stop and start the process on the
// same port, and Pause and Resume freeze it, for failure tests.
package redis
