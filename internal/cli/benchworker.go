package cli

import (
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/bench"
	"github.com/tollgatehq/tollgate/ratelimit"
)

// The bench's tollgate-redis strategy runs each caller as a separate process:
// this binary, re-executed with the hidden bench-redis-worker subcommand
// (see redisWorkerCommand in bench.go).
func init() { register(newBenchRedisWorkerCmd) }

// benchRedisWorkerCmd is the hidden subcommand's name.
const benchRedisWorkerCmd = "bench-redis-worker"

func newBenchRedisWorkerCmd() *cobra.Command {
	var (
		o   bench.RedisWorkerOptions
		ops []string
	)
	cmd := &cobra.Command{
		Use:    benchRedisWorkerCmd,
		Short:  "One caller process of the bench's tollgate-redis strategy (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Ops = map[string]ratelimit.Limit{}
			for _, s := range ops {
				name, lim, err := bench.ParseOpLimit(s)
				if err != nil {
					return usageError("--%v", err)
				}
				o.Ops[name] = lim
			}
			if os.Getenv("TOLLGATE_BENCH_REDIS_DEBUG") != "" {
				o.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			}
			return bench.RunRedisWorker(cmd.Context(), o, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.RedisURL, "redis", "", "Redis URL")
	f.StringVar(&o.Account, "account", "", "account of the run (key prefix)")
	f.StringVar(&o.Region, "region", "us-east-1", "Region")
	f.StringVar(&o.Upstream, "upstream", "", "simulator base URL")
	f.IntVar(&o.Client, "client", 0, "caller index")
	f.Int64Var(&o.Seed, "seed", 1, "seed")
	f.Float64Var(&o.RateScale, "rate-scale", 1, "the run's rate scale")
	f.StringArrayVar(&ops, "op", nil, "operation limit, Name=rate:burst (repeatable)")
	return cmd
}
