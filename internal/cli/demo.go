package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/internal/demo"
)

func init() { register(newDemoCmd) }

func newDemoCmd() *cobra.Command {
	var o demo.Options
	var plain bool
	var progress progressFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a dialer campaign through the durable, rate-paced queue against the built-in simulator",
		Long: `Start the Amazon Connect simulator in-process with the published rate quotas
scaled (default ×10) and the instance's concurrent-active-calls quota as a new
account has it (10), with short calls (1-2 s); run tollgate serve on the
embedded queue in a temporary directory, submit a dialer campaign through the
HTTP API (some calls to numbers the simulator refuses, some that expire before
their turn) while a dashboard polls GetCurrentMetricData through the same
governor, and summarise: calls placed, calls past the quota (reorder tones),
outcomes, throttles met, both limits (the rate, and calls in progress) and the
bound they set together against the time taken, dead letters and their
reasons, duplicate ClientTokens. No AWS account is needed.`,
		Example: `  tollgate demo
  tollgate demo --calls 1000 --rate-scale 20
  tollgate demo --calls 200 --call-quota 20 --quiet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = cmd.OutOrStdout()
			// Progress: a bar on a terminal (or with --progress), lines
			// otherwise, nothing with --quiet.
			if !progress.quiet {
				o.Progress = cmd.ErrOrStderr()
			}
			o.Bar = !plain && showBar(cmd.ErrOrStderr(), "text", progress)
			if _, err := demo.Run(cmd.Context(), o); err != nil {
				if cmd.Context().Err() != nil {
					return &ExitError{Code: ExitFailure, Err: fmt.Errorf("demo: interrupted")}
				}
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("demo: %w", err)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Calls, "calls", 600, "outbound calls in the campaign")
	f.IntVar(&o.Refused, "refused", 0, "calls to numbers the simulator refuses (default calls/20)")
	f.IntVar(&o.Expiring, "expiring", 0, "low-priority calls whose deadline passes before their turn (default calls/20)")
	f.Float64Var(&o.RateScale, "rate-scale", 10, "multiply every published rate quota (the simulator and the governor alike)")
	f.IntVar(&o.CallQuota, "call-quota", 10, "the instance's concurrent-active-calls quota (the simulator's, and the dispatcher's budget)")
	f.DurationVar(&o.CallMin, "call-min", time.Second, "shortest simulated call")
	f.DurationVar(&o.CallMax, "call-max", 2*time.Second, "longest simulated call")
	progress.register(f)
	f.BoolVar(&plain, "plain", false, "progress as lines even on a terminal")
	deprecate(f, "plain", "--quiet for no progress (progress is a bar only on a terminal, lines elsewhere)")
	return cmd
}
