package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/internal/api"
	"github.com/tollgatehq/tollgate/internal/client"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/queue"
)

func init() { register(newQueueCmd) }

// queueClientFlags locate the server and its token.
type queueClientFlags struct {
	server, tokenFile, dataDir string
}

func (f *queueClientFlags) newClient() (*client.Client, error) {
	tok := os.Getenv("TOLLGATE_TOKEN")
	if tok == "" {
		path := f.tokenFile
		if path == "" {
			path = filepath.Join(f.dataDir, server.TokenFile)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, usageError("no API token: set TOLLGATE_TOKEN or --token-file (%v)", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	return &client.Client{BaseURL: strings.TrimRight(f.server, "/"), Token: tok}, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func newQueueCmd() *cobra.Command {
	var cf queueClientFlags
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "Submit jobs to a running tollgate serve, follow, cancel and purge them, read its statistics, manage dead letters",
		Long: `Talk to a running tollgate serve over its HTTP API. The token is read from
TOLLGATE_TOKEN, else --token-file, else <data-dir>/token.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&cf.server, "server", envOr("TOLLGATE_SERVER", "http://"+config.DefaultListen), "base URL of tollgate serve [TOLLGATE_SERVER]")
	pf.StringVar(&cf.tokenFile, "token-file", "", "file holding the API token (default <data-dir>/token)")
	pf.StringVar(&cf.dataDir, "data-dir", envOr("TOLLGATE_DATA_DIR", config.DefaultDataDir), "the server's data directory, for its token file [TOLLGATE_DATA_DIR]")
	cmd.AddCommand(newQueueSubmitCmd(&cf), newQueueStatsCmd(&cf), newQueueDLQCmd(&cf),
		newQueueJobCmd(&cf), newQueuePurgeCmd(&cf)) // queue_submit.go, queue_jobs.go
	return cmd
}

func checkFormat(format string) error {
	if format != "text" && format != "json" {
		return usageError("--format: want text or json, got %q", format)
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newQueueStatsCmd(cf *queueClientFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Show queue and dispatcher statistics (and, with quota pools, a row per pool)",
		Example: `  tollgate queue stats
  tollgate queue stats --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			c, err := cf.newClient()
			if err != nil {
				return err
			}
			st, err := c.Stats(cmd.Context())
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				return printJSON(out, st)
			}
			q, d := st.Queue, st.Dispatch
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "ready\t%d\nin flight\t%d\ndelayed\t%d\nsucceeded\t%d\ndead\t%d\n", q.Ready, q.InFlight, q.Delayed, q.Succeeded, q.Dead)
			fmt.Fprintf(tw, "oldest unfinished\t%v\n", q.OldestAge.Round(time.Millisecond))
			for r, n := range q.DeadByReason {
				fmt.Fprintf(tw, "  dead: %s\t%d\n", r, n)
			}
			fmt.Fprintf(tw, "dispatcher\trunning=%v in-flight=%d succeeded=%d requeued=%d dead=%d released=%d alarms=%d\n",
				d.Running, d.InFlight, d.Succeeded, d.Requeued, d.Dead, d.Released, d.Alarms)
			if q.Approximate {
				fmt.Fprintln(tw, "(counts are approximate)")
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			return printPools(out, st.Pools)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output: text or json")
	return cmd
}

// printPools prints the quota pools' table (nothing without pools).
func printPools(w io.Writer, pools []api.PoolStats) error {
	if len(pools) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "POOL\tACCOUNT\tREGION\tDELIVERED\tTHROTTLED\tIN FLIGHT\tFAILED\tCALLS\tHEALTH")
	for _, p := range pools {
		health := p.Health
		if health == "" {
			health = "ok"
			if !p.Healthy {
				health = "out"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", p.Name, p.Account, p.Region,
			p.Delivered, p.Throttled, p.InFlight, p.Failed, p.CallsInProgress, health)
	}
	return tw.Flush()
}

func newQueueDLQCmd(cf *queueClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "dlq", Short: "List, inspect and redrive dead letters"}

	var listFormat, reason, after string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List dead letters, oldest first",
		Example: `  tollgate queue dlq list
  tollgate queue dlq list --reason expired --limit 20 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(listFormat); err != nil {
				return err
			}
			c, err := cf.newClient()
			if err != nil {
				return err
			}
			res, err := c.DeadLetters(cmd.Context(), queue.ListOptions{Reason: reason, After: after, Limit: limit})
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			out := cmd.OutOrStdout()
			if listFormat == "json" {
				return printJSON(out, res)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tOP\tREASON\tFINISHED\tDETAIL")
			for _, j := range res.Jobs {
				d := j.DeadDetail
				if len(d) > 80 {
					d = d[:80] + "…"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.ID, j.Op, j.DeadReason, j.FinishedAt.Format(time.RFC3339), d)
			}
			if res.Next != "" {
				fmt.Fprintf(tw, "(more: --after %s)\n", res.Next)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&listFormat, "format", "text", "output: text or json")
	list.Flags().StringVar(&reason, "reason", "", "only this reason (expired, client-fault, hard-quota, max-receives, …)")
	list.Flags().StringVar(&after, "after", "", "continue after this job id")
	list.Flags().IntVar(&limit, "limit", 100, "at most this many")

	show := &cobra.Command{
		Use:     "show ID",
		Short:   "Show one dead letter (JSON)",
		Example: `  tollgate queue dlq show "$(tollgate queue dlq list --limit 1 --format json | jq -r '.jobs[0].id')"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.newClient()
			if err != nil {
				return err
			}
			j, err := c.DeadLetter(cmd.Context(), args[0])
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			return printJSON(cmd.OutOrStdout(), j)
		},
	}

	var all, clear bool
	var rreason, redriveFormat string
	redrive := &cobra.Command{
		Use:   "redrive [ID...] | --all [--reason R]",
		Short: "Move dead letters back to the queue (same ids and ClientTokens; delivered at the quota's pace)",
		Example: `  tollgate queue dlq redrive --all
  tollgate queue dlq redrive --all --reason expired --clear-not-after --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(redriveFormat); err != nil {
				return err
			}
			if all == (len(args) > 0) {
				return usageError("give job ids or --all, not both and not neither")
			}
			if rreason != "" && !all {
				return usageError("--reason applies only with --all")
			}
			c, err := cf.newClient()
			if err != nil {
				return err
			}
			res, err := c.Redrive(cmd.Context(), api.RedriveRequest{IDs: args, All: all, Reason: rreason, ClearNotAfter: clear})
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			if redriveFormat == "json" {
				if err := printJSON(cmd.OutOrStdout(), res); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "redriven %d job(s)\n", res.Redriven)
			}
			if !all && res.Redriven < len(args) {
				return &ExitError{Code: ExitPartial, Err: fmt.Errorf("%d of %d ids were not dead letters", len(args)-res.Redriven, len(args))}
			}
			return nil
		},
	}
	redrive.Flags().BoolVar(&all, "all", false, "every dead letter (with --reason: of that reason)")
	redrive.Flags().StringVar(&rreason, "reason", "", "with --all: only this reason")
	redrive.Flags().BoolVar(&clear, "clear-not-after", false, "drop the jobs' deadlines (else an expired job expires again)")
	redrive.Flags().StringVar(&redriveFormat, "format", "text", "output: text or json")

	cmd.AddCommand(list, show, redrive)
	return cmd
}
