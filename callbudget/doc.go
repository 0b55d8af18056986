// Package callbudget keeps a dialer's own calls in progress under the
// instance's concurrent-active-calls quota.
//
// Amazon Connect counts every voice call in an instance against "Concurrent
// active calls per instance" (L-12AB7C57, default 10). A call placed past it
// is still answered with 200 and a ContactId, and the customer hears a
// reorder (fast-busy) tone. Pacing StartOutboundVoiceContact on the request
// rate alone therefore cannot keep a campaign inside the quota: a dialer
// must also pace on its calls in progress.
//
// # The budget
//
// For each instance the budget is
//
//	budget = quota − reserve
//
// where the quota comes from the quota table (or Service Quotas, through
// SetLimit) and the reserve is left for inbound calls, agents' own dials
// and other dialers. A call holds one slot from the moment it is admitted
// (before StartOutboundVoiceContact is sent, so a call in flight is
// counted) until the first of: the contact ended (End: a contact event or
// DescribeContact), the request was refused (Slot.Release: no contact was
// created), or MaxDuration passed since the slot was taken or the contact
// started (neither route answered: the slot is not held forever).
//
// # Waiting
//
// Acquire waits while the instance's slots are all held, in one FIFO per
// priority class with aging (ratelimit.WaitQueue, the wait queue the rate
// limiters use, so one priority policy governs both), and never past its
// context. A released slot goes to the first waiter at once. Time is a
// parameter: TryAcquireAt, StartAt, ReleaseAt, EndAt and ExpireAt take now;
// Acquire reads Options.Now and sleeps on runtime timers, so tests run it
// in a testing/synctest bubble.
//
// The package imports only the standard library and package ratelimit.
package callbudget
