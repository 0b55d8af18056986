package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/audit"
	"github.com/tollgatehq/tollgate/audit/collect"
	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/quotas/quotafile"
	"github.com/tollgatehq/tollgate/usage"
)

func init() { register(newAuditCmd) }

func newAuditCmd() *cobra.Command {
	var (
		region, instanceID, endpoint, format, fixPlan, quotaFile string
		printPolicy, appliedQuotas                               bool
		concurrency                                              int
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check the account's Lambda/SQS/EventBridge/Connect/CloudTrail set-up against the throttling checklist",
		Long: `Audit reads the account (read-only) and checks how the Lambda functions that call
Amazon Connect are wired: the SQS queues in front of them (dead-letter queue,
visibility timeout ≥ 6× the function timeout), their event source mappings
(MaximumConcurrency set and sized to the operation's quota), asynchronous
invocation (on-failure destination, bounded retries and event age), scheduled
pollers (no faster than the quota allows), the Connect instance's contact flow
logs and a CloudTrail trail recording management events.

A function counts as a Connect caller when its execution role may call a
Connect operation (wildcards resolved against the quota table) or it carries
the tag tollgate:audit=true. Sizing reads the tags tollgate:operations
(e.g. StartOutboundVoiceContact) and tollgate:calls-per-invocation; without
them the finding says what was assumed.

Every finding has an id, a severity, the reason, the evidence and the fix as
exact aws CLI commands plus the CloudFormation and Terraform property.
--fix-plan writes those commands as a shell script to review; audit itself
never changes the account. Every call goes through Tollgate's governor with
the quotas of its service.

Endpoints: the SDK's AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> apply
(e.g. AWS_ENDPOINT_URL_CONNECT); --endpoint points every client at one URL.

Exit status: 0 no high-severity finding; 1 a high-severity finding remains;
2 bad flags or configuration (unknown Region, no credentials, unreachable
endpoint); 3 no high-severity finding but some checks could not run (each is
an AUDIT_INCOMPLETE finding naming the IAM action it needs).`,
		Example: `  tollgate audit --print-policy
  tollgate audit --region us-east-1
  tollgate audit --region us-east-1 --instance-id 11111111-2222-3333-4444-555555555555 --format md
  tollgate audit --format json --fix-plan fixes.sh
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_ENDPOINT_URL_CONNECT=http://127.0.0.1:8999 tollgate audit --region us-east-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if printPolicy {
				_, err := io.WriteString(cmd.OutOrStdout(), collect.ReadOnlyPolicy())
				return err
			}
			switch format {
			case audit.FormatText, audit.FormatJSON, audit.FormatMarkdown:
			default:
				return usageError("--format %q: must be text, json or md", format)
			}
			table := quotas.Default()
			if quotaFile != "" {
				ov, err := quotafile.Load(quotaFile)
				if err != nil {
					return usageError("--quota-file: %v", err)
				}
				if err := table.Apply(ov, "", region); err != nil {
					return usageError("--quota-file: %v", err)
				}
			}
			rep, err := runAudit(cmd.Context(), auditArgs{region: region, endpoint: endpoint, instanceID: instanceID, concurrency: concurrency, table: table, applied: appliedQuotas, warn: cmd.ErrOrStderr()})
			if err != nil {
				if errors.Is(err, collect.ErrRegion) || errors.Is(err, collect.ErrCredentials) || errors.Is(err, collect.ErrUnreachable) {
					return &ExitError{Code: ExitUsage, Err: err}
				}
				return err
			}
			if err := audit.Render(cmd.OutOrStdout(), rep, format); err != nil {
				return err
			}
			if fixPlan != "" {
				if err := writePlanFile(fixPlan, rep); err != nil {
					return err
				}
				if format == audit.FormatText {
					fmt.Fprintf(cmd.ErrOrStderr(), "fix plan written to %s: review it, then run sh %s\n", fixPlan, fixPlan)
				}
			}
			switch {
			case rep.HighCount() > 0:
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d high-severity finding(s)", rep.HighCount())}
			case rep.Partial:
				return &ExitError{Code: ExitPartial, Err: errors.New("partial audit: some checks could not run (AUDIT_INCOMPLETE findings); the rest was audited")}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&region, "region", "", "AWS Region (default: AWS_REGION or the shared config)")
	f.StringVar(&instanceID, "instance-id", "", "check this Connect instance only (default: every instance ListInstances returns)")
	f.StringVar(&endpoint, "endpoint", "", "send every AWS call to this URL (moto, LocalStack, tollgate sim); overrides AWS_ENDPOINT_URL*")
	f.StringVar(&format, "format", audit.FormatText, "report format: text, json or md")
	f.StringVar(&fixPlan, "fix-plan", "", "write the fixes as a shell script to this file (audit changes nothing)")
	f.StringVar(&quotaFile, "quota-file", "", "Connect quota overrides (quotafile format) used for sizing")
	f.BoolVar(&appliedQuotas, "applied-quotas", false, "size against the account's applied Connect quotas from Service Quotas (needs servicequotas:ListServiceQuotas and ListAWSDefaultServiceQuotas) instead of the published table")
	f.BoolVar(&printPolicy, "print-policy", false, "print the read-only IAM policy the audit needs, and exit")
	f.IntVar(&concurrency, "concurrency", 0, "AWS calls in flight per phase (0: 8)")
	return cmd
}

type auditArgs struct {
	region, endpoint, instanceID string
	concurrency                  int
	table                        *quotas.Table
	applied                      bool      // --applied-quotas
	warn                         io.Writer // where a Service Quotas failure is said
}

// runAudit loads the AWS configuration, reads the account and checks it.
func runAudit(ctx context.Context, a auditArgs) (*audit.Report, error) {
	cfg, err := collect.LoadConfig(ctx, a.region, a.endpoint)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	partial := false
	if a.applied {
		q, err := usage.ReadQuotas(ctx, usage.NewClients(cfg, a.endpoint).SQ)
		if err != nil {
			// Sizing still runs, on the published table; the audit is partial.
			fmt.Fprintf(a.warn, "could not read applied quotas (%v); sizing against the published quota table\n", err)
			partial = true
		} else {
			applyAppliedQuotas(a.table, q)
		}
	}
	inv, calls, err := collect.Collect(ctx, collect.Options{Config: cfg, Endpoint: a.endpoint, InstanceID: a.instanceID, Concurrency: a.concurrency, Table: a.table})
	if err != nil {
		return nil, err
	}
	rep := audit.Check(inv, audit.Options{Table: a.table})
	rep.Calls, rep.Elapsed = calls, time.Since(start)
	rep.Partial = rep.Partial || partial
	return rep, nil
}

// applyAppliedQuotas sets each operation's rate in t to the applied value
// Service Quotas reports (keeping its burst), so sizing rules check against
// the account's quotas, raised or not.
func applyAppliedQuotas(t *quotas.Table, q map[string]usage.Quota) {
	for op, v := range q {
		a, ok := t.API(op)
		if !ok || !(v.Applied > 0) {
			continue
		}
		a.Rate = v.Applied
		_ = t.SetAPI(a)
	}
}

// writePlanFile writes the fix plan atomically, executable by its owner.
func writePlanFile(path string, rep *audit.Report) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fix-plan-*")
	if err != nil {
		return fmt.Errorf("--fix-plan: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := audit.WritePlan(tmp, rep); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o700); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
