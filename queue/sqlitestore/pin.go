package sqlitestore

import (
	"context"

	"github.com/tollgatehq/tollgate/queue"
)

var _ queue.Pinner = (*Store)(nil)

// Pin implements queue.Pinner: the jobs table's pool column (added to an
// older database at Open), written in the writer's group commit, so the pin
// is durable when Pin returns.
func (s *Store) Pin(ctx context.Context, id, pool string) error {
	if err := queue.CheckPool(pool); err != nil {
		return err
	}
	return s.do(ctx, false, func(w *wtx) error {
		res, err := s.wconn.ExecContext(w.ctx, `UPDATE jobs SET pool = ? WHERE id = ?`, pool, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return queue.ErrNotFound
		}
		return nil
	})
}
