// Package uuid formats 16 bytes as a canonical UUID string and stamps the
// version-4 bits. It is a standard-library-only leaf shared by the queue
// (job IDs, idempotency tokens), the simulator (seeded resource IDs) and the
// triage generator (seeded request IDs), each of which brings its own
// randomness.
package uuid
