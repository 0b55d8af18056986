package stagger

import (
	"errors"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tollgatehq/tollgate/ratelimit"
)

// Defaults of ReservationOptions.
const (
	DefaultHold      = 5 * time.Minute
	DefaultMaxLogins = 100_000
	MaxLoginBytes    = 256
)

// Errors of Reservations.Reserve.
var (
	ErrBadLogin = errors.New("stagger: login must be 1-256 bytes of UTF-8 without control characters")
	ErrFull     = errors.New("stagger: too many outstanding reservations")
)

// ReservationOptions tune Reservations; the zero value means the defaults.
type ReservationOptions struct {
	// Hold is how long after its start time a login's reservation stands:
	// asking again before then returns the same start time (default 5 min).
	Hold time.Duration
	// MaxLogins caps the reservations held at once (default 100,000).
	MaxLogins int
}

func (o ReservationOptions) withDefaults() ReservationOptions {
	if o.Hold <= 0 {
		o.Hold = DefaultHold
	}
	if o.MaxLogins <= 0 {
		o.MaxLogins = DefaultMaxLogins
	}
	return o
}

// Reservations hands out start times from a start-up bucket (a
// ratelimit.Bucket whose rate is the start-ups per second the quota share
// allows and whose burst is the start-ups that may go at once), one per
// login: a login that asks again while its reservation stands gets the same
// start time and takes no second token. It is safe for concurrent use; mu
// guards everything.
type Reservations struct {
	o       ReservationOptions
	mu      sync.Mutex
	b       ratelimit.Bucket     // requires mu held
	byLogin map[string]time.Time // start time per login; requires mu held
	pruned  time.Time            // last sweep; requires mu held
}

// NewReservations returns reservations from a full start-up bucket with
// limit l at now.
func NewReservations(l ratelimit.Limit, now time.Time, o ReservationOptions) *Reservations {
	return &Reservations{o: o.withDefaults(), b: ratelimit.NewBucket(l, now), byLogin: map[string]time.Time{}, pruned: now}
}

// Limit returns the start-up bucket's limit.
func (r *Reservations) Limit() ratelimit.Limit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.b.Limit()
}

// Reserve returns when login may start, asked at now, and whether it is a
// repeat of a standing reservation.
func (r *Reservations) Reserve(now time.Time, login string) (at time.Time, repeat bool, err error) {
	if err := CheckLogin(login); err != nil {
		return time.Time{}, false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.byLogin[login]; ok && now.Before(at.Add(r.o.Hold)) {
		return at, true, nil
	}
	r.pruneLocked(now)
	if len(r.byLogin) >= r.o.MaxLogins {
		return time.Time{}, false, ErrFull
	}
	ok, d := r.b.ReserveN(now, 1)
	if !ok {
		return time.Time{}, false, ErrFull
	}
	at = now.Add(d)
	r.byLogin[login] = at
	return at, false, nil
}

// pruneLocked drops reservations past their hold, at most once per Hold/4
// unless the map is full. Requires mu held.
func (r *Reservations) pruneLocked(now time.Time) {
	if now.Sub(r.pruned) < r.o.Hold/4 && len(r.byLogin) < r.o.MaxLogins {
		return
	}
	r.pruned = now
	for k, at := range r.byLogin {
		if !now.Before(at.Add(r.o.Hold)) {
			delete(r.byLogin, k)
		}
	}
}

// CheckLogin reports whether login is acceptable as a reservation key.
func CheckLogin(login string) error {
	if login == "" || len(login) > MaxLoginBytes || !utf8.ValidString(login) {
		return ErrBadLogin
	}
	for _, c := range login {
		if c < 0x20 || c == 0x7f {
			return ErrBadLogin
		}
	}
	return nil
}
