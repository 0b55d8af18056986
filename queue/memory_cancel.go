package queue

import "context"

var _ Canceler = (*Memory)(nil)

// remove forgets a job and its token. Requires mu held.
func (m *Memory) remove(j *memJob) {
	delete(m.jobs, j.ID)
	if m.tokens[j.ClientToken] == j.ID {
		delete(m.tokens, j.ClientToken)
	}
}

// Cancel implements Canceler.
func (m *Memory) Cancel(ctx context.Context, id string) (Job, error) {
	if err := m.begin(ctx); err != nil {
		return Job{}, err
	}
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return Job{}, ErrNotFound
	}
	now := m.o.Now()
	v := m.view(j, now)
	if v.Status != StatusQueued {
		return v, &StateError{ID: id, Status: v.Status}
	}
	m.kill(j, now, ReasonCanceled, "canceled by request")
	return m.view(j, now), nil
}

// Purge implements Canceler.
func (m *Memory) Purge(ctx context.Context, p Purge) (int, error) {
	if err := m.begin(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	now := m.o.Now()
	n := 0
	for _, j := range m.jobs {
		if m.view(j, now).Status == StatusQueued && p.Matches(now, j.VisibleAt, j.EnqueuedAt) {
			m.remove(j)
			n++
		}
	}
	return n, nil
}
