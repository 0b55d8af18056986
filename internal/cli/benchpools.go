package cli

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tollgatehq/tollgate/bench"
)

// addPoolsFlags registers the flags only the pools scenario uses on the
// bench command.
func addPoolsFlags(f *pflag.FlagSet) {
	f.String("pools", "1,2,4", "pools scenario: the pool (account) counts to run, comma-separated")
	f.Int("jobs", bench.DefaultPoolsJobs, "pools scenario: dial jobs per run")
}

// isPools reports whether the bench command runs the pools scenario (it
// runs alone: its strategy is serve's dispatcher).
func isPools(scenarios []string) bool { return slices.Contains(scenarios, bench.ScenarioPools) }

// runPools is `tollgate bench --scenario pools`.
func runPools(cmd *cobra.Command, scenarios, strategies []string, rateScale float64, seed int64, format string, progress progressFlags) error {
	if len(scenarios) > 1 {
		return usageError("--scenario: %s runs alone (its strategy is serve's dispatcher over the pools)", bench.ScenarioPools)
	}
	if len(strategies) > 0 {
		return usageError("--strategy: %s has no strategies (it runs serve's dispatcher over the pools)", bench.ScenarioPools)
	}
	f := cmd.Flags()
	poolsFlag, _ := f.GetString("pools")
	jobs, _ := f.GetInt("jobs")
	var counts []int
	for _, p := range splitList([]string{poolsFlag}) {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return usageError("--pools: %q is not a whole number", p)
		}
		counts = append(counts, n)
	}
	if !f.Changed("rate-scale") {
		rateScale = bench.DefaultPoolsRateScale
	}
	cfg := bench.PoolsConfig{Pools: counts, Jobs: jobs, RateScale: rateScale, Seed: seed}
	var (
		mu  sync.Mutex
		bar *progressbar.ProgressBar
	)
	if showBar(cmd.ErrOrStderr(), format, progress) {
		cfg.Progress = func(pools, done, total int) {
			mu.Lock()
			defer mu.Unlock()
			if done == 1 {
				if bar != nil {
					_ = bar.Finish()
				}
				bar = progressbar.NewOptions(total,
					progressbar.OptionSetWriter(cmd.ErrOrStderr()),
					progressbar.OptionSetDescription(fmt.Sprintf("%d pool(s)", pools)),
					progressbar.OptionShowCount(),
					progressbar.OptionSetWidth(30),
					progressbar.OptionThrottle(100_000_000),
					progressbar.OptionClearOnFinish(),
				)
			}
			if bar != nil {
				_ = bar.Set(done)
			}
		}
	}
	rep, err := bench.RunPools(cmd.Context(), cfg)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil && len(rep.Results) == 0 {
		if errors.Is(err, bench.ErrPoolsConfig) {
			return usageError("--%s", strings.TrimPrefix(err.Error(), bench.ErrPoolsConfig.Error()+": "))
		}
		return err
	}
	out := cmd.OutOrStdout()
	if format == "json" {
		if werr := bench.WritePoolsJSON(out, rep); werr != nil {
			return werr
		}
	} else if werr := bench.WritePools(out, rep); werr != nil {
		return werr
	}
	if err != nil {
		return &ExitError{Code: ExitPartial, Err: err}
	}
	return nil
}
