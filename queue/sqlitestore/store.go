package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgatehq/tollgate/queue"
	"modernc.org/sqlite" // registers the "sqlite" driver
)

// Options configure Open. The zero value is usable.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxReceives is the receive limit (0 means queue.DefaultMaxReceives).
	MaxReceives int
	// MaxFreeRequeues caps free requeues per job (0 means
	// queue.DefaultMaxFreeRequeues; negative means none are free).
	MaxFreeRequeues int
	// MaxInput caps a job's Input in bytes (0 means queue.DefaultMaxInput).
	MaxInput int
	// DoneRetention is how long success records are kept (0 means
	// queue.DefaultDoneRetention).
	DoneRetention time.Duration
	// LeaseWait is how long Lease waits for a job when none is visible (0
	// means it returns at once). New work wakes a waiting Lease early.
	LeaseWait time.Duration
	// MaxBatch caps the operations in one group commit (0 means 512).
	MaxBatch int
	// Coalesce is how long the writer may wait for the batch to fill up to
	// the size of the previous one before committing (0 means 300 µs;
	// negative means never wait). With one caller the writer never waits;
	// with many, waiting a fraction of an fsync lets one commit carry them
	// all instead of alternating half-full commits.
	Coalesce time.Duration
	// UseFsync makes SQLite commit with fsync(2). By default Open switches
	// SQLite to fdatasync(2), which is as durable for a commit (it writes the
	// data and the size needed to read it back, not timestamps) and is what
	// SQLite's own Linux builds use; on this project's VMs it made commits
	// about 1.5× faster. The switch is process-wide (a driver setting), so
	// the last Open decides.
	UseFsync bool
	// Readers is the size of the read-only connection pool (0 means 4).
	Readers int
	// SkipCheck skips the quick_check Open starts in the background (see
	// Store.Health).
	SkipCheck bool
}

// Store is the embedded durable queue. Open one per file.
type Store struct {
	o    Options
	path string

	wconn *sql.Conn // the writer's connection; used only by the writer goroutine
	wdb   *sql.DB
	rdb   *sql.DB
	st    *stmts
	x     *xstmts // idem.go

	owner     string   // this store's lease owner ID (owner.go)
	ownerLock *os.File // held while open
	recovered int64    // leases of gone owners released at Open

	reqs chan *request
	done chan struct{} // closed when the writer has exited

	mu     sync.RWMutex // guards closed; held for reading while sending on reqs
	closed bool

	notifyMu sync.Mutex    // guards notify
	notify   chan struct{} // closed and replaced when new work becomes visible

	// Health (health.go).
	corrupt     atomic.Pointer[error]  // first corruption seen; sticks
	writeErr    atomic.Pointer[error]  // last write's I/O error; cleared by a commit
	check       atomic.Pointer[string] // the background quick_check's state
	checkDone   chan struct{}          // closed when quick_check has ended
	checkCancel context.CancelFunc
}

var _ queue.Queue = (*Store)(nil)

const schema = `
CREATE TABLE IF NOT EXISTS jobs (
	seq         INTEGER PRIMARY KEY,             -- rowid: grows with every insert
	id          TEXT    NOT NULL UNIQUE,
	op          TEXT    NOT NULL,
	input       BLOB,
	priority    INTEGER NOT NULL,
	not_after   INTEGER NOT NULL DEFAULT 0,
	not_before  INTEGER NOT NULL DEFAULT 0,
	token       TEXT    NOT NULL,
	group_key   TEXT    NOT NULL DEFAULT '',
	state       INTEGER NOT NULL,            -- 0 waiting or leased, 1 succeeded, 2 dead
	visible_at  INTEGER NOT NULL,            -- unix ns: next lease possible / lease end
	lease       TEXT,                        -- current lease handle, NULL when none
	receives    INTEGER NOT NULL DEFAULT 0,
	free_used   INTEGER NOT NULL DEFAULT 0,
	enqueued_at INTEGER NOT NULL,
	last_error  TEXT    NOT NULL DEFAULT '',
	dead_reason TEXT    NOT NULL DEFAULT '',
	dead_detail TEXT    NOT NULL DEFAULT '',
	finished_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs(priority, visible_at, seq) WHERE state = 0;
CREATE INDEX IF NOT EXISTS jobs_dead  ON jobs(finished_at, seq) WHERE state = 2;
CREATE INDEX IF NOT EXISTS jobs_done  ON jobs(finished_at) WHERE state = 1;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
` + countsSchema

