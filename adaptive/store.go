package adaptive

import (
	"context"
	"sync"
)

// Store keeps the learners of an Adapter, one per key: an operation's name,
// or "" for the account. The Adapter runs every observation as one Update,
// so whoever shares a Store shares the learners: with the default
// MemoryStore they live in this process; with a shared store (the Redis
// store in package redisx) every process of a fleet reads and advances the
// same learner, and the fleet learns as one client.
//
// Implementations must be safe for concurrent use.
type Store interface {
	// Update runs fn on key's learner and saves what fn returns,
	// atomically: no other Update of key (in this process or in another
	// sharing the store) takes effect between the state fn was given and
	// the state saved. fn receives nil when key holds no learner. It
	// returns the learner to keep and whether to save it; next == nil with
	// save true deletes key, and save false leaves the stored state as it
	// was (fn must then not have changed its argument).
	//
	// fn may run more than once (an optimistic store runs it again on the
	// newer state when another process got there first); it must depend
	// only on its argument and its own inputs, and whatever it records on
	// the side is overwritten by its last run. An error means the update
	// was not saved: the store was unreachable, ctx ended, or the stored
	// state could not be decoded.
	Update(ctx context.Context, key string, fn func(cur *Learner) (next *Learner, save bool)) error
}

// MemoryStore is the in-process Store, the Adapter's default: learners in
// a map under one mutex, updated in place. The zero value is ready to use.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]*Learner
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Update runs fn under the store's mutex. It fails only when ctx has
// already ended.
func (s *MemoryStore) Update(ctx context.Context, key string, fn func(*Learner) (*Learner, bool)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next, save := fn(s.m[key])
	if !save {
		return nil
	}
	if next == nil {
		delete(s.m, key)
		return nil
	}
	if s.m == nil {
		s.m = map[string]*Learner{}
	}
	s.m[key] = next
	return nil
}
