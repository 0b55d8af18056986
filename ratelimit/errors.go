package ratelimit

import "errors"

// ErrWouldExceedDeadline is returned (wrapped) by Wait when the admission
// cannot happen before the context's deadline. Wait returns it at once
// instead of sleeping until the deadline.
var ErrWouldExceedDeadline = errors.New("ratelimit: wait would exceed context deadline")

// ErrExceedsBurst is returned (wrapped) by Try and Wait when a request costs
// more than its operation's or the account's burst: it can never be admitted
// under the current limits.
var ErrExceedsBurst = errors.New("ratelimit: cost exceeds burst")
