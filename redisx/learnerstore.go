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
// It shares its Limiter's connection, key space and Options.Timeout.
// While Redis is unreachable (the Limiter is in fallback mode, or a save
// fails) the worker keeps learning on its own copy, as a lone process
// would: every observation still updates the learner, and the limit it
// sets applies to the Limiter's local buckets (its share of it). The
// first save after Redis is back publishes that copy if nobody saved
// since it was read (or Redis restarted empty); otherwise the fleet's
// newer state wins and the observation is applied to it. Use it with the
// Limiter it was made from:
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
	valid bool              // ver is the stored version cur derives from
	ver   int64             // the version cur was read at (0: none saved)
	cur   *adaptive.Learner // nil: none stored
	// local: cur holds observations not yet saved to Redis (learned while
	// Redis was unreachable).
	local bool
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
// protocol. While Redis is unreachable fn's result is kept in this
// process and the error is nil. The error wraps ErrStoreContended,
// adaptive.ErrBadState, ErrClosed or ctx's error.
func (s *LearnerStore) Update(ctx context.Context, key string, fn func(*adaptive.Learner) (*adaptive.Learner, bool)) error {
	l := s.l
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisx: learner %q: %w", key, err)
	}
	sl := s.slot(key)
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if l.Mode() == ModeFallback {
		sl.learnLocally(fn)
		return nil
	}
	rkey := l.keys.learner(key)
	if !sl.valid {
		if err := s.read(ctx, sl, rkey); err != nil {
			if callerDone(ctx) || errors.Is(err, adaptive.ErrBadState) {
				return fmt.Errorf("redisx: learner %q: %w", key, err)
			}
			sl.learnLocally(fn) // Redis unreachable
			return nil
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
		res, err := s.cas(ctx, rkey, sl.ver, state)
		if err == nil && res[0] == int64(0) && res[1] == int64(0) && res[2] == "" && sl.local && next != nil {
			// Redis lost the learner (restarted empty) while this process
			// kept learning: publish what it learned.
			if res, err = s.cas(ctx, rkey, 0, state); err == nil && res[0] == int64(0) {
				sl.local = false // somebody else published first: take theirs
			}
		}
		if err != nil {
			if callerDone(ctx) {
				sl.valid, sl.cur, sl.local = false, nil, false // fn may have changed the copy
				return fmt.Errorf("redisx: learner %q: %w", key, err)
			}
			// Redis unreachable: keep fn's result here until it is back.
			sl.cur, sl.local = next, true
			return nil
		}
		ver := res[1].(int64)
		if res[0] == int64(1) {
			sl.ver, sl.cur, sl.local = ver, next, false
			return nil
		}
		// Another worker saved first: start again from its state.
		if err := sl.set(ver, res[2].(string)); err != nil {
			return fmt.Errorf("redisx: learner %q: %w", key, err)
		}
	}
	sl.valid, sl.cur, sl.local = false, nil, false
	return fmt.Errorf("redisx: learner %q: %w", key, ErrStoreContended)
}

// learnLocally applies fn to this process's copy and keeps the result
// there (Redis is unreachable). A slot never read starts from no learner,
// as a new process would. Requires sl.mu held.
func (sl *learnerSlot) learnLocally(fn func(*adaptive.Learner) (*adaptive.Learner, bool)) {
	next, save := fn(sl.cur)
	if save {
		sl.cur, sl.local = next, true
	}
}

// cas runs the compare-and-set script and checks its reply's shape:
// {1, version} or {0, version, state}.
func (s *LearnerStore) cas(ctx context.Context, rkey string, ver int64, state []byte) ([]any, error) {
	rctx, cancel := context.WithTimeout(ctx, s.l.o.Timeout)
	defer cancel()
	res, err := learnerCASScript.Run(rctx, s.l.client(), []string{rkey}, ver, state, s.l.o.LimitTTL.Milliseconds()).Slice()
	if err != nil {
		return nil, err
	}
	var p replyParser
	if len(res) < 2 || (res[0] == int64(0) && len(res) != 3) {
		return nil, errReply
	}
	res[1] = p.int(res[1])
	if len(res) == 3 {
		str, _ := res[2].(string)
		res[2] = str
	}
	if p.err != nil {
		return nil, p.err
	}
	return res, nil
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
	sl.valid, sl.ver, sl.cur, sl.local = false, ver, nil, false
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
