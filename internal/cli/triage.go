package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/triage"
	"github.com/tollgatehq/tollgate/triage/triagegen"
)

func init() { register(newTriageCmd) }

func newTriageCmd() *cobra.Command {
	var (
		format, output string
		workers, top   int
		noProgress     bool
		progress       progressFlags
		allServices    bool
	)
	cmd := &cobra.Command{
		Use:   "triage [paths...]",
		Short: "Diagnose Amazon Connect throttling from CloudTrail and CloudWatch Logs",
		Long: `Triage reads CloudTrail log files (the S3 layout: folders of .json.gz or .json
files holding {"Records":[…]}), CloudWatch Logs export objects, 'aws logs
filter-log-events' output with Lambda log lines holding AWS SDK errors, or
standard input, and says which Connect API is throttled, in which class, which
callers drained the bucket, why, and what to change.

Directories are walked recursively; "-" (or no path with piped input) reads
standard input. The exit status is 3 when part of the input could not be used;
the report lists each problem with its file and byte offset or line.`,
		Example: `  tollgate triage generate --cause mixed --seed 7 --out ./trail
  tollgate triage ./trail
  tollgate triage --format html -o report.html s3-copy/AWSLogs/
  aws logs filter-log-events --log-group-name /aws/lambda/dialer | tollgate triage --format md`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case triage.FormatText, triage.FormatJSON, triage.FormatHTML, triage.FormatMarkdown:
			default:
				return usageError("--format %q: must be text, json, html or md", format)
			}
			stdin := cmd.InOrStdin()
			if len(args) == 0 {
				if isTerminal(stdin) {
					return usageError("no input: give CloudTrail or CloudWatch Logs files or directories, or pipe logs to standard input")
				}
				args = []string{"-"}
			}
			inputs, err := triage.FileInputs(args, stdin)
			if err != nil {
				return usageError("%v", err)
			}
			opts := triage.Options{Workers: workers, TopN: top, AllServices: allServices}
			var bar *progressbar.ProgressBar
			progress.quiet = progress.quiet || noProgress
			if showBar(cmd.ErrOrStderr(), format, progress) {
				bar = newTriageBar(cmd.ErrOrStderr(), inputs)
				opts.Progress = func(n int64) { _ = bar.Add64(n) }
			}
			rep, err := triage.Analyze(cmd.Context(), inputs, opts)
			if bar != nil {
				_ = bar.Finish()
				_ = bar.Clear()
			}
			if err != nil {
				return err
			}
			if err := writeReport(cmd.OutOrStdout(), output, rep, format); err != nil {
				return err
			}
			if rep.Partial() {
				return &ExitError{Code: ExitPartial, Err: fmt.Errorf("partial result: %d problem(s) in the input, listed in the report; the rest was analysed", rep.ProblemCount)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", triage.FormatText, "report format: text, json, html or md")
	f.StringVarP(&output, "output", "o", "", "write the report to this file instead of standard output")
	f.IntVar(&workers, "workers", 0, "files read in parallel (0: one per CPU)")
	f.IntVar(&top, "top", 5, "callers listed per finding")
	progress.register(f)
	f.BoolVar(&noProgress, "no-progress", false, "never show the progress bar (the same as --quiet)")
	deprecate(f, "no-progress", "--quiet")
	f.BoolVar(&allServices, "all-services", false, "analyse every AWS service in the logs, not only Amazon Connect")
	cmd.AddCommand(newTriageGenerateCmd())
	return cmd
}

// writeReport renders to w, or to path: a regular file is replaced
// atomically (via a temporary file); anything else (/dev/null, a FIFO) is
// written in place.
func writeReport(w io.Writer, path string, rep *triage.Report, format string) error {
	if path == "" || path == "-" {
		return triage.Render(w, rep, format)
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		if st.IsDir() {
			return usageError("-o %s: is a directory", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if err := triage.Render(f, rep, format); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".triage-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := triage.Render(tmp, rep, format); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// newTriageBar shows bytes read out of the inputs' total (a spinner when
// the total is unknown, e.g. standard input).
func newTriageBar(w io.Writer, inputs []triage.Input) *progressbar.ProgressBar {
	total := int64(0)
	for _, in := range inputs {
		if in.Size < 0 {
			total = -1
			break
		}
		total += in.Size
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(fmt.Sprintf("triage %d input(s)", len(inputs))),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true),
	)
}

func newTriageGenerateCmd() *cobra.Command {
	var (
		o        triagegen.GenerateOptions
		out      string
		start    string
		asJSON   bool
		format   string
		duration time.Duration
	)
	cmd := &cobra.Command{
		Use:   "generate --cause CAUSE --out DIR",
		Short: "Write a realistic, seeded CloudTrail data set for one throttling cause",
		Long: `Generate simulates Amazon Connect's token buckets against realistic callers and
writes what CloudTrail would have delivered, in its S3 layout
(AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz). The same seed
and options give byte-identical files. Causes: ` + strings.Join(triagegen.Causes(), ", ") + `.`,
		Example: `  tollgate triage generate --cause retry-storm --out ./trail
  tollgate triage generate --cause dialer-retry-storm --seed 11 --out ./dialer --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				format = "json"
			}
			if err := checkFormat(format); err != nil {
				return err
			}
			if out == "" {
				return usageError("--out: required (the directory to write into)")
			}
			known := false
			for _, c := range triagegen.Causes() {
				known = known || c == o.Cause
			}
			if !known {
				return usageError("--cause %q: must be one of %s", o.Cause, strings.Join(triagegen.Causes(), ", "))
			}
			if start != "" {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return usageError("--start %q: must be an RFC 3339 time such as 2026-11-25T10:00:00Z", start)
				}
				o.Start = t
			}
			if duration < 10*time.Minute {
				return usageError("--duration %v: must be at least 10m", duration)
			}
			o.Duration = duration
			res, err := triagegen.Generate(out, o)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(w, "wrote %d CloudTrail records in %d files (%.1f MB gzip) under %s\n", res.Records, len(res.Files), float64(res.Bytes)/1e6, out)
			fmt.Fprintln(w, "expected diagnosis:")
			for _, e := range res.Expect {
				fmt.Fprintf(w, "  %-26s %-13s %-18s %d of %d calls refused; top caller %s\n", e.Operation, e.Class, e.Cause, e.Throttles, e.Calls, e.TopCaller)
			}
			fmt.Fprintf(w, "try: tollgate triage %s\n", out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Cause, "cause", "", "scenario: "+strings.Join(triagegen.Causes(), ", "))
	f.Int64Var(&o.Seed, "seed", 1, "random seed")
	f.StringVar(&out, "out", "", "directory to write into")
	f.StringVar(&start, "start", "", "start time, RFC 3339 (default 2026-11-25T10:00:00Z)")
	f.DurationVar(&duration, "duration", 15*time.Minute, "time span (at least 10m)")
	f.StringVar(&o.Account, "account", "", "AWS account ID (default 111122223333)")
	f.StringVar(&o.Region, "region", "", "AWS Region (default us-east-1)")
	f.Float64Var(&o.Background, "background", 3, "benign calls per second on operations no scenario touches (negative: none)")
	f.IntVar(&o.MaxRecordsPerFile, "max-records-per-file", 5000, "split each 5-minute delivery into files of at most this many records")
	f.StringVar(&format, "format", "text", "output: text or json (files, expectations)")
	f.BoolVar(&asJSON, "json", false, "the same as --format json")
	deprecate(f, "json", "--format json")
	return cmd
}
