package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/gateway"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/iampolicy"
)

func init() { register(newIAMPolicyCmd) }

func newIAMPolicyCmd() *cobra.Command {
	var (
		forCmd, instanceARN, configPath, callersPath, format string
		operations                                           []string
	)
	cmd := &cobra.Command{
		Use:   "iam-policy --for serve|gateway|extension|audit|quota|triage",
		Short: "Print the least-privilege IAM policy a tollgate command needs",
		Long: `Print the IAM policy a tollgate command needs, generated from the operations
its code calls: serve's job table and the operations its configuration names
(poll queries, the SQS queue backend, quota sync); the gateway's callers file
or its routes; the extension's operations; the audit's call list; the quota
commands' clients. Connect actions whose request names an instance are
scoped to --instance-arn and what it holds.

--format json (the default) prints the policy document for
'aws iam put-role-policy --policy-document file://policy.json'; text and md
list each action with the code that calls it and why its resource is what
it is.`,
		Example: `  tollgate iam-policy --for audit
  tollgate iam-policy --for serve --config tollgate.yaml --instance-arn arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555
  tollgate iam-policy --for serve --operations StartOutboundVoiceContact,DescribeContact --format text
  tollgate iam-policy --for gateway --callers callers.yaml --format md
  tollgate iam-policy --for extension --operations StartOutboundVoiceContact,ListQueues > function-policy.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if forCmd == "" {
				return usageError("--for: required, one of %s", strings.Join(iampolicy.Commands(), ", "))
			}
			switch format {
			case "json", "text", "md":
			default:
				return usageError("--format %q: must be json, text or md", format)
			}
			o := iampolicy.Options{InstanceARN: instanceARN}
			if cmd.Flags().Changed("operations") {
				o.Operations = operationList(operations)
			}
			if configPath != "" {
				if forCmd != iampolicy.Serve {
					return usageError("--config: only with --for serve")
				}
				cfg, err := config.Load(config.Sources{File: configPath})
				if err != nil {
					return usageError("--config: %v", err)
				}
				o.Serve = &cfg
			}
			if callersPath != "" {
				if forCmd != iampolicy.Gateway {
					return usageError("--callers: only with --for gateway")
				}
				cs, err := gateway.LoadCallers(callersPath, func(string) string { return "unused" })
				if err != nil {
					return usageError("--callers: %v", err)
				}
				o.Callers = cs
			}
			p, err := iampolicy.For(forCmd, o)
			if err != nil {
				return usageError("%v", err)
			}
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				_, err = out.Write(p.JSON())
				for _, n := range p.Notes {
					fmt.Fprintln(cmd.ErrOrStderr(), "note:", n)
				}
				return err
			case "md":
				fmt.Fprintf(out, "# IAM policy for tollgate %s\n\n| action | resource | called by | why this resource |\n|---|---|---|---|\n", p.Command)
				for _, g := range p.Grants {
					fmt.Fprintf(out, "| `%s` | %s | %s | %s |\n", g.Action, strings.Join(g.Resource, "<br>"), g.Source, iamDash(g.Scope))
				}
				for _, n := range p.Notes {
					fmt.Fprintf(out, "\n- %s", n)
				}
				b, _ := json.MarshalIndent(p.Document(), "", "  ")
				_, err = fmt.Fprintf(out, "\n\n```json\n%s\n```\n", b)
				return err
			default:
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ACTION\tRESOURCE\tCALLED BY")
				for _, g := range p.Grants {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Action, strings.Join(g.Resource, ","), g.Source)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				for _, n := range p.Notes {
					fmt.Fprintln(out, "note:", n)
				}
				return nil
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&forCmd, "for", "", "the command: "+strings.Join(iampolicy.Commands(), ", "))
	f.StringVar(&instanceARN, "instance-arn", "", "scope Connect actions to this instance (arn:aws:connect:REGION:ACCOUNT:instance/ID)")
	f.StringVar(&configPath, "config", os.Getenv("TOLLGATE_CONFIG"), "serve's configuration file (poll queries, queue backend, quota sync)")
	f.StringVar(&callersPath, "callers", "", "the gateway's callers file: grant the operations its callers may call")
	f.StringSliceVar(&operations, "operations", nil, "only these Connect operations (serve's jobs, the gateway's or the extension's callers), comma-separated")
	f.StringVar(&format, "format", "json", "output: json (the policy document), text or md (each action with its reason)")
	return cmd
}

// operationList trims the items of --operations and drops empty ones; never
// nil, so an empty list still narrows.
func operationList(in []string) []string {
	out := []string{}
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// iamDash is s, or "-" when empty.
func iamDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
