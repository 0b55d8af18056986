package queue

import (
	"context"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Job outcomes: how the contact a job started ended (Job.Outcome).
const (
	// OutcomePlaced: Connect accepted the call; how it ended is not known
	// yet (or was never learned before the maximum call duration).
	OutcomePlaced = "placed"
	// OutcomeConnected: the customer endpoint answered
	// (ConnectedToSystemTimestamp set).
	OutcomeConnected = "connected"
	// OutcomeEndedWithoutConnecting: the contact ended without being
	// answered (busy, unanswered, invalid number, a reorder tone past the
	// concurrent-calls quota, …); OutcomeReason has Connect's
	// DisconnectReason.
	OutcomeEndedWithoutConnecting = "ended_without_connecting"
	// OutcomeRefused: Connect refused the call (no contact was created);
	// OutcomeReason has the error.
	OutcomeRefused = "refused"
)

// MaxContactIDs caps Job.ContactIDs; MaxOutcomeReasonLen caps
// Job.OutcomeReason in bytes (a longer reason is cut).
const (
	MaxContactIDs       = 16
	MaxOutcomeReasonLen = 1024
)

// ContactOutcome is what OutcomeRecorder.RecordOutcome writes on a job.
type ContactOutcome struct {
	// ContactIDs are added to the job's (duplicates and empty IDs are
	// dropped, the order of first appearance kept).
	ContactIDs []string
	// Outcome replaces the job's when not empty (one of the Outcome
	// constants).
	Outcome string
	// Reason replaces the job's OutcomeReason whenever Outcome is set.
	Reason string
}

// OutcomeRecorder is implemented by every backend of this module (Memory,
// sqlitestore, sqs) and checked by queuetest: the dispatcher records on a
// job the contacts it started and how they ended, after the job was
// acknowledged or dead-lettered (a contact ends long after its call
// succeeded). A queue that does not implement it simply shows no outcomes.
type OutcomeRecorder interface {
	// RecordOutcome updates the job's ContactIDs, Outcome and
	// OutcomeReason, whatever its status. It fails with ErrNotFound for an
	// unknown (or pruned) job and with ErrInvalidArgument for an unknown
	// outcome.
	RecordOutcome(ctx context.Context, id string, o ContactOutcome) error
}

// CheckOutcome validates o and returns it with the reason cut to
// MaxOutcomeReasonLen.
func CheckOutcome(o ContactOutcome) (ContactOutcome, error) {
	switch o.Outcome {
	case "", OutcomePlaced, OutcomeConnected, OutcomeEndedWithoutConnecting, OutcomeRefused:
	default:
		return o, &ArgError{Arg: "outcome", Problem: fmt.Sprintf("%q is not one of placed, connected, ended_without_connecting, refused", clipArg(o.Outcome))}
	}
	for _, c := range o.ContactIDs {
		if len(c) > 256 {
			return o, &ArgError{Arg: "contact_ids", Problem: "a contact id is longer than 256 bytes"}
		}
	}
	if len(o.Reason) > MaxOutcomeReasonLen {
		cut := MaxOutcomeReasonLen
		for cut > 0 && !utf8.RuneStart(o.Reason[cut]) {
			cut--
		}
		o.Reason = o.Reason[:cut]
	}
	return o, nil
}

// ApplyOutcome applies o (already checked) to j: the one merge rule every
// backend uses.
func ApplyOutcome(j *Job, o ContactOutcome) {
	j.ContactIDs = slices.Clip(j.ContactIDs) // never append into an array a copy shares
	for _, c := range o.ContactIDs {
		if c != "" && !slices.Contains(j.ContactIDs, c) && len(j.ContactIDs) < MaxContactIDs {
			j.ContactIDs = append(j.ContactIDs, c)
		}
	}
	if o.Outcome != "" {
		j.Outcome, j.OutcomeReason = o.Outcome, o.Reason
	}
}

func clipArg(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
