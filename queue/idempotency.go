package queue

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tollgatehq/tollgate/internal/uuid"
)

// ErrConflict: a job repeats a known ID with a different op, input or
// client token, or carries a client token another job already uses. See
// *ConflictError. Nothing of the batch is stored.
var ErrConflict = errors.New("queue: conflict")

// ConflictError names the job of an Enqueue batch that conflicts, and what
// it conflicts with.
type ConflictError struct {
	Index int    // position in the batch
	ID    string // the job's ID
	// Field is "ID" when the ID is already stored with a different op, input
	// or token, and "ClientToken" when the token belongs to another job.
	Field string
	// Other is the ID of the job already holding the token (Field
	// "ClientToken").
	Other string
}

func (e *ConflictError) Error() string {
	if e.Field == "ClientToken" {
		return fmt.Sprintf("queue: job %d (id %q): its client_token is already used by job %q; a client token names one call", e.Index, e.ID, e.Other)
	}
	return fmt.Sprintf("queue: job %d: id %q is already stored with a different op, input or client_token; submit new work under a new id", e.Index, e.ID)
}

// Is reports ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// DeriveToken returns the ClientToken of a job whose caller gave it an ID:
// a UUID-shaped SHA-256 of the account, the Connect instance and the ID, so
// the same job submitted twice, or delivered twice by a queue that cannot
// deduplicate (SQS standard queues), carries the same token and Connect
// starts at most one contact for it. account and instance may be empty.
func DeriveToken(account, instance, id string) string {
	h := sha256.New()
	for _, s := range []string{"tollgate-job-token-v1", account, instance, id} {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x80 // version 8: application-defined (RFC 9562)
	u[8] = u[8]&0x3f | 0x80
	return uuid.Format(u)
}

// InstanceOf returns the InstanceId member of a job's input (the Connect
// operations' name for it), or "" when there is none.
func InstanceOf(input json.RawMessage) string {
	if len(bytes.TrimSpace(input)) == 0 {
		return ""
	}
	var v struct {
		InstanceID string `json:"InstanceId"`
	}
	if json.Unmarshal(input, &v) != nil {
		return ""
	}
	return v.InstanceID
}

// Digest fingerprints what a job does — its Op, Input (whitespace removed)
// and ClientToken — so a backend can tell a repeated submission of the same
// job (idempotent) from different work under a known ID (a conflict).
func Digest(j Job) string {
	h := sha256.New()
	in := j.Input
	var buf bytes.Buffer
	if len(in) > 0 && json.Compact(&buf, in) == nil {
		in = buf.Bytes()
	}
	fmt.Fprintf(h, "%d:%s;%d:%s;", len(j.Op), j.Op, len(j.ClientToken), j.ClientToken)
	h.Write(in)
	return hex.EncodeToString(h.Sum(nil)[:16])
}
