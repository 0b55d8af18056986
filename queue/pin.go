package queue

import "context"

// MaxPoolLen caps Job.Pool.
const MaxPoolLen = 64

// Pinner is implemented by the backends that keep a job's pool durably
// (Memory and sqlitestore) and is checked by queuetest. The dispatcher pins
// a job to a pool before it first sends the job's call there, and unpins
// it only when the answer shows the call was not made (a throttle,
// refused credentials, a request never sent): from then on every lease
// returns the job with Pool set, across requeues, lease expiries,
// restarts (a kill -9 mid-call included) and Redrive, so a retry reaches
// the one account that deduplicates its ClientToken. The SQS
// backend does not implement it (its in-process index cannot keep a pin
// across processes), so pools cannot run on it.
type Pinner interface {
	// Pin sets the job's Pool, whatever its status; a lease held on the job
	// stays valid. An empty pool removes the pin. It fails with ErrNotFound
	// for an unknown job and with ErrInvalidArgument for a malformed pool
	// name.
	Pin(ctx context.Context, id, pool string) error
}

// CheckPool validates a pool name: empty (no pin) or 1–MaxPoolLen
// characters of [a-z0-9-].
func CheckPool(pool string) error {
	if len(pool) > MaxPoolLen {
		return &ArgError{Arg: "pool", Problem: "is longer than 64 characters"}
	}
	for i := 0; i < len(pool); i++ {
		c := pool[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return &ArgError{Arg: "pool", Problem: "must be characters of a-z 0-9 -"}
		}
	}
	return nil
}
