package sqlitestore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
)

// Lease owners. Every Store takes an owner ID when it opens and records it
// on each lease it takes; it holds an exclusive lock (flock(2)) on the file
// <db>-owner-<id>.lock while it is open. The kernel drops that lock when the
// process exits in any way, kill -9 included. At Open a store releases the
// leases of every owner whose lock it can take — a process that is gone — so
// their jobs run again at once instead of after their visibility timeout.
// Leases of a live owner (another process on the same file) are left alone.

func newOwnerID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func ownerLockPath(db, owner string) string { return db + "-owner-" + owner + ".lock" }

// takeOwnership locks this store's owner file.
func (s *Store) takeOwnership() error {
	f, ok, err := lockFile(ownerLockPath(s.path, s.owner))
	if err != nil {
		return err
	}
	if !ok {
		s.owner = newOwnerID() // astronomically unlikely; try another ID
		return s.takeOwnership()
	}
	s.ownerLock = f
	return nil
}

// releaseOwnership unlocks and removes this store's owner file.
func (s *Store) releaseOwnership() {
	if s.ownerLock != nil {
		_ = os.Remove(s.ownerLock.Name())
		_ = s.ownerLock.Close()
		s.ownerLock = nil
	}
}

// recoverLeases releases the leases of owners that are gone and returns
// how many leases it released. It runs in Open, before the writer starts.
func (s *Store) recoverLeases(ctx context.Context) (int64, error) {
	if !detectsGoneOwners {
		return 0, nil
	}
	rows, err := s.wconn.QueryContext(ctx, `SELECT DISTINCT owner FROM jobs WHERE state = 0 AND lease IS NOT NULL AND owner <> ''`)
	if err != nil {
		return 0, err
	}
	var owners []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			rows.Close()
			return 0, err
		}
		owners = append(owners, o)
	}
	rows.Close()
	// Lock files of owners with no lease left (an owner closed or killed
	// between leases) are removed on the way.
	matches, _ := filepath.Glob(s.path + "-owner-*.lock")
	for _, m := range matches {
		o := strings.TrimSuffix(strings.TrimPrefix(m, s.path+"-owner-"), ".lock")
		if o != s.owner && !contains(owners, o) {
			if f, ok, err := lockFile(m); err == nil && ok {
				_ = os.Remove(m)
				f.Close()
			}
		}
	}
	var total int64
	now := s.o.Now().UnixNano()
	for _, o := range owners {
		if o == s.owner {
			continue
		}
		f, gone, err := lockFile(ownerLockPath(s.path, o))
		if err != nil {
			return total, err
		}
		if !gone {
			continue // a live process holds it
		}
		res, err := s.x.release.ExecContext(ctx, now, o)
		if err != nil {
			f.Close()
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
		_ = os.Remove(f.Name())
		f.Close()
	}
	return total, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
