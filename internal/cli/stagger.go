package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/quotas/quotafile"
	"github.com/tollgatehq/tollgate/stagger"
)

func init() { register(newStaggerCmd) }

func newStaggerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stagger",
		Short: "Plan synchronized agent-desktop start-ups (shift change, VDI restart)",
		Long: `Plan how agent desktops that come online together should spread their
start-up calls so that they do not drain the account's Connect buckets.
Desktops get their start time from tollgate serve (POST /v1/stagger/reserve,
with the desktop token) or, when serve cannot be reached, from the hashed
slot of their login (js/stagger-start computes the same slot).`,
		Example: `  tollgate stagger plan --agents 200
  tollgate stagger plan --agents 200 --calls GetCurrentUserData,ListUsers,DescribeUser --share 0.5 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newStaggerPlanCmd())
	return cmd
}

func newStaggerPlanCmd() *cobra.Command {
	var (
		agents, trials       int
		calls, format, qfile string
		share, target, prob  float64
		seedWindow, slot     time.Duration
		seed                 uint64
	)
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Compare all-at-once, 30 s random jitter, hashed slots and reservations for N agents",
		Long: `For N agents whose desktops each make --calls at start-up, with --share of
each operation's quota left for start-ups, print per strategy the expected
peak accepted calls per second per operation, the expected throttled calls
(HTTP 429, the SDK standard mode's retries included), start-ups that give up,
and when agents are ready (p50, p99, last):

  none      every desktop starts at once
  seed      the common recipe: a uniform random delay over 30 s (--seed-window)
  hashed    the FNV-1a slot of the login over the planned window
  tollgate  reservations from serve's start-up bucket (rate = share of the
            quota ÷ calls per start-up); exact, no randomness

The planned window is the smallest one whose throttled calls stay at or under
--target with probability --probability, estimated from --trials seeded
simulations of the simulator's buckets and the SDK's standard retryer (the
standard error of that probability is printed). Operations not in the
published quota table (e.g. the CCP's agent-service calls) need their quota
in --quota-file.`,
		Example: `  tollgate stagger plan --agents 200
  tollgate stagger plan --agents 200 --calls GetCurrentUserData,ListUsers,DescribeUser --share 0.5
  tollgate stagger plan --agents 1000 --calls DescribeUser,ListQueues:2 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageError("--format: must be text or json, got %q", format)
			}
			if agents <= 0 {
				return usageError("--agents: must be > 0, got %d", agents)
			}
			if !(share > 0 && share <= 1) {
				return usageError("--share: must be in (0, 1], got %v", share)
			}
			cl, err := stagger.ParseCalls(calls)
			if err != nil {
				return usageError("--%v", err)
			}
			table := quotas.Default()
			if qfile != "" {
				ov, err := quotafile.Load(qfile)
				if err != nil {
					return usageError("--quota-file: %v", err)
				}
				if err := table.Apply(ov, "", ""); err != nil {
					return usageError("--quota-file: %v", err)
				}
			}
			p, err := stagger.Compute(stagger.Options{
				Agents: agents, Calls: cl, Quotas: table, Share: share, SeedWindow: seedWindow,
				SlotWidth: slot, Target: target, Probability: prob, Trials: trials, Seed: seed,
			})
			var fe *stagger.FieldError
			if errors.As(err, &fe) {
				return usageError("--%v", fe)
			}
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(p)
			}
			return writePlan(cmd.OutOrStdout(), p)
		},
	}
	f := cmd.Flags()
	f.IntVar(&agents, "agents", 200, "agents whose desktops start together")
	f.StringVar(&calls, "calls", "GetCurrentUserData,ListUsers,DescribeUser", "calls one start-up makes: Op[:count], comma-separated")
	f.Float64Var(&share, "share", 1, "part of each operation's quota left for start-ups, in (0, 1]")
	f.Float64Var(&target, "target", 0, "throttled calls a jittered window may produce")
	f.Float64Var(&prob, "probability", stagger.DefaultProbability, "how likely the window must keep to --target, in (0, 1)")
	f.IntVar(&trials, "trials", stagger.DefaultTrials, "seeded simulations per estimate")
	f.Uint64Var(&seed, "seed", 1, "seed of the simulations")
	f.DurationVar(&seedWindow, "seed-window", stagger.DefaultSeedWindow, "window of the random-jitter recipe")
	f.DurationVar(&slot, "slot", stagger.DefaultSlotWidth, "width of one hashed slot")
	f.StringVar(&qfile, "quota-file", "", "quota overrides (YAML, the serve quota_file format)")
	f.StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func writePlan(w io.Writer, p stagger.Plan) error {
	var calls []string
	for _, c := range p.Calls {
		calls = append(calls, fmt.Sprintf("%s×%d", c.Op, c.Count))
	}
	fmt.Fprintf(w, "%d agents; one start-up makes %s; share %v of each quota\n\n", p.Agents, strings.Join(calls, ", "), p.Share)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "operation\tcalls/start-up\trate left/s\tburst left")
	for _, a := range p.Ops {
		fmt.Fprintf(tw, "%s\t%d\t%g\t%d\n", a.Op, a.Count, a.Rate, a.Burst)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nreservations: start-up bucket %g start-ups/s, %g at once; the last agent starts at %v\n", p.StartUp.Rate, p.StartUp.Burst, p.LastStart)
	fmt.Fprintf(w, "window for <= %g throttled calls with p >= %g (%d seeded trials, std err %.3f): hashed slots %v, uniform random %v\n\n",
		p.Target, p.Probability, p.Trials, p.StdErr, p.HashedWindow, p.RandomWindow)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "strategy\twindow\tthrottled\tgave up"
	for _, a := range p.Ops {
		head += "\tpeak/s " + a.Op
	}
	fmt.Fprintln(tw, head+"\tready p50\tp99\tlast")
	for _, s := range p.Strategies {
		line := fmt.Sprintf("%s\t%v\t%.1f\t%.1f", s.Strategy, s.Window.Round(time.Second), s.Throttled, s.Failed)
		for _, a := range p.Ops {
			line += fmt.Sprintf("\t%.1f", s.Peak[a.Op])
		}
		fmt.Fprintf(tw, "%s\t%v\t%v\t%v\n", line, s.ReadyP50.Round(100*time.Millisecond), s.ReadyP99.Round(100*time.Millisecond), s.ReadyMax.Round(100*time.Millisecond))
	}
	tw.Flush()
	for _, warn := range p.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
	return nil
}
