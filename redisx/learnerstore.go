package redisx

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tollgatehq/tollgate/adaptive"
)

// ErrStoreContended is matched (errors.Is) by the error of
// LearnerStore.Update when other processes kept saving the learner first
// for maxCASTries attempts in a row.
var ErrStoreContended = errors.New("redisx: learner store: too many concurrent updates")

// ErrFallback is matched by the error of LearnerStore.Update while its
// Limiter is in fallback mode: Redis is unreachable, so the learner is not
// updated (admission goes on at the limits last set).
var ErrFallback = errors.New("redisx: Redis unavailable (fallback mode)")

// maxCASTries bounds one Update's compare-and-set attempts.
const maxCASTries = 32

// LearnerStore is an adaptive.Store in Redis: every worker of a fleet that
// uses it runs the same learner per operation, on shared state. It keeps
// each learner in one hash per operation, beside that operation's bucket
// and hash-tagged the same way,
//
//	<prefix>:{<account>:<region>}:l:<op>   fields v (version), s (state)
//
// and updates it optimistically: the worker applies the observation to its
// cached copy and saves the result with one script (learner_cas.lua) that
// stores it only if the version is still the one the copy was read at. When
// another worker saved first, the script answers with the current state
// instead; the worker applies the observation to that and tries again. An
// observation therefore costs one round trip when this worker's copy is
// current, one more per worker that got there first, and a read on the
// first use of an operation. The state is the learner's own encoding
// (adaptive.Learner.MarshalBinary, about a kilobyte); it expires after
// Options.LimitTTL without updates.
//
// Under sustained contention (workers updating one learner faster than
// Redis round trips allow, thousands of updates a second) a worker whose
// copy is stale can keep losing the race to one whose copy is fresh; after
// maxCASTries lost races the update fails with ErrStoreContended and the
// observation is dropped (adaptive.Adapter counts it in StoreErrors). At
// Connect's quota rates an operation sees at most a few hundred
// observations a second across the fleet.
//
// It shares its Limiter's connection, key space and Options.Timeout, and
// while the Limiter is in fallback mode it does not try Redis at all
// (Update returns ErrFallback at once). Use it with the Limiter it was
// made from:
//
//	rl, _ := redisx.New(o)
//	a := adaptive.NewAdapter(rl, adaptive.AdapterOptions{Store: redisx.NewLearnerStore(rl)})
//	g := governor.New(a, governor.Options{Observer: a})
type LearnerStore struct {
	l *Limiter

	mu    sync.Mutex
	slots map[string]*learnerSlot
}

// learnerSlot is this process's copy of one learner. mu serializes the
// updates of that learner in this process and guards the copy.
type learnerSlot struct {
	mu    sync.Mutex
	valid bool              // cur and ver reflect a read or a save
	ver   int64             // the version cur was read at (0: none saved)
	cur   *adaptive.Learner // nil: none stored
}

var _ adaptive.Store = (*LearnerStore)(nil)

// NewLearnerStore returns the learner store of l's account and Region.
func NewLearnerStore(l *Limiter) *LearnerStore {
	return &LearnerStore{l: l, slots: map[string]*learnerSlot{}}
}

func (s *LearnerStore) slot(key string) *learnerSlot {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, ok := s.slots[key]
	if !ok {
		sl = &learnerSlot{}
		s.slots[key] = sl
	}
	return sl
}

// Update implements adaptive.Store; see the type's documentation for the
// protocol. The error wraps ErrFallback, ErrStoreContended,
// adaptive.ErrBadState, ErrClosed, ctx's error or Redis's.
func (s *LearnerStore) Update(ctx context.Context, key string, fn func(*adaptive.Learner) (*adaptive.Learner, bool)) error {
	l := s.l
	if l.Mode() == ModeFallback {
		return fmt.Errorf("redisx: learner %q: %w", key, ErrFallback)
	}
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	sl := s.slot(key)
	sl.mu.Lock()
	defer sl.mu.Unlock()
	rkey := l.keys.learner(key)
	if !sl.valid {
		if err := s.read(ctx, sl, rkey); err != nil {
			return fmt.Errorf("redisx: learner %q: %w", key, err)
		}
	}
	for range maxCASTries {
		next, save := fn(sl.cur)
		if !save {
			return nil
		}
		var state []byte
		if next != nil {
			var err error
			if state, err = next.MarshalBinary(); err != nil {
				sl.valid = false
				return fmt.Errorf("redisx: learner %q: %w", key, err)
			}
		}
		rctx, cancel := context.WithTimeout(ctx, l.o.Timeout)
		res, err := learnerCASScript.Run(rctx, l.client(), []string{rkey}, sl.ver, state, l.o.LimitTTL.Milliseconds()).Slice()
		cancel()
		if err == nil && (len(res) < 2 || (res[0] == int64(0) && len(res) != 3)) {
			err = errReply
		}
		if err != nil {
			// fn may have changed the copy: read it again next time.
			sl.valid, sl.cur = false, nil
			return fmt.Errorf("redisx: learner %q: %w", key, err)
		}
		var p replyParser
		ver := p.int(res[1])
		if res[0] == int64(1) {
			if p.err != nil {
				sl.valid, sl.cur = false, nil
				return fmt.Errorf("redisx: learner %q: %w", key, p.err)
			}
			sl.ver, sl.cur = ver, next
			return nil
		}
		// Another worker saved first: start again from its state.
		str, _ := res[2].(string)
		if err := sl.set(ver, str); err != nil {
			return fmt.Errorf("redisx: learner %q: %w", key, err)
		}
	}
	sl.valid, sl.cur = false, nil
	return fmt.Errorf("redisx: learner %q: %w", key, ErrStoreContended)
}

// read loads the stored learner into sl.
func (s *LearnerStore) read(ctx context.Context, sl *learnerSlot, rkey string) error {
	rctx, cancel := context.WithTimeout(ctx, s.l.o.Timeout)
	v, err := s.l.client().HMGet(rctx, rkey, "v", "s").Result()
	cancel()
	if err != nil {
		return err
	}
	var ver int64
	if str, ok := v[0].(string); ok {
		if _, err := fmt.Sscan(str, &ver); err != nil {
			return fmt.Errorf("%w: version %q", errReply, str)
		}
	}
	str, _ := v[1].(string)
	return sl.set(ver, str)
}

// set makes sl hold the learner encoded in state, saved at version ver.
func (sl *learnerSlot) set(ver int64, state string) error {
	sl.valid, sl.ver, sl.cur = false, ver, nil
	if state != "" {
		n := new(adaptive.Learner)
		if err := n.UnmarshalBinary([]byte(state)); err != nil {
			return err
		}
		sl.cur = n
	}
	sl.valid = true
	return nil
}
