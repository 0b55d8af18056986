package sqs

import (
	"time"

	"github.com/tollgatehq/tollgate/queue"
)

// index remembers the jobs this process has seen, for Get. It holds at most
// max jobs and forgets the least recently added first. Requires Queue.mu held.
type index struct {
	max    int
	jobs   map[string]queue.Job
	order  []string          // IDs in the order they were added; may hold forgotten IDs
	digest map[string]string // job ID → queue.Digest as enqueued
	tokens map[string]string // client token → job ID
}

func newIndex(max int) *index {
	return &index{max: max, jobs: map[string]queue.Job{}, digest: map[string]string{}, tokens: map[string]string{}}
}

// enqueued records a job this process stored, with its digest and token.
func (x *index) enqueued(j queue.Job) {
	x.digest[j.ID] = queue.Digest(j)
	x.tokens[j.ClientToken] = j.ID
	x.put(j)
}

// conflict checks job i of a batch against the jobs this process has
// stored: known reports the same job already stored (do not send it
// again); err is a *queue.ConflictError.
func (x *index) conflict(i int, j queue.Job) (known bool, err error) {
	if d, ok := x.digest[j.ID]; ok {
		if d != queue.Digest(j) {
			return true, &queue.ConflictError{Index: i, ID: j.ID, Field: "ID"}
		}
		return true, nil
	}
	if other, ok := x.tokens[j.ClientToken]; ok && other != j.ID {
		return false, &queue.ConflictError{Index: i, ID: j.ID, Field: "ClientToken", Other: other}
	}
	return false, nil
}

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
		x.forget(x.order[0])
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

func (x *index) remove(id string) { x.forget(id) }

func (x *index) forget(id string) {
	if j, ok := x.jobs[id]; ok && x.tokens[j.ClientToken] == id {
		delete(x.tokens, j.ClientToken)
	}
	delete(x.jobs, id)
	delete(x.digest, id)
}
