//go:build !unix

package sqlitestore

import "os"

// detectsGoneOwners: without flock(2) every owner counts as live.
const detectsGoneOwners = false

// lockFile cannot tell a live owner from a gone one here, so every owner
// counts as live and leases wait for their visibility timeout.
func lockFile(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	return f, true, nil
}
