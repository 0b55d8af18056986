package cli

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/internal/client"
	"github.com/tollgatehq/tollgate/queue"
)

func newQueueJobCmd(cf *queueClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "job", Short: "Show or cancel one job"}
	show := &cobra.Command{
		Use:     "show ID",
		Short:   "Show a job: status, attempts, contact ids, outcome and its reason (JSON)",
		Example: `  tollgate queue job show call-42`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.newClient()
			if err != nil {
				return err
			}
			j, err := c.Job(cmd.Context(), args[0])
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			return printJSON(cmd.OutOrStdout(), j)
		},
	}
	cancel := &cobra.Command{
		Use:   "cancel ID...",
		Short: "Cancel jobs that have not started (a job in flight runs once; it cannot be canceled)",
		Long: `Cancel moves each waiting job to the dead-letter queue with reason
"canceled" ("tollgate queue dlq redrive ID" brings it back). Cancel and
dispatch are atomic with each other: a job either runs once or not at all.
A job in flight or already ended is refused (exit code 3 if any was).`,
		Example: `  tollgate queue job cancel call-42 call-43`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.newClient()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			failed := 0
			for _, id := range args {
				if _, err := c.Cancel(cmd.Context(), id); err != nil {
					var ae *client.APIError
					if !errors.As(err, &ae) {
						return &ExitError{Code: ExitFailure, Err: err}
					}
					failed++
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: not canceled: %s\n", id, ae.Message)
					continue
				}
				fmt.Fprintf(out, "%s: canceled\n", id)
			}
			if failed > 0 {
				return &ExitError{Code: ExitPartial, Err: fmt.Errorf("%d of %d job(s) not canceled", failed, len(args))}
			}
			return nil
		},
	}
	cmd.AddCommand(show, cancel)
	return cmd
}

