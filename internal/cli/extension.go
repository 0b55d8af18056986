package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/extension"
	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
)

func init() { register(newExtensionCmd) }

// Environment variables of `tollgate extension` (Lambda passes no flags).
const (
	envExtListen     = "TOLLGATE_EXTENSION_LISTEN"
	envExtRedis      = "TOLLGATE_REDIS_URL"
	envExtAccount    = "TOLLGATE_ACCOUNT"
	envExtShare      = "TOLLGATE_QUOTA_SHARE"
	envExtOps        = "TOLLGATE_OPERATIONS"
	envExtUpstream   = "TOLLGATE_UPSTREAM"
	envExtCampaigns  = "TOLLGATE_CAMPAIGNS_UPSTREAM"
	envExtRateScale  = "TOLLGATE_RATE_SCALE"
	envExtDeadline   = "TOLLGATE_DEADLINE"
	extensionsDir    = "/opt/extensions"
	defaultExtShare  = 0.1
	extensionCmdName = "extension"
)

// LambdaArgs returns args, or ["extension"] when the binary was started by
// Lambda as an extension (from /opt/extensions, with no arguments and
// AWS_LAMBDA_RUNTIME_API set), so the layer needs no wrapper script.
func LambdaArgs(argv0 string, args []string, getenv func(string) string) []string {
	if len(args) == 0 && getenv("AWS_LAMBDA_RUNTIME_API") != "" && filepath.Dir(argv0) == extensionsDir {
		return []string{extensionCmdName}
	}
	return args
}

// extensionFlags are the settings of `tollgate extension`.
type extensionFlags struct {
	name, listen, redisURL, account, upstream, campaigns string
	operations                                           []string
	share, rateScale                                     float64
	deadline                                             time.Duration
}

func newExtensionCmd() *cobra.Command {
	var ef extensionFlags
	cmd := &cobra.Command{
		Use:   extensionCmdName,
		Short: "Run the gateway as an AWS Lambda extension beside the function",
		Long: `Run inside a Lambda execution environment (the tollgate layer starts it
from /opt/extensions/tollgate): register with the Extensions API for INVOKE
and SHUTDOWN, serve the gateway on ` + extension.DefaultListen + `, verify the function's calls
against the function's own credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN; no keys file), re-sign them with the same credentials and
forward them to Amazon Connect. The function sets one variable:
AWS_ENDPOINT_URL_CONNECT=http://` + extension.DefaultListen + `

Budget: with ` + envExtRedis + ` every environment of every function shares the
account's buckets through Redis (` + envExtAccount + ` or the account Lambda reports);
without it each environment admits at ` + envExtShare + ` (default 0.1) of each
quota, since it cannot see the others.

On SHUTDOWN the calls in flight are drained within the platform's deadline.
At most one log line per invocation, and only when a call was not ok.

Every flag has an environment variable, since Lambda passes no arguments:
--listen ` + envExtListen + `, --redis-url ` + envExtRedis + `, --account ` + envExtAccount + `,
--quota-share ` + envExtShare + `, --operations ` + envExtOps + `, --upstream ` + envExtUpstream + `,
--campaigns-upstream ` + envExtCampaigns + `, --rate-scale ` + envExtRateScale + `, --deadline ` + envExtDeadline + `.`,
		Example: `  tollgate package lambda-layer --arch arm64 -o layer.zip   # then publish it and add it to the function
  aws lambda update-function-configuration --function-name dialer --environment 'Variables={AWS_ENDPOINT_URL_CONNECT=http://127.0.0.1:9787,TOLLGATE_REDIS_URL=rediss://cache.example:6379}'
  AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 tollgate extension --upstream http://127.0.0.1:8999   # against a local Extensions API and tollgate sim`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runExtension(cmd, ef) },
	}
	env := os.Getenv
	envFloat := func(k string, def float64) float64 {
		if v, err := strconv.ParseFloat(env(k), 64); err == nil {
			return v
		}
		return def
	}
	envDur := func(k string, def time.Duration) time.Duration {
		if v, err := time.ParseDuration(env(k)); err == nil {
			return v
		}
		return def
	}
	orEnv := func(k, def string) string {
		if v := env(k); v != "" {
			return v
		}
		return def
	}
	var ops []string
	if v := env(envExtOps); v != "" {
		ops = strings.Split(v, ",")
	}
	exe, _ := os.Executable()
	name := extension.DefaultName
	if filepath.Dir(exe) == extensionsDir {
		name = filepath.Base(exe)
	}
	f := cmd.Flags()
	f.StringVar(&ef.name, "name", name, "extension name registered with Lambda (the file name under /opt/extensions)")
	f.StringVar(&ef.listen, "listen", orEnv(envExtListen, extension.DefaultListen), "loopback address the function's SDK calls")
	f.StringVar(&ef.redisURL, "redis-url", env(envExtRedis), "share the account's buckets through this Redis (redis:// or rediss://)")
	f.StringVar(&ef.account, "account", env(envExtAccount), "AWS account id keying the shared buckets (default: the account Lambda reports)")
	f.Float64Var(&ef.share, "quota-share", envFloat(envExtShare, defaultExtShare), "without Redis: the share of each quota this environment admits (0-1]")
	f.StringSliceVar(&ef.operations, "operations", ops, "operations the function may call, comma-separated (default: all)")
	f.StringVar(&ef.upstream, "upstream", env(envExtUpstream), "Connect endpoint URL (default https://connect.<AWS_REGION>.amazonaws.com)")
	f.StringVar(&ef.campaigns, "campaigns-upstream", env(envExtCampaigns), "Outbound Campaigns endpoint URL (default: --upstream if set, else the Region's)")
	f.Float64Var(&ef.rateScale, "rate-scale", envFloat(envExtRateScale, 1), "multiply every quota (for tests against tollgate sim --rate-scale)")
	f.DurationVar(&ef.deadline, "deadline", envDur(envExtDeadline, gateway.DefaultDeadline), "time a call may wait for admission and retries (keep it under the function's timeout)")
	return cmd
}

