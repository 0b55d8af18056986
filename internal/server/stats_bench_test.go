package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/queue/sqlitestore"
)

// bulkQueue is an embedded store holding n ready jobs, written with one
// INSERT … SELECT (the store's triggers and indexes see every row).
func bulkQueue(b *testing.B, n int) *sqlitestore.Store {
	b.Helper()
	path := filepath.Join(b.TempDir(), "queue.db")
	s, err := sqlitestore.Open(path, sqlitestore.Options{SkipCheck: true})
	if err != nil {
		b.Fatal(err)
	}
	_ = s.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UnixNano()
	_, err = db.Exec(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < ?1)
		INSERT INTO jobs (id, op, input, priority, token, state, visible_at, enqueued_at)
		SELECT 'bulk-' || x, 'StartOutboundVoiceContact', '{"DestinationPhoneNumber":"+15555550100"}', 0, 'tok-' || x, 0, ?2 - x, ?2 - x FROM c`, n, now)
	_ = db.Close()
	if err != nil {
		b.Fatal(err)
	}
	if s, err = sqlitestore.Open(path, sqlitestore.Options{SkipCheck: true}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkStatsHTTP measures GET /v1/stats and a /metrics scrape through
// the server's handler with 1, 100 000 and 1 000 000 jobs queued in the
// embedded store.
func BenchmarkStatsHTTP(b *testing.B) {
	for _, n := range []int{1, 100_000, 1_000_000} {
		q := bulkQueue(b, n)
		cfg := config.Default()
		cfg.DataDir, cfg.Token, cfg.AWS.Endpoint = b.TempDir(), testToken, "http://connect.sim.local"
		s, err := server.New(context.Background(), cfg, app.Options{AWS: staticAWSFor(http.NotFoundHandler()), Queue: q})
		if err != nil {
			b.Fatal(err)
		}
		h := s.Handler()
		for _, path := range []string{"/v1/stats", "/metrics"} {
			b.Run(fmt.Sprintf("%s/jobs=%d", strings.TrimPrefix(path, "/"), n), func(b *testing.B) {
				for b.Loop() {
					req := httptest.NewRequest("GET", path, nil)
					req.Header.Set("Authorization", "Bearer "+testToken)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
					}
				}
			})
		}
		_ = s.App().Close()
	}
}
