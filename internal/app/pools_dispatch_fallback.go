//go:build !pools_merged

package app

import (
	"errors"
	"time"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/queue"
)

// TEMPORARY until branch pcore (dispatch.Pool, Dispatcher.PoolStats,
// Dispatcher.Check) is merged: the lead deletes this file and the
// //go:build line of pools_dispatch.go at the merge. Until then a pools
// section builds every pool (credentials, quotas, admission, governor) and
// then fails New here.

var errPoolsUnmerged = errors.New("pools need the pcore merge (dispatch.Pool is not in this build)")

func poolDispatchOptions(*dispatch.Options, []*Pool) error { return errPoolsUnmerged }

func (a *App) poolStats() []api.PoolStats { return nil }

func (a *App) checkPoolJob(j queue.Job, now time.Time) (queue.Job, error) {
	return dispatch.Check(j, now)
}
