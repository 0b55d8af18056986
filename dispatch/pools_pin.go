package dispatch

import (
	"context"
	"time"

	"github.com/tollgatehq/tollgate/queue"
)

// pinBeforeSend pins job to p durably (queue.Pinner) before its call is
// first sent there, unless it is pinned already. A kill -9 between the
// send and the answer then leaves the job pinned to the one account that
// deduplicates its ClientToken, and the restarted process retries it there
// instead of calling the customer again from another account. It returns
// nil to go on, or the action that gives the job back when the pin could
// not be written (nothing is sent without it).
func (d *Dispatcher) pinBeforeSend(job queue.Job, p *pool) *action {
	if d.pinOf(job) != "" {
		return nil
	}
	pn, ok := d.o.Queue.(queue.Pinner)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := pn.Pin(ctx, job.ID, p.Name)
	cancel()
	if err != nil {
		d.o.Logger.Warn("dispatch: pinning a job before its call failed; the job goes back unsent", "job", job.ID, "pool", p.Name, "err", err)
		return &action{kind: ResultRequeued, free: true, ret: true, delay: d.jitter(time.Second), pool: p.Name,
			reason: "pool-unavailable", detail: "the job could not be pinned to pool " + p.Name + " before its call: " + err.Error()}
	}
	d.fresh.Store(job.ID, p.Name)
	return nil
}

// unpinFresh removes the pin pinBeforeSend made for this attempt: the
// answer shows the call was not made, so the job may go to another pool.
func (d *Dispatcher) unpinFresh(id string) {
	if _, ok := d.fresh.LoadAndDelete(id); !ok {
		return
	}
	pn, ok := d.o.Queue.(queue.Pinner)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := pn.Pin(ctx, id, "")
	cancel()
	if err != nil {
		d.o.Logger.Warn("dispatch: unpinning a job that was not called failed; it stays on its pool", "job", id, "err", err)
	}
}
