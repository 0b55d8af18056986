package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/sim"
)

func init() { register(newGatewayCmd) }

// gatewayFlags are the flags of `tollgate gateway`.
type gatewayFlags struct {
	listen, region, upstream, campaigns, callers, redisURL, account, tlsCert, tlsKey, dataDir string
	maxBody                                                                                   int64
	deadline                                                                                  time.Duration
	rateScale                                                                                 float64
	quotaFlags                                                                                []string
	quiet                                                                                     bool
}

func newGatewayCmd() *cobra.Command {
	var gf gatewayFlags
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Govern Python, Node and CLI callers: a SigV4-verifying, re-signing Amazon Connect endpoint",
		Long: `Run a local Amazon Connect endpoint that callers point their SDK at (boto3
endpoint_url=, JavaScript SDK endpoint:, aws --endpoint-url). Each request's
SigV4 signature is checked against callers.yaml (access key, secret or
secret_env, principal, operations, priority, share); the operation is admitted
through Tollgate's buckets (in memory, or shared through Redis with
--redis-url), re-signed with the gateway's own AWS credentials (the default
chain: environment, profile, role) and forwarded to the Region's Connect
endpoint (Outbound Campaigns requests to theirs). Upstream throttles are
retried inside the caller's deadline (10 s, or the X-Tollgate-Deadline
header); every response carries X-Tollgate-Class.

GET /metrics (Prometheus, per caller × operation) and GET /_tollgate/state
(the same as JSON, which serve's dashboard shows with --gateway-url) need
the bearer token, as serve's /metrics does, and it is serve's token:
TOLLGATE_TOKEN, else <data-dir>/token (generated there, mode 0600, when
missing). Run serve and the gateway with the same --data-dir (or the same
TOLLGATE_TOKEN) and serve can read the gateway's state.

It binds loopback only, unless --tls-cert and --tls-key are given. A
callers.yaml that holds a secret: must not be readable by group or others.`,
		Example: `  tollgate gateway --callers callers.yaml
  tollgate gateway --listen 127.0.0.1:8443 --region eu-west-2 --callers callers.yaml --redis-url redis://127.0.0.1:6379 --account 123456789012
  tollgate gateway --listen 0.0.0.0:8443 --tls-cert gw.crt --tls-key gw.key --callers /etc/tollgate/callers.yaml
  tollgate gateway --upstream http://127.0.0.1:8999 --callers callers.yaml   # in front of tollgate sim
  curl -H "Authorization: Bearer $(cat tollgate-data/token)" http://127.0.0.1:8443/metrics`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runGateway(cmd, gf) },
	}
	f := cmd.Flags()
	f.StringVar(&gf.listen, "listen", "127.0.0.1:8443", "listen address; anything but loopback needs --tls-cert and --tls-key")
	f.StringVar(&gf.region, "region", "", "AWS Region served and signed for (default: the AWS configuration's, else us-east-1)")
	f.StringVar(&gf.upstream, "upstream", "", "Connect endpoint URL (default https://connect.<region>.amazonaws.com)")
	f.StringVar(&gf.campaigns, "campaigns-upstream", "", "Outbound Campaigns endpoint URL (default: --upstream if set, else https://connect-campaigns.<region>.amazonaws.com)")
	f.StringVar(&gf.callers, "callers", "callers.yaml", "callers file: who may sign requests and what they may call")
	f.StringVar(&gf.redisURL, "redis-url", "", "share the buckets with every gateway and Tollgate process on this Redis (redis:// or rediss://)")
	f.StringVar(&gf.account, "account", "", "AWS account id whose buckets are shared (required with --redis-url)")
	f.StringVar(&gf.tlsCert, "tls-cert", "", "TLS certificate file (PEM)")
	f.StringVar(&gf.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	f.Int64Var(&gf.maxBody, "max-body", gateway.DefaultMaxBodyBytes, "largest request body accepted, in bytes")
	f.DurationVar(&gf.deadline, "deadline", gateway.DefaultDeadline, "default time a request may spend waiting for admission and retries")
	f.Float64Var(&gf.rateScale, "rate-scale", 1, "multiply every quota of the table (for tests against tollgate sim --rate-scale)")
	f.StringArrayVar(&gf.quotaFlags, "quota", nil, "OP=RATE:BURST bucket override (repeatable; scaled by --rate-scale like the table, as tollgate sim does), e.g. ListQueues=1:1")
	f.StringVar(&gf.dataDir, "data-dir", config.DefaultDataDir, "directory of the token of /metrics and /_tollgate/state (serve's: TOLLGATE_TOKEN overrides it)")
	f.BoolVar(&gf.quiet, "quiet", false, "print only the listening URL")
	return cmd
}

