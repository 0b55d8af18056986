package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/redisx"
)

func init() { register(newServeCmd) }

func newServeCmd() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the durable job queue and dispatcher behind a JSON HTTP API",
		Long: `Serve the job API on 127.0.0.1 (by default) and deliver the queued jobs to
Amazon Connect at the rate its quotas allow: leases with a visibility timeout,
idempotency tokens kept across redeliveries, requeues for throttles and full
concurrency quotas, a dead-letter queue with reasons, Prometheus /metrics.

The upstream is real Amazon Connect through the default AWS credential chain,
or any endpoint (--endpoint, e.g. a tollgate sim). The queue is embedded in
--data-dir, or Amazon SQS (--queue sqs --sqs-queue-url …).

Calls are paced by token buckets seeded from the quota table. --adaptive
(limits.adaptive) lets each operation's rate follow the share of the quota
actually left for this process, learned from throttles. --redis-url
(limits.redis_url: redis://[user:password@]host:port[/db], or rediss:// for
TLS, e.g. ElastiCache) shares the buckets with every server of the same
--account and Region pointed at that Redis, and with --adaptive the learner
too, so the fleet learns as one client; it requires --account, falls back to
local buckets while Redis is unreachable, refuses to start when Redis rejects
the password, and never logs the password.

Several accounts (quota pools): the pools section of --config (file only;
see examples/serve-pools.yaml) delivers the one queue across accounts and
instances by headroom, each pool with its own credentials (profile, a role
assumed through STS at start, an access key with its secret in an
environment variable, or the default chain), buckets, quota file and IDs for
the same logical names. A job whose outcome is unknown stays pinned to its
pool; a failing pool leaves the rotation until a probe succeeds
(tollgate_pool_healthy{pool} == 0 is the alarm). Pools need the embedded
queue.

The API binds 127.0.0.1:8787. --tls-cert and --tls-key serve it over HTTPS;
a --listen address that is not loopback is refused without them unless
--insecure-listen accepts sending the token in cleartext (e.g. behind a
TLS-terminating proxy).

Settings come from the defaults, then --config (YAML), then TOLLGATE_*
variables, then flags. The API token is TOLLGATE_TOKEN (or "token" in the
file), or is generated on first start into <data-dir>/token (mode 0600).
SIGINT or SIGTERM stops leasing, lets calls in flight finish for
--shutdown-grace, releases the rest to the queue and exits.`,
		Example: `  tollgate serve --data-dir /var/lib/tollgate --region eu-west-2
  tollgate serve --endpoint http://127.0.0.1:8999 --rate-scale 10     # against tollgate sim --rate-scale 10
  tollgate serve --queue sqs --sqs-queue-url https://sqs.eu-west-2.amazonaws.com/123456789012/dialer
  tollgate serve --region eu-west-2 --account 123456789012 --redis-url rediss://my-cache.example:6379
  tollgate serve --region eu-west-2 --listen 0.0.0.0:8787 --tls-cert serve.crt --tls-key serve.key
  tollgate serve --config examples/serve-pools.yaml     # two accounts: against tollgate sim --accounts 2
  tollgate serve --endpoint http://127.0.0.1:8999 --poll-instance c0ffee00-0000-4000-8000-000000000001 --poll-queues c0ffee00-0000-4000-8000-0000000000a1   # dashboard at /`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				configPath = os.Getenv("TOLLGATE_CONFIG")
			}
			cfg, err := config.Load(config.Sources{File: configPath, LookupEnv: os.LookupEnv, Flags: cmd.Flags()})
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			log := newLogger(cmd.ErrOrStderr(), cfg)
			if cfg.Limits.RedisURL != "" {
				redisx.LogRedisClient(log) // go-redis's own lines, at debug level
			}
			srv, err := server.New(cmd.Context(), cfg, app.Options{Logger: log})
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			out := cmd.OutOrStdout()
			err = srv.Run(cmd.Context(), func(url string) {
				where := "from the configuration"
				if cfg.Token == "" {
					where = "in " + filepath.Join(cfg.DataDir, server.TokenFile)
				}
				fmt.Fprintf(out, "tollgate serve: listening on %s (API token %s)\n", url, where)
			})
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "YAML configuration file [TOLLGATE_CONFIG]")
	config.RegisterFlags(f)
	return cmd
}

func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	ho := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}
