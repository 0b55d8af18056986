package sqs

import (
	"time"

	"github.com/tollgatehq/tollgate/queue"
)

// index remembers the jobs this process has seen, for Get. It holds at most
// max jobs and forgets the least recently added first. Requires Queue.mu held.
type index struct {
	max   int
	jobs  map[string]queue.Job
	order []string // IDs in the order they were added; may hold forgotten IDs
}

func newIndex(max int) *index { return &index{max: max, jobs: map[string]queue.Job{}} }

func (x *index) put(j queue.Job) {
	if old, ok := x.jobs[j.ID]; !ok {
		x.order = append(x.order, j.ID)
	} else if j.Outcome == "" && len(j.ContactIDs) == 0 {
		// Messages do not carry the outcome (RecordOutcome): keep it.
		j.ContactIDs, j.Outcome, j.OutcomeReason = old.ContactIDs, old.Outcome, old.OutcomeReason
	}
	if j.Status == queue.StatusSucceeded {
		j.Input = nil
	}
	x.jobs[j.ID] = j
	for len(x.jobs) > x.max && len(x.order) > 0 {
		delete(x.jobs, x.order[0])
		x.order = x.order[1:]
	}
	if len(x.order) > 2*x.max+16 { // compact the IDs already forgotten
		kept := x.order[:0]
		for _, id := range x.order {
			if _, ok := x.jobs[id]; ok {
				kept = append(kept, id)
			}
		}
		x.order = kept
	}
}

func (x *index) get(id string, now time.Time) (queue.Job, bool) {
	j, ok := x.jobs[id]
	if ok && j.Status == queue.StatusInFlight && !now.Before(j.VisibleAt) {
		j.Status = queue.StatusQueued
	}
	return j, ok
}

func (x *index) update(id string, f func(j *queue.Job)) {
	if j, ok := x.jobs[id]; ok {
		f(&j)
		x.jobs[id] = j
	}
}

func (x *index) remove(id string) { delete(x.jobs, id) }
