package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Report formats.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatMarkdown = "md"
)

// Report is the result of Check.
type Report struct {
	Region   string    `json:"region"`
	Account  string    `json:"account,omitempty"`
	Findings []Finding `json:"findings"` // worst first
	Summary  Summary   `json:"summary"`
	// Partial is true when part of the account could not be read (see the
	// AUDIT_INCOMPLETE findings).
	Partial bool `json:"partial"`
	// Calls are the API calls the audit made, filled in by the collector.
	Calls []CallCount `json:"calls,omitempty"`
	// Elapsed is how long reading the account took.
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
}

// Summary counts what was checked.
type Summary struct {
	Functions int `json:"functions"`
	Callers   int `json:"connect_callers"`
	Mappings  int `json:"sqs_mappings"`
	Queues    int `json:"queues"`
	Schedules int `json:"schedules"`
	Instances int `json:"instances"`
	Trails    int `json:"trails"`
}

// CallCount is the number of calls made to one operation.
type CallCount struct {
	Service string `json:"service"`
	Op      string `json:"op"`
	Calls   int    `json:"calls"`
}

// HighCount returns the number of high-severity findings.
func (r *Report) HighCount() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == High {
			n++
		}
	}
	return n
}

// TotalCalls returns the number of API calls made.
func (r *Report) TotalCalls() int {
	n := 0
	for _, c := range r.Calls {
		n += c.Calls
	}
	return n
}

// Render writes r in format (FormatText, FormatJSON or FormatMarkdown).
func Render(w io.Writer, r *Report, format string) error {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if r.Findings == nil {
			c := *r
			c.Findings = []Finding{}
			r = &c
		}
		return enc.Encode(r)
	case FormatMarkdown:
		return renderMarkdown(w, r)
	case FormatText, "":
		return renderText(w, r)
	}
	return fmt.Errorf("format %q: want text, json or md", format)
}

func (r *Report) headline() string {
	s := r.Summary
	acct := ""
	if r.Account != "" {
		acct = " account " + r.Account
	}
	return fmt.Sprintf("tollgate audit of%s in %s: %d function(s), %d calling Connect, %d SQS mapping(s), %d schedule(s), %d instance(s), %d trail(s)",
		acct, r.Region, s.Functions, s.Callers, s.Mappings, s.Schedules, s.Instances, s.Trails)
}

func (r *Report) callsLine() string {
	if len(r.Calls) == 0 {
		return ""
	}
	rate := 0.0
	if r.Elapsed > 0 {
		rate = float64(r.TotalCalls()) / r.Elapsed.Seconds()
	}
	return fmt.Sprintf("%d API calls in %s (%.0f/s), each admitted by the governor", r.TotalCalls(), r.Elapsed.Round(time.Millisecond), rate)
}

func renderText(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintln(&b, r.headline())
	if l := r.callsLine(); l != "" {
		fmt.Fprintln(&b, l)
	}
	if len(r.Findings) == 0 {
		fmt.Fprintln(&b, "\nNo findings.")
	} else {
		fmt.Fprintf(&b, "\n%d finding(s), %d high:\n", len(r.Findings), r.HighCount())
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "\n%-6s %s  %s\n", strings.ToUpper(f.Severity.String()), f.Rule, f.Resource)
		fmt.Fprintf(&b, "  why:      %s\n", f.Reason)
		fmt.Fprintf(&b, "  found:    %s = %s\n", f.Evidence.Field, f.Evidence.Found)
		fmt.Fprintf(&b, "  expected: %s\n", f.Evidence.Expected)
		if f.Assumption != "" {
			fmt.Fprintf(&b, "  assumed:  %s\n", f.Assumption)
		}
		for _, c := range f.Fix.CLI {
			fmt.Fprintf(&b, "  fix:      %s\n", c)
		}
		if f.Fix.Note != "" {
			fmt.Fprintf(&b, "  note:     %s\n", f.Fix.Note)
		}
		fmt.Fprintf(&b, "  CloudFormation: %s\n  Terraform:      %s\n", f.Fix.CloudFormation, f.Fix.Terraform)
	}
	if r.Partial {
		fmt.Fprintln(&b, "\nPartial: some checks could not run (AUDIT_INCOMPLETE above); the rest were audited.")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func renderMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Throttling audit: %s\n\n%s.\n", r.Region, r.headline())
	if l := r.callsLine(); l != "" {
		fmt.Fprintf(&b, "%s.\n", l)
	}
	if len(r.Findings) == 0 {
		fmt.Fprintln(&b, "\nNo findings.")
	} else {
		fmt.Fprintf(&b, "\n| severity | rule | resource | found | expected |\n|---|---|---|---|---|\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", f.Severity, f.Rule, mdCell(f.Resource), mdCell(f.Evidence.Found), mdCell(f.Evidence.Expected))
		}
	}
	for i, f := range r.Findings {
		fmt.Fprintf(&b, "\n## %d. %s: %s (%s)\n\n%s\n\n- **Found:** `%s` = %s\n- **Expected:** %s\n", i+1, f.Rule, f.Resource, f.Severity, f.Reason, f.Evidence.Field, f.Evidence.Found, f.Evidence.Expected)
		if f.Assumption != "" {
			fmt.Fprintf(&b, "- **Assumed:** %s\n", f.Assumption)
		}
		fmt.Fprintf(&b, "- **CloudFormation:** %s\n- **Terraform:** %s\n", f.Fix.CloudFormation, f.Fix.Terraform)
		if f.Fix.Note != "" {
			fmt.Fprintf(&b, "- **Note:** %s\n", f.Fix.Note)
		}
		if len(f.Fix.CLI) > 0 {
			fmt.Fprintf(&b, "\n```sh\n%s\n```\n", strings.Join(f.Fix.CLI, "\n"))
		}
	}
	if r.Partial {
		fmt.Fprintln(&b, "\n_Partial: some checks could not run (AUDIT_INCOMPLETE); the rest were audited._")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdCell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

// WritePlan writes the fixes of r as a POSIX shell script: one block per
// finding, worst first, each command once. The script stops at the first
// failing command (set -eu). It is meant to be read before it is run.
func WritePlan(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# Fix plan written by tollgate audit for %s.\n", r.Region)
	fmt.Fprintln(&b, "# Review every command before running it: each changes the account.")
	fmt.Fprintln(&b, "# The audit itself changed nothing. Run: sh <this file>")
	fmt.Fprintln(&b, "set -eu")
	seen := map[string]bool{}
	n := 0
	for _, f := range r.Findings {
		var lines []string
		for _, c := range f.Fix.CLI {
			if !seen[c] {
				seen[c] = true
				lines = append(lines, c)
			}
		}
		if len(lines) == 0 {
			continue
		}
		n++
		fmt.Fprintf(&b, "\n# %d. [%s] %s %s\n#    found %s = %s; expected %s\n", n, f.Severity, f.Rule, f.Resource, f.Evidence.Field, oneLine(f.Evidence.Found), oneLine(f.Evidence.Expected))
		if f.Fix.Note != "" {
			fmt.Fprintf(&b, "#    note: %s\n", oneLine(f.Fix.Note))
		}
		for _, l := range lines {
			fmt.Fprintln(&b, l)
		}
	}
	if n == 0 {
		fmt.Fprintln(&b, "\n# Nothing to fix.")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
