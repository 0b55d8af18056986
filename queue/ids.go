package queue

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"time"

	"github.com/tollgatehq/tollgate/internal/uuid"
)

// NewID returns a UUIDv7 for now: random, yet sorting by creation time.
func NewID(now time.Time) string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	ms := uint64(now.UnixMilli())
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(u[0:6], ts[2:8])
	u[6] = u[6]&0x0f | 0x70
	u[8] = u[8]&0x3f | 0x80
	return uuid.Format(u)
}

// NewToken returns a random UUIDv4, the form the AWS SDKs use for
// ClientToken.
func NewToken() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	return uuid.V4(u)
}

// MakeReceipt joins a job ID and a backend's lease handle into a receipt.
// Job IDs never contain '/', so the first '/' separates them.
func MakeReceipt(id, handle string) string { return id + "/" + handle }

// SplitReceipt undoes MakeReceipt. ok is false for a malformed receipt.
func SplitReceipt(r string) (id, handle string, ok bool) {
	id, handle, ok = strings.Cut(r, "/")
	if !ok || !validID(id) || handle == "" {
		return "", "", false
	}
	return id, handle, true
}