func runGateway(cmd *cobra.Command, gf gatewayFlags) error {
	ctx := cmd.Context()
	useTLS := gf.tlsCert != "" || gf.tlsKey != ""
	if useTLS && (gf.tlsCert == "" || gf.tlsKey == "") {
		return usageError("--tls-cert and --tls-key go together")
	}
	if !useTLS && !config.LoopbackAddr(gf.listen) {
		return usageError("--listen %s: not a loopback address; without --tls-cert/--tls-key the gateway binds loopback only", gf.listen)
	}
	if gf.redisURL != "" && gf.account == "" {
		return usageError("--account: required with --redis-url (the AWS account whose buckets are shared)")
	}
	if gf.rateScale <= 0 {
		return usageError("--rate-scale: must be positive")
	}
	callers, err := gateway.LoadCallers(gf.callers, os.Getenv)
	if err != nil {
		return usageError("--callers: %v", err)
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	// The token of /metrics and the state: serve's, by the same rule.
	token, _, err := server.LoadToken(os.Getenv("TOLLGATE_TOKEN"), gf.dataDir)
	if err != nil {
		return usageError("--data-dir: %v", err)
	}
	var opts []func(*awsconfig.LoadOptions) error
	if gf.region != "" {
		opts = append(opts, awsconfig.WithRegion(gf.region))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("gateway: loading the AWS configuration: %w", err)}
	}
	awsCfg.HTTPClient = awssdk.HTTPClient(awsCfg.HTTPClient)
	region := awsCfg.Region
	if region == "" {
		region = gateway.DefaultRegion
	}
	// One parser for OP=RATE:BURST overrides (the simulator's), one place
	// that builds admission (internal/app): the gateway admits exactly as
	// serve does.
	var over sim.QuotaOverrides
	for _, q := range gf.quotaFlags {
		if err := over.Set(q); err != nil {
			return usageError("--quota: %v", err)
		}
	}
	table := quotas.Default()
	for op, qc := range over {
		a, _ := table.API(op)
		a.Op, a.Rate, a.Burst = op, qc.Rate, qc.Burst
		if err := table.SetAPI(a); err != nil {
			return usageError("--quota %s: %v", op, err)
		}
	}
	adm, err := app.NewAdmission(app.AdmissionOptions{
		Limits: config.Limits{RateScale: gf.rateScale, RedisURL: gf.redisURL, Account: gf.account},
		Table:  table,
		Region: region,
		Logger: log,
	})
	if err != nil {
		return usageError("%v", err)
	}
	defer adm.Close()
	gw, err := gateway.New(gateway.Options{
		Region: region, Upstream: gf.upstream, CampaignsUpstream: gf.campaigns,
		Credentials: awsCfg.Credentials,
		Governor:    adm.NewGovernor(governor.Options{MaxAttempts: -1}),
		Callers:     callers, MaxBodyBytes: gf.maxBody, Deadline: gf.deadline, Logger: log,
		Token: token,
	})
	if err != nil {
		return usageError("%v", err)
	}
	return serveGateway(ctx, cmd, gf, gw, useTLS)
}

// serveGateway listens and serves until ctx ends, then shuts down.
func serveGateway(ctx context.Context, cmd *cobra.Command, gf gatewayFlags, h http.Handler, useTLS bool) error {
	ln, err := net.Listen("tcp", gf.listen)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("gateway: %w", err)}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	scheme := "http"
	if useTLS {
		cert, err := tls.LoadX509KeyPair(gf.tlsCert, gf.tlsKey)
		if err != nil {
			_ = ln.Close()
			return usageError("--tls-cert/--tls-key: %v", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()
	if gf.quiet {
		fmt.Fprintln(cmd.OutOrStdout(), url)
	} else {
		fmt.Fprintf(cmd.OutOrStdout(), "tollgate gateway: listening on %s\n  boto3:  boto3.client(\"connect\", endpoint_url=%q, aws_access_key_id=..., aws_secret_access_key=...)\n  JS v3:  new ConnectClient({ endpoint: %q, credentials: {...} })\n  metrics: %s/metrics and state: %s%s (Authorization: Bearer <token from TOLLGATE_TOKEN or %s>)\n", url, url, url, url, url, gateway.StatePath, filepath.Join(gf.dataDir, server.TokenFile))
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("gateway: %w", err)}
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("gateway: %w", err)}
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "tollgate gateway: stopped")
	return nil
}