// Open opens (creating if needed) the queue database at path. The file is
// created with owner-only permissions: job inputs may hold personal data.
// A database that a marker (MarkerSuffix) shows was created before but is
// now missing, empty or replaced fails with ErrLost instead of becoming a
// new, empty queue. Open then checks the file with SQLite's quick_check in
// the background; Health reports what it found.
func Open(path string, o Options) (*Store, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxReceives <= 0 {
		o.MaxReceives = queue.DefaultMaxReceives
	}
	if o.MaxFreeRequeues == 0 {
		o.MaxFreeRequeues = queue.DefaultMaxFreeRequeues
	} else if o.MaxFreeRequeues < 0 {
		o.MaxFreeRequeues = 0
	}
	if o.DoneRetention <= 0 {
		o.DoneRetention = queue.DefaultDoneRetention
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 512
	}
	if o.Coalesce == 0 {
		o.Coalesce = 300 * time.Microsecond
	}
	if o.Readers <= 0 {
		o.Readers = 4
	}
	if path == "" {
		return nil, &queue.ArgError{Arg: "path", Problem: "is empty"}
	}
	_, _ = sqlite.Fdatasync(!o.UseFsync) // ErrFdatasyncUnavailable on macOS/Windows: fsync stays
	markerID, err := checkMarker(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	_ = f.Close()

	s := &Store{o: o, path: path, reqs: make(chan *request, 1024), done: make(chan struct{}), notify: make(chan struct{}),
		checkDone: make(chan struct{}), owner: newOwnerID()}
	if err := s.open(markerID); err != nil {
		s.closeDBs()
		return nil, err
	}
	if err := s.takeOwnership(); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("sqlitestore: lease owner lock: %w", err)
	}
	if s.recovered, err = s.recoverLeases(context.Background()); err != nil {
		s.releaseOwnership()
		s.closeDBs()
		return nil, fmt.Errorf("sqlitestore: releasing the leases of a stopped process: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.checkCancel = cancel
	if o.SkipCheck {
		skipped := "skipped"
		s.check.Store(&skipped)
		close(s.checkDone)
	} else {
		go s.quickCheck(ctx)
	}
	go s.writer()
	return s, nil
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "journal_size_limit(67108864)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

func (s *Store) open(markerID string) error {
	ctx := context.Background()
	var err error
	if s.wdb, err = sql.Open("sqlite", dsn(s.path, false)); err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", s.path, err)
	}
	s.wdb.SetMaxOpenConns(1)
	if s.wconn, err = s.wdb.Conn(ctx); err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", s.path, err)
	}
	var mode string
	if err := s.wconn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", s.path, err)
	}
	if mode != "wal" {
		return fmt.Errorf("sqlitestore: %s: journal_mode is %q, want wal", s.path, mode)
	}
	var hadJobs bool
	if err := s.wconn.QueryRowContext(ctx, `SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'`).Scan(&hadJobs); err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", s.path, err)
	}
	if markerID != "" && !hadJobs {
		return &LostError{Path: s.path, Marker: s.path + MarkerSuffix, Problem: "holds no queue (no jobs table)"}
	}
	if _, err := s.wconn.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("sqlitestore: create schema in %s: %w", s.path, err)
	}
	if err := migrate(ctx, s.wconn); err != nil {
		return err
	}
	if err := initCounts(ctx, s.wconn); err != nil {
		return err
	}
	if err := s.checkID(ctx, markerID); err != nil {
		return err
	}
	if _, err := s.wconn.ExecContext(ctx, outcomeSchema); err != nil {
		return fmt.Errorf("sqlitestore: create the outcomes table in %s: %w", s.path, err)
	}
	if s.st, err = prepare(ctx, s.wconn); err != nil {
		return err
	}
	if s.x, err = prepareX(ctx, s.wconn); err != nil {
		return err
	}
	if s.rdb, err = sql.Open("sqlite", dsn(s.path, true)); err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", s.path, err)
	}
	s.rdb.SetMaxOpenConns(s.o.Readers)
	s.rdb.SetMaxIdleConns(s.o.Readers)
	return nil
}

func (s *Store) closeDBs() {
	if s.st != nil {
		s.st.close()
	}
	if s.x != nil {
		s.x.close()
	}
	if s.wconn != nil {
		_ = s.wconn.Close()
	}
	if s.wdb != nil {
		_ = s.wdb.Close()
	}
	if s.rdb != nil {
		_ = s.rdb.Close()
	}
}

// Capabilities: exact, strict, durable.
func (s *Store) Capabilities() queue.Capabilities {
	return queue.Capabilities{
		StrictPriority:        true,
		FIFO:                  true,
		StaleReceipts:         true,
		IdempotentEnqueue:     true,
		DurableStatus:         true,
		ExactStats:            true,
		VisibilityGranularity: time.Nanosecond,
	}
}

// Close waits for pending operations to commit, then closes the database.
// Leases still held are released by the next Open of the file (their owner
// is gone; see owner.go).
// Calls after Close fail with queue.ErrClosed; a second Close returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.reqs)
	s.mu.Unlock()
	<-s.done
	s.checkCancel()
	<-s.checkDone
	s.closeDBs()
	s.releaseOwnership()
	return nil
}

// Recovered returns how many leases of stopped processes Open released.
func (s *Store) Recovered() int64 { return s.recovered }

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// IntegrityCheck runs SQLite's integrity_check and returns an error unless
// it reports "ok" and the counters (counts.go) equal a full count of the
// jobs.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	if err := s.readable(ctx); err != nil {
		return err
	}
	rows, err := s.rdb.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("sqlitestore: integrity check: %v", msgs)
	}
	return s.verifyCounts(ctx)
}

// readable checks ctx and that the store is open.
func (s *Store) readable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return queue.ErrClosed
	}
	return nil
}

// wake tells waiting Lease calls that work may have become visible.
func (s *Store) wake() {
	s.notifyMu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.notifyMu.Unlock()
}

func (s *Store) waitCh() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notify
}

var errNoRows = sql.ErrNoRows

func isNoRows(err error) bool { return errors.Is(err, errNoRows) }
