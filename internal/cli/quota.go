package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/awssdk"
	"github.com/tollgatehq/tollgate/governor"
	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/triage"
	"github.com/tollgatehq/tollgate/usage"
)

func init() { register(newQuotaCmd) }

// quotaFlags are the flags every quota subcommand shares.
type quotaFlags struct {
	endpoint string
	region   string
}

// clients loads the AWS configuration and builds the clients. --endpoint
// points every client at one place; otherwise the SDK honours
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>.
func (q *quotaFlags) clients(ctx context.Context, connectOpts ...func(*connect.Options)) (usage.Clients, error) {
	cfg, err := usage.LoadConfig(ctx, q.region)
	if err != nil {
		return usage.Clients{}, &ExitError{Code: ExitFailure, Err: err}
	}
	return usage.NewClients(cfg, q.endpoint, connectOpts...), nil
}

// governedConnect puts the Connect client under a governor paced at the
// published quota table (GetCurrentMetricData: 5/s, burst 8), with the
// governor's retry rule, as every other Tollgate caller is.
func governedConnect() (func(*connect.Options), error) {
	adm, err := app.NewAdmission(app.AdmissionOptions{})
	if err != nil {
		return nil, err
	}
	return awssdk.Govern(adm.NewGovernor(governor.Options{})), nil
}

func newQuotaCmd() *cobra.Command {
	qf := &quotaFlags{}
	cmd := &cobra.Command{
		Use:   "quota",
		Short: "Watch Connect API usage against its service quotas, manage alarms and increase requests",
		Long: `Read per-operation usage from CloudWatch AWS/Usage (CallCount, Service=Connect,
Type=API, Class=None) and the applied and default quotas from Service Quotas
(service code connect); mark operations at 70% (warn) and 80% (alarm); keep
CloudWatch alarms on m1/PERIOD(m1)/SERVICE_QUOTA(m1)*100; draft, submit and
track quota-increase requests.

Credentials and Region come from the default AWS chain. --endpoint points
every client at one place (e.g. a tollgate sim); without it the SDK honours
AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_SERVICE_QUOTAS / AWS_ENDPOINT_URL_CLOUDWATCH.`,
		Example: `  tollgate quota status --since 24h
  tollgate quota alarms plan --sns-topic arn:aws:sns:eu-west-2:123456789012:ops
  tollgate quota request draft --op CreateUser --agents 400 --calls-per-hour 3000
  tollgate quota request submit --op CreateUser --desired 5 --yes
  tollgate quota request status`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&qf.endpoint, "endpoint", "", "send every AWS call to this URL (e.g. http://127.0.0.1:8999 for tollgate sim)")
	pf.StringVar(&qf.region, "region", "", "AWS Region (default: the configured one, else us-east-1)")
	cmd.AddCommand(newQuotaStatusCmd(qf), newQuotaAlarmsCmd(qf), newQuotaRequestCmd(qf))
	return cmd
}

// measured reads quotas and the usage of ops (all rate-quota operations
// when ops is empty) over the last since.
func measured(ctx context.Context, c usage.Clients, since time.Duration, ops []string) (map[string]usage.Quota, map[string]usage.Usage, time.Time, time.Time, error) {
	q, err := usage.ReadQuotas(ctx, c.SQ)
	if err != nil {
		return nil, nil, time.Time{}, time.Time{}, err
	}
	if len(ops) == 0 {
		for op := range q {
			ops = append(ops, op)
		}
		sort.Strings(ops)
	} else {
		for _, op := range ops {
			if _, ok := q[op]; !ok {
				return nil, nil, time.Time{}, time.Time{}, unknownOp(op)
			}
		}
		sub := map[string]usage.Quota{}
		for _, op := range ops {
			sub[op] = q[op]
		}
		q = sub
	}
	to := time.Now()
	from := to.Add(-since)
	u, err := usage.ReadUsage(ctx, c.CW, ops, from, to)
	return q, u, from, to, err
}

func unknownOp(op string) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w %q: Service Quotas lists no connect rate quota for it (operations are spelled as in the API, e.g. CreateUser)", usage.ErrUnknownOperation, op)}
}

func checkSince(since time.Duration) error {
	if since <= 0 || since > 63*24*time.Hour {
		return usageError("--since: want a duration in (0, 1512h], got %v", since)
	}
	return nil
}

