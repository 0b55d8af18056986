package sqlitestore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/queue/sqlitestore"
)

// bulkStore builds a store holding n queued jobs fast: Open creates the
// schema, then one INSERT … SELECT over a recursive CTE writes the rows
// (the store's own triggers and indexes see every row, as with Enqueue).
// A tenth of the jobs are spread over a second operation.
func bulkStore(tb testing.TB, n int) *sqlitestore.Store {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "queue.db")
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now().UnixNano()
	_, err = db.Exec(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < ?1)
		INSERT INTO jobs (id, op, input, priority, token, state, visible_at, enqueued_at)
		SELECT 'bulk-' || x, CASE WHEN x % 10 = 0 THEN 'StartTaskContact' ELSE 'StartOutboundVoiceContact' END,
			'{"DestinationPhoneNumber":"+15555550100"}', 0, 'tok-' || x, 0, ?2 - x, ?2 - x FROM c`, n, now)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		tb.Fatal(err)
	}
	if s, err = sqlitestore.Open(path, sqlitestore.Options{}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkStats measures one Stats call (what GET /v1/stats and a
// /metrics scrape cost) with 1, 100 000 and 1 000 000 jobs queued.
func BenchmarkStats(b *testing.B) {
	for _, n := range []int{1, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) {
			s := bulkStore(b, n)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				st, err := s.Stats(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if st.Ready != int64(n) {
					b.Fatalf("ready = %d, want %d", st.Ready, n)
				}
			}
		})
	}
}
