package cli

import (
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/bench"
)

func newBenchDashboardsCmd() *cobra.Command {
	var (
		viewers                     int
		refresh, duration, interval time.Duration
		strategies                  []string
		format                      string
		seed                        int64
	)
	cmd := &cobra.Command{
		Use:   "dashboards",
		Short: "Wallboards polling Connect directly vs reading Tollgate's poller cache",
		Long: `Run the dashboards scenario against a fresh in-process simulator with the
published quotas (GetCurrentMetricData 5/s, burst 8): N viewers refresh every
--refresh for --duration, with two strategies side by side:

  direct    every viewer calls GetCurrentMetricData itself with the SDK's
            adaptive retry mode, as wallboards do today
  tollgate  one poller polls every --interval through the governor into the
            cache; every viewer reads the cache

Reported per strategy: Connect calls (and per minute), 429s, and the
staleness of the data viewers showed (p50, p99).`,
		Example: `  tollgate bench dashboards
  tollgate bench dashboards --viewers 50 --duration 10s --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageError("--format: must be text or json, got %q", format)
			}
			rs, err := bench.RunDashboards(cmd.Context(), bench.DashboardsOptions{Viewers: viewers, Refresh: refresh, Duration: duration,
				Interval: interval, Seed: seed, Strategies: splitList(strategies)})
			if err != nil {
				return usageError("%v", err)
			}
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rs)
			}
			bench.WriteDashboards(cmd.OutOrStdout(), rs)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&viewers, "viewers", 200, "viewers refreshing at once")
	f.DurationVar(&refresh, "refresh", time.Second, "each viewer's refresh period")
	f.DurationVar(&duration, "duration", time.Minute, "length of each strategy's run")
	f.DurationVar(&interval, "interval", 0, "the poller's interval (default: --refresh)")
	f.StringSliceVar(&strategies, "strategy", nil, "direct, tollgate or both (default)")
	f.StringVar(&format, "format", "text", "output format: text or json")
	f.Int64Var(&seed, "seed", bench.DefaultSeed, "seed for the simulator")
	return cmd
}
