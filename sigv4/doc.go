// Package sigv4 verifies AWS Signature Version 4 signatures on incoming HTTP
// requests, the way an AWS front door checks them. It is shared by the
// Connect simulator (package sim) and the gateway (package gateway), so both
// accept exactly the same requests.
//
// # What is checked
//
// Verify rebuilds the canonical request exactly as the SDKs build it (the
// aws-sdk-go-v2 signer, botocore and @smithy/signature-v4 agree for
// restJson1 services such as Amazon Connect):
//
//		METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
//
//	  - CanonicalURI: the path as received on the wire (already
//	    percent-encoded), percent-encoded once more; paths with ".", ".."
//	    or empty segments are refused rather than guessed at.
//	  - CanonicalQuery: every name and value decoded, re-encoded with the
//	    RFC 3986 unreserved set, and sorted by name and then by value, so
//	    repeated parameters (?queueTypes=STANDARD&queueTypes=AGENT) verify
//	    whatever order the client sent them in.
//	  - CanonicalHeaders: the client's own SignedHeaders list (which must
//	    include host and x-amz-date), values trimmed, runs of spaces
//	    collapsed, repeated headers joined with ",".
//	  - PayloadHash: X-Amz-Content-Sha256 when sent (it must match the body;
//	    UNSIGNED-PAYLOAD only when Options.AllowUnsignedPayload), else the
//	    SHA-256 of the body.
//
// Around the signature it checks the credential scope (its date equals
// X-Amz-Date's, its Region and service are the ones served, its terminator
// is aws4_request) and the clock window (Options.Window, default ±5
// minutes), and compares signatures in constant time.
//
// # Errors
//
// Every failure is an *Error carrying the AWS error code, HTTP status and
// message a restJson1 service answers with, and matching one sentinel with
// errors.Is: ErrMissing, ErrMalformed, ErrUnknownKey, ErrScope, ErrExpired
// or ErrMismatch. Messages never contain the secret or the expected
// signature.
//
// Time is a parameter: Verify takes now.
//
// The package imports only the standard library.
package sigv4