func runExtension(cmd *cobra.Command, ef extensionFlags) error {
	ctx := cmd.Context()
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	if ef.share <= 0 || ef.share > 1 {
		return usageError("--quota-share (%s): must be in (0, 1], got %v", envExtShare, ef.share)
	}
	if ef.rateScale <= 0 {
		return usageError("--rate-scale: must be positive")
	}
	client, err := extension.NewClient(os.Getenv("AWS_LAMBDA_RUNTIME_API"), nil)
	if err != nil {
		return usageError("%v", err)
	}
	reg, err := client.Register(ctx, ef.name, extension.Invoke, extension.Shutdown)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	fail := func(kind string, err error) error {
		_ = client.InitError(context.WithoutCancel(ctx), "Extension."+kind, err)
		return &ExitError{Code: ExitUsage, Err: err}
	}
	creds := aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
	principal := reg.FunctionName
	callers, err := extension.FunctionCallers(creds, principal, ef.operations)
	if err != nil {
		return fail("ConfigInvalid", err)
	}
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = gateway.DefaultRegion
	}
	limits := config.Limits{RateScale: ef.rateScale * ef.share}
	if ef.redisURL != "" {
		account := ef.account
		if account == "" {
			account = reg.AccountID
		}
		if account == "" {
			return fail("ConfigInvalid", errors.New(envExtRedis+" is set but the account is unknown: set "+envExtAccount))
		}
		limits = config.Limits{RateScale: ef.rateScale, RedisURL: ef.redisURL, Account: account}
	}
	adm, err := app.NewAdmission(app.AdmissionOptions{Limits: limits, Region: region})
	if err != nil {
		return fail("ConfigInvalid", err)
	}
	defer adm.Close()
	gw, err := gateway.New(gateway.Options{
		Region: region, Upstream: ef.upstream, CampaignsUpstream: ef.campaigns,
		Credentials: credentials.StaticCredentialsProvider{Value: creds},
		Governor:    adm.NewGovernor(governor.Options{MaxAttempts: -1}),
		Callers:     callers, Deadline: ef.deadline,
	})
	if err != nil {
		return fail("ConfigInvalid", err)
	}
	st, err := extension.Run(ctx, extension.Options{
		Client: client, Handler: extension.Guard(creds.SessionToken, gw), Listen: ef.listen, Logger: log,
	})
	if err != nil {
		_ = client.ExitError(context.WithoutCancel(ctx), "Extension.Exit", err)
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("extension: %w (after %d invocations)", err, st.Invocations)}
	}
	return nil
}
