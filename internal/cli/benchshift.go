package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tollgatehq/tollgate/bench"
	"github.com/tollgatehq/tollgate/stagger"
)

// addShiftChangeFlags registers the flags only the shift-change scenario
// uses on the bench command.
func addShiftChangeFlags(f *pflag.FlagSet) {
	f.Int("agents", 200, "agents of the shift-change scenario")
	f.String("calls", "GetCurrentUserData,ListUsers,DescribeUser", "start-up calls of the shift-change scenario: Op[:count], comma-separated")
	f.Float64("share", 1, "shift-change: part of each start-up operation's quota left for start-ups, in (0, 1]")
}

// isShiftChange reports whether the bench command runs the shift-change
// scenario (it runs alone: its strategies are start-up schedules).
func isShiftChange(scenarios []string) bool {
	return slices.Contains(scenarios, bench.ScenarioShiftChange)
}

// runShiftChange is `tollgate bench --scenario shift-change`.
func runShiftChange(cmd *cobra.Command, scenarios, strategies []string, rateScale float64, seed int64, format string) error {
	if len(scenarios) > 1 {
		return usageError("--scenario: %s runs alone (its strategies are start-up schedules: %v)", bench.ScenarioShiftChange, stagger.Strategies())
	}
	f := cmd.Flags()
	agents, _ := f.GetInt("agents")
	callsFlag, _ := f.GetString("calls")
	share, _ := f.GetFloat64("share")
	if agents <= 0 {
		return usageError("--agents: must be > 0, got %d", agents)
	}
	if !(share > 0 && share <= 1) {
		return usageError("--share: must be in (0, 1], got %v", share)
	}
	calls, err := stagger.ParseCalls(callsFlag)
	if err != nil {
		return usageError("--%v", err)
	}
	for _, s := range strategies {
		if !slices.Contains(stagger.Strategies(), s) {
			return usageError("--strategy: %s has no strategy %q (have %v)", bench.ScenarioShiftChange, s, stagger.Strategies())
		}
	}
	if !(rateScale > 0) {
		return usageError("--rate-scale: must be > 0, got %v", rateScale)
	}
	rep, err := bench.RunShiftChange(cmd.Context(), bench.ShiftChangeConfig{
		Agents: agents, Strategies: strategies, Calls: calls, Share: share, RateScale: rateScale, Seed: seed,
	})
	if err != nil && len(rep.Results) == 0 {
		var fe *stagger.FieldError
		if errors.As(err, &fe) {
			return usageError("--%v", fe)
		}
		if errors.Is(err, bench.ErrShiftChangeConfig) {
			return usageError("--%s", strings.TrimPrefix(err.Error(), bench.ErrShiftChangeConfig.Error()+": "))
		}
		return err
	}
	out := cmd.OutOrStdout()
	if format == "json" {
		if werr := bench.WriteShiftChangeJSON(out, rep); werr != nil {
			return werr
		}
	} else if werr := bench.WriteShiftChange(out, rep); werr != nil {
		return werr
	}
	if err != nil {
		return &ExitError{Code: ExitPartial, Err: fmt.Errorf("%w", err)}
	}
	return nil
}
