// Package redis starts a real redis-server for tests, and for the bench:
// its own process on a free loopback port, with no persistence.
//
// Start is for tests: the server is killed when the test ends. The binary
// is found on PATH (exec.LookPath("redis-server")); when it is missing the
// test fails if the environment variable CI is "true" and is skipped
// otherwise (the project's test script installs Debian's redis-server
// package). Launch starts one outside a test; its caller closes it.
//
// A server can require a password (Options.Password) and can listen with
// TLS (Options.TLS), using a throwaway certificate authority and server
// certificate generated with crypto/x509. Kill and Restart stop and start
// the process on the same port, and Pause and Resume freeze it, for
// failure tests.
package redis
