package stagger

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"
)

// DefaultSlotWidth is the width of one hashed slot when none is given.
const DefaultSlotWidth = time.Second

// Hash returns the 32-bit FNV-1a hash of the UTF-8 bytes of salt followed
// by the UTF-8 bytes of login. With an empty salt it is the plain FNV-1a
// of the login, the hash the JavaScript module computes with TextEncoder
// and Math.imul.
func Hash(login, salt string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(salt))
	h.Write([]byte(login))
	return h.Sum32()
}

// Slots returns the number of slots of width slotWidth in window: at least
// one (a window shorter than a slot is one slot). A slotWidth <= 0 means
// DefaultSlotWidth.
func Slots(window, slotWidth time.Duration) int {
	if slotWidth <= 0 {
		slotWidth = DefaultSlotWidth
	}
	n := int64(window / slotWidth)
	if n < 1 {
		return 1
	}
	if n > 1<<31-1 {
		n = 1<<31 - 1
	}
	return int(n)
}

// Slot returns the login's fallback slot in [0, slots): Hash(login, salt)
// modulo slots. slots < 1 counts as 1.
func Slot(login, salt string, slots int) int {
	if slots < 1 {
		return 0
	}
	return int(Hash(login, salt) % uint32(slots))
}

// SlotDelay returns how long after the common start the login starts when
// start-ups are hashed into slots of slotWidth (default 1 s) over window:
// Slot(login, salt, Slots(window, slotWidth)) × slotWidth.
func SlotDelay(login, salt string, window, slotWidth time.Duration) time.Duration {
	if slotWidth <= 0 {
		slotWidth = DefaultSlotWidth
	}
	return time.Duration(Slot(login, salt, Slots(window, slotWidth))) * slotWidth
}

// ErrNotInRoster is returned by RankDelay for a login missing from the roster.
var ErrNotInRoster = errors.New("stagger: login not in the roster")

// RankDelay spreads a known roster evenly over window: the logins are
// sorted (duplicates count once) and the i-th of n starts at i × window / n.
// Unlike a hash, ranks never collide, so the roster's start-ups are evenly
// spaced; it needs every desktop to see the same roster.
func RankDelay(login string, roster []string, window time.Duration) (time.Duration, error) {
	r := slices.Clone(roster)
	slices.Sort(r)
	r = slices.Compact(r)
	i, ok := slices.BinarySearch(r, login)
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrNotInRoster, login)
	}
	if window <= 0 {
		return 0, nil
	}
	return time.Duration(float64(window) * float64(i) / float64(len(r))), nil
}
