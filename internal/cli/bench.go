package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/bench"
)

func init() { register(newBenchCmd) }

func newBenchCmd() *cobra.Command {
	var (
		scenarios, strategies []string
		rateScale, size       float64
		clients               int
		seed                  int64
		format, chartPath     string
		quiet                 bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure retry and admission strategies side by side against the Connect simulator",
		Long: `Run scenarios × strategies against a fresh in-process Connect simulator over
real HTTP on 127.0.0.1, every strategy driving the real aws-sdk-go-v2 connect
client, and report completion time ÷ lower bound, goodput ÷ quota, 429s and
HTTP calls per success, p50/p99 time per call (waits included), calls that
gave up, fairness across callers, and for quota-change the time to reach 95%
of the raised quota.

Scenarios: ` + strings.Join(bench.ScenarioNames(), ", ") + `
Strategies: ` + strings.Join(bench.Strategies(), ", ") + `

--rate-scale multiplies every quota (bursts unchanged), so a run takes
1/scale of the time; the charts and the quota-change timing are in unscaled
seconds. The SDK's own time constants (1 s throttle backoff, CUBIC) cannot be
scaled, so at a scale above 1 they back off for relatively longer than they
would against the real quotas.`,
		Example: `  tollgate bench
  tollgate bench --scenario burst,fleet --strategy tollgate,sdk-adaptive --chart bench.html
  tollgate bench --format json --rate-scale 20 > bench.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return usageError("--format: must be table or json, got %q", format)
			}
			if isShiftChange(splitList(scenarios)) { // benchshift.go
				return runShiftChange(cmd, splitList(scenarios), splitList(strategies), rateScale, seed, format)
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
			var (
				mu  sync.Mutex
				bar *progressbar.ProgressBar
			)
			if !quiet {
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
	f.StringVar(&format, "format", "table", "output format: table or json")
	f.StringVar(&chartPath, "chart", "", "write a chart of accepted vs throttled per second (.png, or self-contained .html)")
	f.BoolVar(&quiet, "quiet", false, "no progress bar")
	addShiftChangeFlags(f) // benchshift.go
	return cmd
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