func newQuotaStatusCmd(qf *quotaFlags) *cobra.Command {
	var (
		since       time.Duration
		format      string
		ops         []string
		warn, alarm float64
		instance    string
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Per-operation usage against the applied quota, marked at 70% and 80%",
		Long: `For each Connect operation called in the window: the applied quota (and the
default where they differ), whether AWS adjusts it, the busiest minute's
calls and average rate, percent of quota, headroom, and WARN (≥ --warn) or
ALARM (≥ --alarm). Operations without calls are counted, not listed.

With --instance-id (an instance id or ARN), also that instance's concurrent
active calls, chats and tasks against their per-instance quotas (Service
Quotas with the instance ARN as context), with the same marks. Contacts in
progress are SLOTS_ACTIVE + CONTACTS_IN_QUEUE from GetCurrentMetricData per
channel over every queue: contacts still in a flow with no queue are not
seen, and slots in after-contact work are.`,
		Example: `  tollgate quota status
  tollgate quota status --since 1h --format md
  tollgate quota status --endpoint http://127.0.0.1:8999 --format json
  tollgate quota status --endpoint http://127.0.0.1:8999 --instance-id c0ffee00-0000-4000-8000-000000000001`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" && format != "md" {
				return usageError("--format: want text, json or md, got %q", format)
			}
			if err := checkSince(since); err != nil {
				return err
			}
			if err := checkThresholds(warn, alarm); err != nil {
				return err
			}
			gov, err := governedConnect()
			if err != nil {
				return err
			}
			c, err := qf.clients(cmd.Context(), gov)
			if err != nil {
				return err
			}
			q, u, from, to, err := measured(cmd.Context(), c, since, ops)
			if err != nil {
				return err
			}
			st := usage.BuildStatus(q, u, from, to, warn, alarm)
			if cmd.Flags().Changed("instance-id") {
				if usage.InstanceID(instance) == "" {
					return usageError("--instance-id: want an instance id or ARN, got %q", instance)
				}
				iu, err := usage.ReadInstanceUse(cmd.Context(), c.Connect, instance)
				if err != nil {
					return err
				}
				iq, err := usage.ReadInstanceQuotas(cmd.Context(), c.SQ, iu.InstanceARN)
				if err != nil {
					return err
				}
				is := usage.BuildInstance(iq, iu, warn, alarm)
				st.Instance = &is
			}
			return st.Render(cmd.OutOrStdout(), format)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&since, "since", 24*time.Hour, "window ending now")
	f.StringVar(&format, "format", "text", "output: text, json or md")
	f.StringSliceVar(&ops, "ops", nil, "only these operations (comma-separated)")
	f.Float64Var(&warn, "warn", usage.DefaultWarn, "warn at this percent of quota")
	f.Float64Var(&alarm, "alarm", usage.DefaultAlarm, "alarm at this percent of quota")
	f.StringVar(&instance, "instance-id", "", "also show this instance's concurrent calls, chats and tasks against their quotas (id or ARN)")
	return cmd
}

func checkThresholds(warn, alarm float64) error {
	if !(warn > 0 && warn <= 100) || !(alarm > 0 && alarm <= 100) || warn > alarm {
		return usageError("--warn and --alarm: want 0 < warn ≤ alarm ≤ 100, got %v and %v", warn, alarm)
	}
	return nil
}

