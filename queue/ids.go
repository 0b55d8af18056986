package queue

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
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
	return formatUUID(u)
}

// NewToken returns a random UUIDv4, the form the AWS SDKs use for
// ClientToken.
func NewToken() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return formatUUID(u)
}

func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
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