func newQueuePurgeCmd(cf *queueClientFlags) *cobra.Command {
	var status, before string
	var yes bool
	cmd := &cobra.Command{
		Use:   "purge [--status queued|delayed] [--before T] --yes",
		Short: "Delete waiting jobs (never those in flight)",
		Long: `Purge deletes waiting jobs for good: those visible now (--status queued),
those waiting for their not_before or a retry delay (--status delayed), or
both (no --status); with --before only those enqueued before T (RFC 3339,
or a duration such as 1h meaning that long ago). Jobs in flight are never
purged. --yes is required.`,
		Example: `  tollgate queue purge --status delayed --yes
  tollgate queue purge --before 2026-01-02T15:04:05Z --yes
  tollgate queue purge --before 1h --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if status != "" && status != "queued" && status != "delayed" {
				return usageError("--status: want queued or delayed, got %q", status)
			}
			req := api.PurgeRequest{Status: status}
			if before != "" {
				if d, err := time.ParseDuration(before); err == nil && d > 0 {
					req.Before = time.Now().Add(-d)
				} else if t, err := time.Parse(time.RFC3339, before); err == nil {
					req.Before = t
				} else {
					return usageError("--before: want an RFC 3339 time or a duration (e.g. 1h), got %q", before)
				}
			}
			if !yes {
				return usageError("purge deletes jobs for good: add --yes")
			}
			c, err := cf.newClient()
			if err != nil {
				return err
			}
			res, err := c.Purge(cmd.Context(), req)
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "purged %d job(s)\n", res.Purged)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&status, "status", "", "queued (visible now) or delayed (visible later); default both")
	f.StringVar(&before, "before", "", "only jobs enqueued before this time (RFC 3339) or this long ago (e.g. 1h)")
	f.BoolVar(&yes, "yes", false, "confirm the purge")
	return cmd
}

// WaitSummary is how the jobs of a `queue submit --wait` ended.
type WaitSummary struct {
	Jobs      int `json:"jobs"`
	Succeeded int `json:"succeeded"` // connected, or ended successfully (non-contact operations)
	// EndedWithoutConnecting counts calls that were placed but never
	// connected, by Connect's disconnect reason.
	EndedWithoutConnecting map[string]int `json:"ended_without_connecting"`
	Refused                map[string]int `json:"refused"`       // by reason
	DeadLettered           map[string]int `json:"dead_lettered"` // by dead-letter reason
	Missing                int            `json:"missing,omitempty"`
}

// waitPoll is how often --wait asks for the jobs' status.
var waitPoll = 500 * time.Millisecond

// ended reports whether a job has reached its end: dead, or succeeded with
// its contact's end known (not "placed").
func ended(j queue.Job) bool {
	return j.Status == queue.StatusDead || j.Status == queue.StatusSucceeded && j.Outcome != "placed"
}

func (s *WaitSummary) add(j queue.Job) {
	reason := func(r string) string {
		if r == "" {
			return "unknown"
		}
		return r
	}
	switch {
	case j.Status == queue.StatusDead: // a refused call is dead-lettered: count it by the dead-letter reason (client-fault, hard-quota, …), not by its message
		s.DeadLettered[reason(j.DeadReason)]++
	case j.Outcome == "refused":
		s.Refused[reason(j.OutcomeReason)]++
	case j.Outcome == "ended_without_connecting":
		s.EndedWithoutConnecting[reason(j.OutcomeReason)]++
	default:
		s.Succeeded++
	}
}

// waitJobs follows ids until each has ended, drawing a bar on standard
// error when it is a terminal, then prints the summary.
func waitJobs(cmd *cobra.Command, c *client.Client, ids []string, format string, p progressFlags) error {
	ctx := cmd.Context()
	sum := WaitSummary{Jobs: len(ids), EndedWithoutConnecting: map[string]int{}, Refused: map[string]int{}, DeadLettered: map[string]int{}}
	var bar *progressbar.ProgressBar
	if showBar(cmd.ErrOrStderr(), format, p) {
		bar = progressbar.NewOptions(len(ids),
			progressbar.OptionSetWriter(cmd.ErrOrStderr()),
			progressbar.OptionSetDescription("jobs ended"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetPredictTime(true),
		)
	}
	pending := slices.Clone(ids)
	for len(pending) > 0 {
		var still []string
		for start := 0; start < len(pending); start += api.MaxLookupIDs {
			batch := pending[start:min(start+api.MaxLookupIDs, len(pending))]
			res, err := c.Lookup(ctx, batch)
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("following the jobs (%d of %d ended): %w", len(ids)-len(pending), len(ids), err)}
			}
			sum.Missing += len(res.Missing)
			for _, j := range res.Jobs {
				if !ended(j) {
					still = append(still, j.ID)
					continue
				}
				sum.add(j)
			}
			if bar != nil {
				_ = bar.Add(len(batch) - countIn(res.Jobs, still))
			}
		}
		pending = still
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("stopped following the jobs (%d of %d ended): %w", len(ids)-len(pending), len(ids), ctx.Err())}
		case <-time.After(waitPoll):
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	out := cmd.OutOrStdout()
	if format == "json" {
		if err := printJSON(out, sum); err != nil {
			return err
		}
	} else {
		printWaitSummary(out, sum)
	}
	bad := sum.Missing
	for _, n := range sum.DeadLettered {
		bad += n
	}
	for _, n := range sum.Refused {
		bad += n
	}
	if bad > 0 {
		return &ExitError{Code: ExitPartial, Err: fmt.Errorf("%d of %d job(s) were dead-lettered, refused or are unknown", bad, len(ids))}
	}
	return nil
}

// countIn counts the jobs of js whose ID is in ids (those still pending).
func countIn(js []queue.Job, ids []string) int {
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	n := 0
	for _, j := range js {
		if set[j.ID] {
			n++
		}
	}
	return n
}

func printWaitSummary(w io.Writer, s WaitSummary) {
	total := func(m map[string]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
	}
	byReason := func(m map[string]int) string {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
		if len(parts) == 0 {
			return ""
		}
		return " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintf(w, "%d job(s) ended:\n", s.Jobs)
	fmt.Fprintf(w, "  succeeded                 %d\n", s.Succeeded)
	fmt.Fprintf(w, "  ended without connecting  %d%s\n", total(s.EndedWithoutConnecting), byReason(s.EndedWithoutConnecting))
	fmt.Fprintf(w, "  refused                   %d%s\n", total(s.Refused), byReason(s.Refused))
	fmt.Fprintf(w, "  dead-lettered             %d%s\n", total(s.DeadLettered), byReason(s.DeadLettered))
	if s.Missing > 0 {
		fmt.Fprintf(w, "  unknown (purged or expired records) %d\n", s.Missing)
	}
}