func newQuotaAlarmsCmd(qf *quotaFlags) *cobra.Command {
	var (
		since       time.Duration
		format      string
		ops, topics []string
		warn, alarm float64
		prefix      string
	)
	run := func(apply bool) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageError("--format: want text or json, got %q", format)
			}
			if err := checkSince(since); err != nil {
				return err
			}
			if err := checkThresholds(warn, alarm); err != nil {
				return err
			}
			for _, t := range topics {
				if !strings.HasPrefix(t, "arn:aws") || strings.Count(t, ":") < 5 {
					return usageError("--sns-topic: want an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got %q", t)
				}
			}
			if len(topics) > 5 {
				return usageError("--sns-topic: at most 5 topics, got %d", len(topics))
			}
			ctx := cmd.Context()
			c, err := qf.clients(ctx)
			if err != nil {
				return err
			}
			want := ops
			if len(want) == 0 { // the operations in use
				_, u, _, _, err := measured(ctx, c, since, nil)
				if err != nil {
					return err
				}
				for op := range u {
					want = append(want, op)
				}
				sort.Strings(want)
			} else if _, _, _, _, err := measured(ctx, c, time.Minute, ops); err != nil {
				return err // unknown operation
			}
			desired := usage.DesiredAlarms(want, usage.AlarmOptions{Prefix: prefix, Warn: warn, Alarm: alarm, SNSTopics: topics})
			plan, err := usage.PlanAlarms(ctx, c.CW, prefix, desired)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if apply && !plan.Empty() {
				if err := usage.ApplyAlarms(ctx, c.CW, plan); err != nil {
					return err
				}
			}
			if format == "json" {
				return printJSON(out, map[string]any{"applied": apply, "plan": plan})
			}
			plan.Render(out)
			if apply && !plan.Empty() {
				fmt.Fprintln(out, "Applied.")
			}
			return nil
		}
	}
	cmd := &cobra.Command{
		Use:   "alarms",
		Short: "CloudWatch alarms on each used operation's call rate as a percent of its quota",
		Long: `Two alarms per operation in use (or per --ops): <prefix><Op>-warn at --warn
and <prefix><Op>-alarm at --alarm, on m1/PERIOD(m1)/SERVICE_QUOTA(m1)*100
over 60 s (CallCount is a per-minute sum, the rate quotas are per second).
plan prints the difference from what exists; apply creates, updates and
deletes only alarms named with the prefix. Running apply twice changes
nothing.`,
		Example: `  tollgate quota alarms plan
  tollgate quota alarms apply --sns-topic arn:aws:sns:eu-west-2:123456789012:ops
  tollgate quota alarms apply --ops CreateUser,ListUsers --warn 60 --alarm 75`,
	}
	pf := cmd.PersistentFlags()
	pf.DurationVar(&since, "since", 24*time.Hour, "operations called in this window get alarms (without --ops)")
	pf.StringVar(&format, "format", "text", "output: text or json")
	pf.StringSliceVar(&ops, "ops", nil, "alarm these operations instead of the ones in use")
	pf.StringSliceVar(&topics, "sns-topic", nil, "SNS topic ARN notified in ALARM (repeatable, at most 5)")
	pf.Float64Var(&warn, "warn", usage.DefaultWarn, "warn alarm threshold, percent of quota")
	pf.Float64Var(&alarm, "alarm", usage.DefaultAlarm, "alarm threshold, percent of quota")
	pf.StringVar(&prefix, "prefix", usage.DefaultAlarmPrefix, "name prefix of the alarms Tollgate owns")
	cmd.AddCommand(
		&cobra.Command{Use: "plan", Short: "Print what apply would change", Args: cobra.NoArgs, RunE: run(false),
			Example: "  tollgate quota alarms plan --since 1h"},
		&cobra.Command{Use: "apply", Short: "Create, update and delete the prefixed alarms", Args: cobra.NoArgs, RunE: run(true),
			Example: "  tollgate quota alarms apply --sns-topic arn:aws:sns:us-east-1:123456789012:ops"},
	)
	return cmd
}

func newQuotaRequestCmd(qf *quotaFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Draft, submit and track quota-increase requests",
		Example: `  tollgate quota request draft --op CreateUser --agents 400 --calls-per-hour 3000
  tollgate quota request submit --op CreateUser --desired 5 --yes
  tollgate quota request status`,
	}
	cmd.AddCommand(newQuotaDraftCmd(qf), newQuotaSubmitCmd(qf), newQuotaTrackCmd(qf))
	return cmd
}

func newQuotaDraftCmd(qf *quotaFlags) *cobra.Command {
	var (
		op, format, triageFile, out string
		since                       time.Duration
		agents                      int
		perHour, perContact, want   float64
	)
	cmd := &cobra.Command{
		Use:   "draft",
		Short: "Write the justification AWS asks for from measured data",
		Long: `Draft a quota-increase request for --op from CloudWatch AWS/Usage (busiest
minute), Service Quotas (applied and default), a triage report (--triage:
throttles, callers, cause) and the business load (--agents,
--calls-per-hour). When the data shows a retry storm or polling rather than
business load, the draft says so and recommends fixing that first.`,
		Example: `  tollgate quota request draft --op CreateUser --agents 400 --calls-per-hour 3000
  tollgate triage ./trail --format json > triage.json && tollgate quota request draft --op DescribeUser --triage triage.json
  tollgate quota request draft --op ListInstances --format json --out ./draft`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if op == "" {
				return usageError("--op: required (e.g. --op CreateUser)")
			}
			if format != "md" && format != "json" {
				return usageError("--format: want md or json, got %q", format)
			}
			if err := checkSince(since); err != nil {
				return err
			}
			if agents < 0 || perHour < 0 || perContact < 0 || want < 0 {
				return usageError("--agents, --calls-per-hour, --calls-per-contact and --desired must not be negative")
			}
			var rep *triage.Report
			if triageFile != "" {
				b, err := os.ReadFile(triageFile)
				if err != nil {
					return usageError("--triage: %v", err)
				}
				rep = &triage.Report{}
				if err := json.Unmarshal(b, rep); err != nil {
					return usageError("--triage %s: not a tollgate triage JSON report: %v", triageFile, err)
				}
			}
			c, err := qf.clients(cmd.Context())
			if err != nil {
				return err
			}
			q, u, _, _, err := measured(cmd.Context(), c, since, []string{op})
			if err != nil {
				return err
			}
			d := usage.DraftRequest(usage.DraftInput{Quota: q[op], Usage: u[op], Triage: rep, Agents: agents,
				CallsPerHour: perHour, CallsPerCall: perContact, Desired: want})
			if out != "" {
				if err := writeDraft(out, d); err != nil {
					return &ExitError{Code: ExitFailure, Err: err}
				}
			}
			if format == "json" {
				return d.RenderJSON(cmd.OutOrStdout())
			}
			d.RenderMarkdown(cmd.OutOrStdout())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&op, "op", "", "the operation whose rate quota to raise (required)")
	f.DurationVar(&since, "since", 24*time.Hour, "measure over this window ending now")
	f.StringVar(&triageFile, "triage", "", "a `tollgate triage --format json` report: throttles, callers, cause")
	f.IntVar(&agents, "agents", 0, "agents in the contact center")
	f.Float64Var(&perHour, "calls-per-hour", 0, "contacts per hour at peak")
	f.Float64Var(&perContact, "calls-per-contact", 1, "calls of --op per contact")
	f.Float64Var(&want, "desired", 0, "requests/s to ask for (default: 1.5 × the measured or stated need)")
	f.StringVar(&format, "format", "md", "output: md or json")
	f.StringVar(&out, "out", "", "also write <out>.md and <out>.json")
	return cmd
}

