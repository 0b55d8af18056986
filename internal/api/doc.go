// Package api is the wire format of tollgate serve's HTTP API: the JSON
// bodies of its requests and answers, shared by the server
// (internal/server) and its Go client (internal/client), so that neither
// imports the other. The routes are listed in internal/server's package
// documentation.
package api
