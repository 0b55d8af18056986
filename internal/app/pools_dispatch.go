package app

import (
	"time"

	"github.com/tollgatehq/tollgate/dispatch"
	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/queue"
)

// poolDispatchOptions gives the dispatcher one dispatch.Pool per pool.
func poolDispatchOptions(o *dispatch.Options, pools []*Pool) error {
	for _, p := range pools {
		c := p.Config
		o.Pools = append(o.Pools, dispatch.Pool{
			Name:              c.Name,
			Account:           c.Account,
			Region:            c.Region,
			Instance:          c.InstanceID,
			AWS:               p.AWS,
			Endpoint:          p.Endpoint,
			CampaignsEndpoint: p.CampaignsEndpoint,
			Governor:          p.Governor,
			CallBudget:        p.CallBudget,
			Weight:            c.Weight,
			IDs:               c.IDs.ByMember(),
		})
	}
	return nil
}

// poolStats converts the dispatcher's figures to the API's.
func (a *App) poolStats() []api.PoolStats {
	ps := a.Dispatcher.PoolStats()
	out := make([]api.PoolStats, 0, len(ps))
	for _, p := range ps {
		out = append(out, api.PoolStats{
			Name: p.Name, Account: p.Account, Region: p.Region, Instance: p.Instance,
			Delivered: p.Delivered, Throttled: p.Throttled, InFlight: p.InFlight, Failed: p.Failed,
			Healthy: p.Healthy, Health: p.Health, CallsInProgress: p.CallsInProgress,
		})
	}
	return out
}

// checkPoolJob is the dispatcher's pool-aware check.
func (a *App) checkPoolJob(j queue.Job, now time.Time) (queue.Job, error) {
	return a.Dispatcher.Check(j, now)
}