func writeDraft(prefix string, d usage.Draft) error {
	var md strings.Builder
	d.RenderMarkdown(&md)
	if err := os.WriteFile(prefix+".md", []byte(md.String()), 0o644); err != nil {
		return err
	}
	f, err := os.Create(prefix + ".json")
	if err != nil {
		return err
	}
	if err := d.RenderJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newQuotaSubmitCmd(qf *quotaFlags) *cobra.Command {
	var (
		op, code, format string
		desired          float64
		yes              bool
	)
	cmd := &cobra.Command{
		Use:   "submit",
		Short: "Request an increase (RequestServiceQuotaIncrease); a dry run without --yes",
		Long: `Check the quota (applied value, adjustable) and, with --yes, call
RequestServiceQuotaIncrease. Refused, with the reason: a value at or below
the applied one, a quota AWS does not adjust, a second open request for the
same quota.`,
		Example: `  tollgate quota request submit --op CreateUser --desired 5
  tollgate quota request submit --op CreateUser --desired 5 --yes
  tollgate quota request submit --quota-code L-CBDEE3E4 --desired 5 --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if op == "" && code == "" {
				return usageError("--op or --quota-code: one is required")
			}
			if !(desired > 0) {
				return usageError("--desired: required, a positive number of requests/s")
			}
			if format != "text" && format != "json" {
				return usageError("--format: want text or json, got %q", format)
			}
			ctx := cmd.Context()
			c, err := qf.clients(ctx)
			if err != nil {
				return err
			}
			if code == "" {
				q, err := usage.ReadQuotas(ctx, c.SQ)
				if err != nil {
					return err
				}
				qq, ok := q[op]
				if !ok {
					return unknownOp(op)
				}
				code = qq.Code
			}
			res, err := usage.Submit(ctx, c.SQ, op, code, desired, yes)
			if err != nil {
				if errors.Is(err, usage.ErrUnknownOperation) {
					return &ExitError{Code: ExitUsage, Err: err}
				}
				return err
			}
			w := cmd.OutOrStdout()
			if format == "json" {
				return printJSON(w, res)
			}
			if res.DryRun {
				fmt.Fprintf(w, "Dry run: would request quota %s (%s) from %g to %g. Add --yes to submit.\n", res.Code, res.Op, res.Applied, res.Desired)
				return nil
			}
			fmt.Fprintf(w, "Submitted request %s: quota %s (%s) from %g to %g, status %s.\nTrack it with: tollgate quota request status\n",
				res.ID, res.Code, res.Op, res.Applied, res.Desired, res.Status)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&op, "op", "", "the operation whose rate quota to raise")
	f.StringVar(&code, "quota-code", "", "the Service Quotas code (instead of --op)")
	f.Float64Var(&desired, "desired", 0, "the new value, requests/s (required)")
	f.BoolVar(&yes, "yes", false, "really submit (without it: a dry run)")
	f.StringVar(&format, "format", "text", "output: text or json")
	return cmd
}

func newQuotaTrackCmd(qf *quotaFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List the connect increase requests; flag open ones older than 3 business days",
		Example: `  tollgate quota request status
  tollgate quota request status --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageError("--format: want text or json, got %q", format)
			}
			c, err := qf.clients(cmd.Context())
			if err != nil {
				return err
			}
			rs, err := usage.RequestStatus(cmd.Context(), c.SQ, time.Now())
			if err != nil {
				return err
			}
			if format == "json" {
				if rs == nil {
					rs = []usage.Tracked{}
				}
				return printJSON(cmd.OutOrStdout(), rs)
			}
			return usage.RenderTracked(cmd.OutOrStdout(), rs)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output: text or json")
	return cmd
}
