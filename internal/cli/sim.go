package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/sim"
)

func init() { register(newSimCmd) }

func newSimCmd() *cobra.Command {
	var (
		configPath string
		quiet      bool
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run a local Amazon Connect that speaks the real wire protocol and throttles like AWS",
		Long: `Run the Amazon Connect simulator: restJson1 for the Connect operations Tollgate
uses plus Outbound Campaigns PutDialRequestBatch, per-operation token buckets
from the quota table, stateful quotas (instances, users, phone numbers,
concurrent calls, chats and tasks), ClientToken idempotency, faults on demand,
statistics at /_sim/stats and Prometheus metrics at /metrics.

With --accounts N (N > 1) it serves N accounts at once, each with its own
instance, ids, buckets, statistics and outage switch; the access key that
signs a request chooses the account (AKIDSIMACCOUNT000001 / sim-secret-1 for
account 1, …), and STS AssumeRole into any of them is served too. One line
per account is printed at start; GET /_sim/accounts lists them.

It serves until SIGINT or SIGTERM. Settings come from the configuration file
(--config, see sim.Config), then TOLLGATE_SIM_* environment variables, then
flags: each layer overrides the one before, as for serve.`,
		Example: `  tollgate sim
  tollgate sim --addr 127.0.0.1:0 --rate-scale 10 --quota ListQueues=1:1
  tollgate sim --config sim.yaml --seed-file state.yaml --access-key AKIDEXAMPLE=secret
  TOLLGATE_SIM_RATE_SCALE=10 tollgate sim --quiet
  tollgate sim --accounts 3 --rate-scale 10 --quiet
  tollgate sim --rate-scale 10 --call-duration uniform:2s..4s --contact-events-queue connect-events --contact-events-endpoint http://127.0.0.1:5055`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, opts, err := config.LoadSim(config.Sources{File: configPath, LookupEnv: os.LookupEnv, Flags: cmd.Flags()})
			if err != nil {
				return usageError("%v", err)
			}
			if opts.ContactEvents, err = contactEventsSink(cmd.Context(), cfg); err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("sim: contact_events_queue: %w", err)}
			}
			s, err := sim.NewMulti(opts)
			if err != nil {
				return usageError("%v", err)
			}
			defer s.Close()
			out := cmd.OutOrStdout()
			err = sim.ListenAndServe(cmd.Context(), cfg.Addr, s, func(url string) {
				if quiet {
					fmt.Fprintln(out, url)
					_ = s.WriteAccounts(out)
					return
				}
				_ = s.WriteBanner(out, url)
			})
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("sim: %w", err)}
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "tollgate sim: stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "configuration file (YAML or JSON; see sim.Config)")
	config.RegisterSimFlags(f)
	f.BoolVar(&quiet, "quiet", false, "print the listening URL alone on the first line, then one key=value line per account, instead of the banner")
	return cmd
}
