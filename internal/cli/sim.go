package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/sim"
)

func init() { register(newSimCmd) }

func newSimCmd() *cobra.Command {
	var (
		configPath, seedFile, quotaFile, addr, adminToken, callLimit string
		rateScale, accountRate                                       float64
		accountBurst                                                 int
		seed                                                         int64
		retryAfter, quiet                                            bool
		metricDrift                                                  time.Duration
		accessKeys, quotaFlags, refuse                               []string
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run a local Amazon Connect that speaks the real wire protocol and throttles like AWS",
		Long: `Run the Amazon Connect simulator: restJson1 for the Connect operations Tollgate
uses plus Outbound Campaigns PutDialRequestBatch, per-operation token buckets
from the quota table, stateful quotas (instances, users, phone numbers,
concurrent calls, chats and tasks), ClientToken idempotency, faults on demand,
statistics at /_sim/stats and Prometheus metrics at /metrics.

It serves until SIGINT or SIGTERM. Flags override the configuration file.`,
		Example: `  tollgate sim
  tollgate sim --addr 127.0.0.1:0 --rate-scale 10 --quota ListQueues=1:1
  tollgate sim --config sim.yaml --seed-file state.yaml --access-key AKIDEXAMPLE=secret`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := &sim.Config{}
			if configPath != "" {
				c, err := sim.LoadConfig(configPath)
				if err != nil {
					return usageError("--config: %v", err)
				}
				cfg = c
			}
			f := cmd.Flags()
			if f.Changed("addr") || cfg.Addr == "" {
				cfg.Addr = addr
			}
			if f.Changed("seed-file") {
				cfg.SeedFile, cfg.State = seedFile, nil
			}
			if f.Changed("quota-file") {
				cfg.QuotaFile = quotaFile
			}
			if f.Changed("rate-scale") {
				cfg.RateScale = rateScale
			}
			if f.Changed("seed") {
				cfg.Seed = seed
			}
			if f.Changed("retry-after") {
				cfg.RetryAfter = retryAfter
			}
			if f.Changed("call-limit") {
				cfg.CallLimit = callLimit
			}
			if f.Changed("admin-token") {
				cfg.AdminToken = adminToken
			}
			if f.Changed("account-rate") {
				cfg.AccountRate = accountRate
			}
			if f.Changed("account-burst") {
				cfg.AccountBurst = accountBurst
			}
			if f.Changed("refuse-prefix") {
				cfg.RefusedDestinationPrefixes = refuse
			}
			for _, kv := range accessKeys {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" || v == "" {
					return usageError("--access-key: want ACCESS_KEY=SECRET, got %q", kv)
				}
				if cfg.Credentials == nil {
					cfg.Credentials = map[string]string{}
				}
				cfg.Credentials[k] = v
			}
			for _, q := range quotaFlags {
				op, qc, err := parseQuotaFlag(q)
				if err != nil {
					return usageError("--quota: %v", err)
				}
				if cfg.Quotas == nil {
					cfg.Quotas = map[string]sim.QuotaConfig{}
				}
				cfg.Quotas[op] = qc
			}
			opts, err := cfg.Options()
			if err != nil {
				return usageError("%v", err)
			}
			opts.MetricDrift = metricDrift
			s, err := sim.New(opts)
			if err != nil {
				return usageError("%v", err)
			}
			out := cmd.OutOrStdout()
			err = sim.ListenAndServe(cmd.Context(), cfg.Addr, s, func(url string) {
				if quiet {
					fmt.Fprintf(out, "tollgate sim: listening on %s\n", url)
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
	f.StringVar(&addr, "addr", sim.DefaultAddr, "listen address (host:port; port 0 picks a free port)")
	f.StringVar(&seedFile, "seed-file", "", "state file (YAML or JSON): instances, queues, flows, users, phone numbers, campaigns")
	f.StringVar(&quotaFile, "quota-file", "", "quota overrides in the quotafile format (the same file the library reads)")
	f.Float64Var(&rateScale, "rate-scale", 1, "multiply every API rate and burst (e.g. 10 for fast tests)")
	f.Int64Var(&seed, "seed", 0, "seed for ids, contact durations and faults")
	f.BoolVar(&retryAfter, "retry-after", false, "add x-amz-retry-after (ms) to rate throttles")
	f.StringVar(&callLimit, "call-limit", sim.CallLimitReorder, "beyond concurrent active calls: reorder (200, like AWS) or error (429 LimitExceededException)")
	f.StringVar(&adminToken, "admin-token", "", "bearer token for /_sim/ and /metrics (generated when --access-key is set)")
	f.Float64Var(&accountRate, "account-rate", 0, "optional account-wide ceiling across all operations (requests/s)")
	f.IntVar(&accountBurst, "account-burst", 0, "burst of the account-wide ceiling")
	f.StringArrayVar(&accessKeys, "access-key", nil, "ACCESS_KEY=SECRET to verify SigV4 (repeatable); none: any credentials are accepted")
	f.StringArrayVar(&quotaFlags, "quota", nil, "OP=RATE:BURST[:CODE] bucket override (repeatable), e.g. ListQueues=1:1")
	f.StringArrayVar(&refuse, "refuse-prefix", nil, "destination prefix StartOutboundVoiceContact refuses (repeatable; default +1555000)")
	f.BoolVar(&quiet, "quiet", false, "print only the listening URL")
	f.DurationVar(&metricDrift, "metric-drift", 2*time.Second, "move the real-time metrics (seeded background traffic) every this long; 0 keeps them still")
	return cmd
}

// parseQuotaFlag parses OP=RATE:BURST[:CODE].
func parseQuotaFlag(s string) (string, sim.QuotaConfig, error) {
	op, spec, ok := strings.Cut(s, "=")
	if !ok || op == "" {
		return "", sim.QuotaConfig{}, fmt.Errorf("want OP=RATE:BURST[:CODE], got %q", s)
	}
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return "", sim.QuotaConfig{}, fmt.Errorf("%s: want RATE:BURST[:CODE], got %q", op, spec)
	}
	rate, err := strconv.ParseFloat(parts[0], 64)
	if err != nil || rate <= 0 {
		return "", sim.QuotaConfig{}, fmt.Errorf("%s: rate must be a number > 0, got %q", op, parts[0])
	}
	burst, err := strconv.Atoi(parts[1])
	if err != nil || burst < 1 {
		return "", sim.QuotaConfig{}, fmt.Errorf("%s: burst must be an integer >= 1, got %q", op, parts[1])
	}
	qc := sim.QuotaConfig{Rate: rate, Burst: burst}
	if len(parts) == 3 {
		qc.Code = parts[2]
	}
	return op, qc, nil
}
