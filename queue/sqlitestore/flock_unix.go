//go:build unix

package sqlitestore

import (
	"errors"
	"os"
	"syscall"
)

// detectsGoneOwners: flock(2) tells a gone owner from a live one.
const detectsGoneOwners = true

// lockFile opens (creating) path and tries to lock it exclusively without
// waiting. ok is false when another open file holds the lock; then f is nil.
func lockFile(path string) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return f, true, nil
}
