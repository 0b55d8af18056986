package sqlitestore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
)

// ErrLost: the database file a store was created with is missing, empty or
// replaced, so the jobs it held are gone. See *LostError.
var ErrLost = errors.New("sqlitestore: the queue's database was lost")

// ErrUnhealthy: the database failed in a way that will not heal by itself
// (corruption, or an I/O error on the last write). See Store.Health.
var ErrUnhealthy = errors.New("sqlitestore: the queue's database is unhealthy")

// MarkerSuffix names the sidecar file beside the database (queue.db-id).
//
// How a fresh store is told from a lost one: Open writes the marker, holding
// the store's random ID, once the database's schema is committed, and the
// same ID in the database's meta table. From then on:
//   - no marker: a fresh store (the database is created, or adopted and
//     marked if it already holds the schema — a store from before markers);
//   - marker, and the database missing, zero length or without the jobs
//     table: lost (ErrLost); Open refuses instead of starting empty;
//   - marker and database with different IDs: replaced (ErrLost).
//
// To start over on purpose, delete both files (queue.db*).
const MarkerSuffix = "-id"

// LostError says what happened to the database.
type LostError struct {
	Path    string // the database
	Marker  string // the sidecar that proves a store was created here
	Problem string // e.g. "is missing", "is empty (zero length)"
}

func (e *LostError) Error() string {
	return fmt.Sprintf("sqlitestore: %s %s, but %s shows a queue was created there: its queued jobs are lost. "+
		"Restore %s from a backup, or delete %s to start an empty queue",
		e.Path, e.Problem, e.Marker, filepath.Base(e.Path), filepath.Base(e.Marker))
}

// Is reports ErrLost.
func (e *LostError) Is(target error) bool { return target == ErrLost }

// checkMarker runs before the database is opened. It returns the marker's
// ID ("" when there is no marker yet), or a *LostError.
func checkMarker(path string) (string, error) {
	marker := path + MarkerSuffix
	b, err := os.ReadFile(marker)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlitestore: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", fmt.Errorf("sqlitestore: marker %s is empty: delete it only if %s is the right database", marker, path)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", &LostError{Path: path, Marker: marker, Problem: "is missing"}
	case err != nil:
		return "", fmt.Errorf("sqlitestore: %w", err)
	case fi.Size() == 0:
		return "", &LostError{Path: path, Marker: marker, Problem: "is empty (zero length)"}
	}
	return id, nil
}

// checkID compares the database's ID (meta table) with the marker's and
// writes whichever is missing. It requires the schema.
func (s *Store) checkID(ctx context.Context, markerID string) error {
	marker := s.path + MarkerSuffix
	var dbID string
	err := s.wconn.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'id'`).Scan(&dbID)
	if err != nil && !isNoRows(err) {
		return fmt.Errorf("sqlitestore: reading the store's id: %w", err)
	}
	switch {
	case markerID != "" && dbID != "" && markerID != dbID:
		return &LostError{Path: s.path, Marker: marker, Problem: fmt.Sprintf("is another queue's database (id %s, the marker says %s)", dbID, markerID)}
	case dbID == "":
		dbID = markerID
		if dbID == "" {
			var b [16]byte
			_, _ = rand.Read(b[:])
			dbID = hex.EncodeToString(b[:])
		}
		if _, err := s.wconn.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('id', ?)`, dbID); err != nil {
			return fmt.Errorf("sqlitestore: recording the store's id: %w", err)
		}
	}
	if markerID == "" {
		return writeMarker(marker, dbID)
	}
	return nil
}

// writeMarker writes the sidecar durably: a temporary file, fsync, rename,
// fsync of the directory.
func writeMarker(marker, id string) error {
	tmp := marker + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("sqlitestore: writing the marker: %w", err)
	}
	_, err = f.WriteString(id + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, marker)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("sqlitestore: writing the marker: %w", err)
	}
	if d, err := os.Open(filepath.Dir(marker)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// Health reports whether the store can serve: nil when it can. It fails
// with ErrClosed after Close, with ErrUnhealthy once the database showed
// corruption (in any operation, or in the quick_check Open starts in the
// background) or while the last write failed with an I/O error, and with
// the error of a cheap probe (reading the counters) otherwise.
func (s *Store) Health(ctx context.Context) error {
	if err := s.readable(ctx); err != nil {
		return err
	}
	if err := s.fault(); err != nil {
		return err
	}
	_, err := s.Stats(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnhealthy, err)
	}
	return s.fault()
}

// CheckState says how far the background integrity check has got:
// "running", "ok", "failed" or "skipped".
func (s *Store) CheckState() string {
	if v := s.check.Load(); v != nil {
		return *v
	}
	return "running"
}

func (s *Store) fault() error {
	if p := s.corrupt.Load(); p != nil {
		return *p
	}
	if p := s.writeErr.Load(); p != nil {
		return *p
	}
	return nil
}

// note records an error that shows the database itself failing and
// returns err unchanged. Corruption sticks until the store is reopened; an
// I/O or disk-full error on a write lasts until a commit succeeds.
func (s *Store) note(err error) error {
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case 11, 26: // SQLITE_CORRUPT, SQLITE_NOTADB
		e := fmt.Errorf("%w: %w", ErrUnhealthy, err)
		s.corrupt.CompareAndSwap(nil, &e)
	case 10, 13: // SQLITE_IOERR, SQLITE_FULL
		e := fmt.Errorf("%w: %w", ErrUnhealthy, err)
		s.writeErr.Store(&e)
	}
	return err
}

// quickCheck runs SQLite's quick_check in the background after Open (its
// time grows with the file, so Open does not wait for it) and records a
// failure as corruption. Close interrupts it.
func (s *Store) quickCheck(ctx context.Context) {
	defer close(s.checkDone)
	rows, err := s.rdb.QueryContext(ctx, "PRAGMA quick_check")
	var msgs []string
	if err == nil {
		for rows.Next() {
			var m string
			if err = rows.Scan(&m); err != nil {
				break
			}
			msgs = append(msgs, m)
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
	}
	if ctx.Err() != nil {
		return
	}
	state := "ok"
	switch {
	case err != nil:
		s.note(err)
		if s.corrupt.Load() == nil {
			e := fmt.Errorf("%w: quick_check: %w", ErrUnhealthy, err)
			s.corrupt.CompareAndSwap(nil, &e)
		}
		state = "failed"
	case len(msgs) != 1 || msgs[0] != "ok":
		e := fmt.Errorf("%w: quick_check of %s found: %s", ErrUnhealthy, s.path, strings.Join(msgs[:min(len(msgs), 5)], "; "))
		s.corrupt.CompareAndSwap(nil, &e)
		state = "failed"
	}
	s.check.Store(&state)
}
