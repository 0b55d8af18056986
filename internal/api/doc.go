// Package api is the wire format of tollgate serve's HTTP API: the JSON
// bodies of its requests and answers, shared by the server
// (internal/server) and its Go client (internal/client), so that neither
// imports the other. The routes are listed in internal/server's package
// documentation; the full reference (every route, body, status code and
// error) is the OpenAPI document openapi.yaml beside this file (OpenAPI),
// which internal/server's tests check against the handlers.
package api
