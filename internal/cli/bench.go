package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/bench"
	"github.com/tollgatehq/tollgate/internal/redisproc"
)

func init() { register(newBenchCmd) }

func newBenchCmd() *cobra.Command {
	var (
		scenarios, strategies []string
		rateScale, size       float64
		clients               int
		seed                  int64
		format, chartPath     string
		redisURL              string
		inline                bool
		progress              progressFlags
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure retry and admission strategies side by side against the Connect simulator",
		Long: `Run scenarios × strategies against a fresh in-process Connect simulator over
real HTTP on 127.0.0.1, every strategy driving the real aws-sdk-go-v2 connect
client, and report completion time ÷ lower bound, goodput ÷ ideal, 429s and
HTTP calls per success, p50/p99 time per call (waits included), calls that
gave up, fairness across callers, and for quota-change the time to reach 95%
of the raised quota. The lower bound is the least time in which any strategy
could have ended the calls that succeeded, given the arrival schedule, the
bucket (burst, rate, quota changes), the neighbour's takes during the work
and the callers' workers: the ratio is never below 1.

--chart writes .png (one image) or .html (the whole table, then one section
per scenario with a panel per strategy on a shared scale, the quota drawn,
spikes above the scenario's 98th percentile clipped and labelled).

Scenarios: ` + strings.Join(bench.ScenarioNames(), ", ") + `
Strategies: ` + strings.Join(bench.Strategies(), ", ") + `

--rate-scale multiplies every quota (bursts unchanged), so a run takes
1/scale of the time; the charts and the quota-change timing are in unscaled
seconds. The SDK's own time constants (1 s throttle backoff, CUBIC) cannot be
scaled, so at a scale above 1 they back off for relatively longer than they
would against the real quotas.

The tollgate strategy builds each caller's limiter, learner and governor
exactly as tollgate serve --adaptive does (package internal/app).
tollgate-redis shares the buckets through the Redis at --redis-url (or
TOLLGATE_BENCH_REDIS_URL), each run under a fresh account; with neither,
bench starts a redis-server from PATH on a free loopback port for the
duration of the command. Each of its callers is a separate process.

--scenario pools runs alone: 1,000 StartOutboundVoiceContact jobs (--jobs)
delivered by serve's own dispatcher over 1, 2 and 4 quota pools (--pools),
each an account of one simulator with its own instance and buckets, against
the N-pool lower bound (jobs - N x bucket) / (N x rate); it also reports the
contacts started summed over the accounts (equal to the jobs that succeeded
when no customer was called twice). Its default rate scale is 10.

The progress bar is drawn on standard error only when it is a terminal and
the format is not json (--progress forces it, --quiet hides it).`,
		Example: `  tollgate bench
  tollgate bench --scenario burst,fleet --strategy tollgate,sdk-adaptive --chart bench.html
  tollgate bench --format json --rate-scale 20 > bench.json
  tollgate bench --scenario pools --pools 1,2,4 --jobs 1000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "text", "table":
				format = "text"
			case "json":
			default:
				return usageError("--format: must be text or json, got %q", format)
			}
			if isShiftChange(splitList(scenarios)) { // benchshift.go
				return runShiftChange(cmd, splitList(scenarios), splitList(strategies), rateScale, seed, format)
			}
			if isPools(splitList(scenarios)) { // benchpools.go
				return runPools(cmd, splitList(scenarios), splitList(strategies), rateScale, seed, format, progress)
			}
			if chartPath != "" {
				switch strings.ToLower(filepath.Ext(chartPath)) {
				case ".png", ".html", ".htm":
				default:
					return usageError("--chart: the file must end in .png or .html, got %q", chartPath)
				}
			}
			cfg := bench.Config{
				Scenarios: splitList(scenarios), Strategies: splitList(strategies),
				RateScale: rateScale, Clients: clients, Seed: seed, Size: size,
			}
			if err := cfg.Validate(); err != nil {
				return usageError("%v", err)
			}
			if usesRedis(cfg.Strategies) {
				url, stop, err := benchRedis(redisURL)
				if err != nil {
					return &ExitError{Code: ExitFailure, Err: err}
				}
				defer stop()
				cfg.RedisURL = url
				if !inline {
					cfg.RedisWorker = redisWorkerCommand()
				}
			}
			var (
				mu  sync.Mutex
				bar *progressbar.ProgressBar
			)
			if showBar(cmd.ErrOrStderr(), format, progress) {
				cfg.Progress = func(total, done int) {
					mu.Lock()
					defer mu.Unlock()
					if bar == nil {
						bar = progressbar.NewOptions(total,
							progressbar.OptionSetWriter(cmd.ErrOrStderr()),
							progressbar.OptionSetDescription("bench"),
							progressbar.OptionShowCount(),
							progressbar.OptionSetWidth(30),
							progressbar.OptionThrottle(100_000_000),
							progressbar.OptionClearOnFinish(),
						)
						return
					}
					_ = bar.Add(done)
				}
			}
			results, err := bench.Run(cmd.Context(), cfg)
			if bar != nil {
				_ = bar.Finish()
			}
			if err != nil && len(results) == 0 {
				return err
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				if werr := bench.WriteJSON(out, results, false); werr != nil {
					return werr
				}
			} else {
				if werr := bench.WriteTable(out, results); werr != nil {
					return werr
				}
				fmt.Fprint(out, "\n"+bench.Summary(results))
			}
			if chartPath != "" && len(results) > 0 {
				if werr := writeChart(chartPath, results); werr != nil {
					return werr
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "chart written to %s\n", chartPath)
			}
			if err != nil {
				return &ExitError{Code: ExitPartial, Err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&scenarios, "scenario", nil, "scenarios to run, comma-separated (default all)")
	f.StringSliceVar(&strategies, "strategy", nil, "strategies to run, comma-separated (default all)")
	f.Float64Var(&rateScale, "rate-scale", bench.DefaultRateScale, "multiply every quota rate (a run takes 1/scale of the time)")
	f.IntVar(&clients, "clients", bench.DefaultClients, "callers in the fleet scenario")
	f.Int64Var(&seed, "seed", bench.DefaultSeed, "seed for the simulator, the strategies and the neighbour")
	f.Float64Var(&size, "size", 1, "multiply every scenario's number of calls")
	f.StringVar(&format, "format", "text", "output format: text or json")
	f.StringVar(&chartPath, "chart", "", "write a chart of accepted vs throttled per second (.png, or self-contained .html)")
	f.StringVar(&redisURL, "redis-url", "", "Redis for the tollgate-redis strategy [TOLLGATE_BENCH_REDIS_URL] (default: start a redis-server from PATH)")
	f.BoolVar(&inline, "redis-inline", false, "run the tollgate-redis callers in this process instead of one process each")
	_ = f.MarkHidden("redis-inline")
	progress.register(f)
	addShiftChangeFlags(f) // benchshift.go
	addPoolsFlags(f)       // benchpools.go
	cmd.AddCommand(newBenchDashboardsCmd())
	return cmd
}

// usesRedis reports whether the strategies (empty: all) include
// tollgate-redis.
func usesRedis(strategies []string) bool {
	if len(strategies) == 0 {
		strategies = bench.Strategies()
	}
	return slices.Contains(strategies, bench.StrategyTollgateRedis)
}

// benchRedis returns the Redis URL of the tollgate-redis strategy: the
// flag's, else TOLLGATE_BENCH_REDIS_URL, else a redis-server started from
// PATH for this command (stop kills it).
func benchRedis(flag string) (url string, stop func(), err error) {
	if flag == "" {
		flag = os.Getenv(bench.RedisURLEnv)
	}
	if flag != "" {
		return flag, func() {}, nil
	}
	srv, err := redisproc.Launch(redisproc.Options{}, "")
	if err != nil {
		if errors.Is(err, redisproc.ErrNotFound) {
			return "", nil, fmt.Errorf("the %s strategy needs a Redis: give --redis-url or %s, or install redis-server: %w",
				bench.StrategyTollgateRedis, bench.RedisURLEnv, err)
		}
		return "", nil, fmt.Errorf("%s: starting redis-server: %w", bench.StrategyTollgateRedis, err)
	}
	return srv.URL(), srv.Close, nil
}

// redisWorkerCommand is this binary's bench-redis-worker subcommand, or
// nil (callers in-process) when the executable cannot be found.
func redisWorkerCommand() []string {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	return []string{exe, benchRedisWorkerCmd}
}

// splitList trims the entries of a comma list and drops empty ones.
func splitList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func writeChart(path string, results []bench.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--chart: %w", err)
	}
	if strings.EqualFold(filepath.Ext(path), ".png") {
		err = bench.WritePNG(f, results)
	} else {
		err = bench.WriteHTML(f, results)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--chart %s: %w", path, err)
	}
	return nil
}
