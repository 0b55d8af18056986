package triage

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Formats accepted by Render.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatHTML     = "html"
	FormatMarkdown = "md"
)

// Render writes r in the named format: text, json, html or md.
func Render(w io.Writer, r *Report, format string) error {
	switch format {
	case FormatText, "":
		return RenderText(w, r)
	case FormatJSON:
		return RenderJSON(w, r)
	case FormatHTML:
		return RenderHTML(w, r)
	case FormatMarkdown, "markdown":
		return RenderMarkdown(w, r)
	}
	return fmt.Errorf("format %q: must be text, json, html or md", format)
}

// RenderJSON writes the report as indented JSON.
func RenderJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// headline is the one-line diagnosis of a finding.
func headline(f *Finding) string {
	return fmt.Sprintf("%s is %s: %s of %s calls refused (%s) — cause: %s",
		f.Operation, classPhrase(f.Class), count(f.Throttles), count(f.Calls), pct(f.Throttles, f.Calls), f.Cause)
}

func classPhrase(c string) string {
	switch c {
	case "rate-throttle":
		return "rate-throttled"
	case "concurrency-quota":
		return "at a concurrency quota"
	case "hard-quota":
		return "at a hard quota"
	}
	return c
}

// what, where, who lines of a finding.
func whatLine(f *Finding) string {
	codes := make([]string, 0, len(f.Codes))
	for _, c := range f.Codes {
		codes = append(codes, fmt.Sprintf("%s ×%s", c.Code, count(c.Count)))
	}
	rate := fmt.Sprintf("rate quota %s/s burst %d", num(f.QuotaRate), f.QuotaBurst)
	if !f.QuotaListed {
		rate += " (not in the quota table: the default is assumed)"
	}
	var s string
	if f.Class == "rate-throttle" {
		if f.QuotaCode != "" {
			rate += " (" + f.QuotaCode + ")"
		}
		s = fmt.Sprintf("%s; peak %s/s in one second, %s/s over a minute, against the %s — %s of the rate",
			strings.Join(codes, ", "), num(f.PeakRate1s), num(f.PeakRate1m), rate, fmtUtil(f.Utilization1m))
	} else {
		kind := "hard quota: only an increase helps"
		if f.Class == "concurrency-quota" {
			kind = "concurrency quota: it clears only as running contacts end"
		}
		s = fmt.Sprintf("%s; %s is full (%s); calls peaked at %s/s against the %s",
			strings.Join(codes, ", "), quotaLabel(f.QuotaName, f.QuotaCode), kind, num(f.PeakRate1s), rate)
	}
	if f.FromSDKLogs {
		s += " (from SDK error logs: only failures are counted)"
	}
	return s
}

func fmtUtil(u float64) string { return fmt.Sprintf("%.0f%%", u*100) }

func whereLine(f *Finding) string {
	acct := orStr(f.Account, "account ?")
	if f.Account != "" {
		acct = "account " + f.Account
	}
	return fmt.Sprintf("%s, %s, throttled from %s to %s", acct, orStr(f.Region, "region ?"), stamp(f.FirstThrottle), clock(f.LastThrottle))
}

func whoLine(f *Finding) string {
	if len(f.TopCallers) == 0 {
		return "no caller identity in the records"
	}
	c := f.TopCallers[0]
	// Many small callers (a synchronized start): name the role behind them.
	if c.Throttles*5 < f.Throttles && len(f.Roles) > 0 && f.Roles[0].Throttles*2 > f.Throttles {
		r := f.Roles[0]
		return fmt.Sprintf("sessions of %s — %s of their %s calls refused (%s of all throttles); no session stands out (the most refused, %s, had %s refused calls)",
			r.Key, count(r.Throttles), count(r.Calls), pct(r.Throttles, f.Throttles), shortPrincipal(c.Principal), count(c.Throttles))
	}
	s := fmt.Sprintf("%s — %s of its %s calls refused (%s of all throttles)", c.Principal, count(c.Throttles), count(c.Calls), pct(c.Throttles, f.Throttles))
	if n := len(f.TopCallers) - 1; n == 1 {
		s += "; 1 more caller throttled"
	} else if n > 1 {
		s += fmt.Sprintf("; %d more callers throttled", n)
	}
	return s
}

// RenderText writes the report for a terminal: the diagnosis first (what,
// where, who, why, fix for each finding), then the tables.
func RenderText(w io.Writer, r *Report) error {
	var b strings.Builder
	if len(r.Findings) == 0 {
		fmt.Fprintf(&b, "DIAGNOSIS  no throttling: %s calls to %d Amazon Connect operations, none refused by a quota.\n", count(r.Calls), len(r.Operations))
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		label := "DIAGNOSIS"
		if i > 0 {
			label = fmt.Sprintf("ALSO (%d)", i+1)
		}
		fmt.Fprintf(&b, "%-9s  %s\n", label, headline(f))
		fmt.Fprintf(&b, "  what   %s\n", whatLine(f))
		fmt.Fprintf(&b, "  where  %s\n", whereLine(f))
		fmt.Fprintf(&b, "  who    %s\n", whoLine(f))
		for j, y := range f.Why {
			lbl := "why"
			if j > 0 {
				lbl = ""
			}
			fmt.Fprintf(&b, "  %-5s  %s\n", lbl, y)
		}
		if len(f.AlsoCauses) > 0 {
			fmt.Fprintf(&b, "         (also consistent with: %s)\n", strings.Join(f.AlsoCauses, ", "))
		}
		fmt.Fprintf(&b, "  fix    %s\n\n", f.Fix)
	}
	if r.Partial() {
		fmt.Fprintf(&b, "PARTIAL  %d problem(s) in the input; the rest was analysed (see PROBLEMS below).\n\n", r.ProblemCount)
	}

	b.WriteString("SUMMARY\n")
	span := "no timestamps"
	if !r.Start.IsZero() {
		span = fmt.Sprintf("%s to %s", stamp(r.Start), stamp(r.End))
	}
	fmt.Fprintf(&b, "  %s Connect records from %d input(s), %s; %s records of other services skipped\n",
		count(r.Records), r.Files, span, count(r.Skipped))
	if r.SDKRecords > 0 {
		fmt.Fprintf(&b, "  %s of them are SDK errors from logs (failures only)\n", count(r.SDKRecords))
	}
	fmt.Fprintf(&b, "  accounts %s; regions %s\n", orStr(strings.Join(r.Accounts, ", "), "?"), orStr(strings.Join(r.Regions, ", "), "?"))
	fmt.Fprintf(&b, "  calls %s, errors %s, throttles %s\n", count(r.Calls), count(r.Errors), count(r.Throttles))
	if len(r.ErrorsByClass) > 0 {
		fmt.Fprintf(&b, "  errors by class: %s\n", classList(r.ErrorsByClass))
	}
	if r.Approximate {
		b.WriteString("  (very many distinct callers: caller counts are approximate)\n")
	}
	b.WriteString("\n")

	if len(r.Findings) > 0 {
		b.WriteString("FINDINGS\n")
		t := table{header: []string{"#", "operation", "class", "cause", "calls", "throttles", "peak 1s", "peak 1m", "quota", "util 1m", "top caller"}}
		for i, f := range r.Findings {
			top := ""
			if len(f.TopCallers) > 0 {
				top = shortPrincipal(f.TopCallers[0].Principal)
			}
			t.add(fmt.Sprint(i+1), f.Operation, f.Class, f.Cause, count(f.Calls), count(f.Throttles), num(f.PeakRate1s), num(f.PeakRate1m),
				fmt.Sprintf("%s/%d", num(f.QuotaRate), f.QuotaBurst), fmtUtil(f.Utilization1m), top)
		}
		t.write(&b, "  ")
		b.WriteString("\n")
		for i, f := range r.Findings {
			fmt.Fprintf(&b, "TOP CALLERS  #%d %s\n", i+1, f.Operation)
			t := table{header: []string{"principal", "calls", "throttles", "session", "user agent", "source IP"}}
			for _, c := range f.TopCallers {
				t.add(c.Principal, count(c.Calls), count(c.Throttles), c.Session, clip(c.UserAgent, 40), c.SourceIP)
			}
			t.write(&b, "  ")
			for _, d := range []struct {
				name string
				list []Contributor
			}{{"roles", f.Roles}, {"user agents", f.UserAgents}, {"source IPs", f.SourceIPs}} {
				if len(d.list) == 0 {
					continue
				}
				parts := make([]string, 0, len(d.list))
				for _, c := range d.list {
					parts = append(parts, fmt.Sprintf("%s (%s/%s)", clip(c.Key, 60), count(c.Throttles), count(c.Calls)))
				}
				fmt.Fprintf(&b, "  by %s (throttles/calls): %s\n", d.name, strings.Join(parts, "; "))
			}
			b.WriteString("\n")
		}
	}

	b.WriteString("OPERATIONS\n")
	t := table{header: []string{"operation", "account", "region", "calls", "errors", "throttles", "peak 1s", "peak 1m", "quota", "util 1m"}}
	for _, o := range r.Operations {
		t.add(o.Operation, o.Account, o.Region, count(o.Calls), count(o.Errors), count(o.Throttles), num(o.PeakRate1s), num(o.PeakRate1m),
			fmt.Sprintf("%s/%d", num(o.QuotaRate), o.QuotaBurst), fmtUtil(o.Utilization1m))
	}
	t.write(&b, "  ")

	for i, f := range r.Findings {
		if f.QuotaRequest == "" {
			continue
		}
		fmt.Fprintf(&b, "\nQUOTA INCREASE DRAFT  #%d %s\n", i+1, f.Operation)
		for _, line := range strings.Split(f.QuotaRequest, "\n") {
			fmt.Fprintf(&b, "  %s\n", line)
		}
	}
	if r.Partial() {
		fmt.Fprintf(&b, "\nPROBLEMS (%d)\n", r.ProblemCount)
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  %s\n", p)
		}
		if len(r.Problems) < r.ProblemCount {
			fmt.Fprintf(&b, "  … and %d more\n", r.ProblemCount-len(r.Problems))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func classList(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %s", k, count(m[k])))
	}
	return strings.Join(parts, ", ")
}

// shortPrincipal drops the "arn:aws:sts::<account>:" prefix.
func shortPrincipal(p string) string {
	if strings.HasPrefix(p, "arn:") {
		parts := strings.SplitN(p, ":", 6)
		if len(parts) == 6 {
			return parts[5]
		}
	}
	return p
}

// table is a plain-text table with aligned columns.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(b *strings.Builder, indent string) {
	width := make([]int, len(t.header))
	for i, h := range t.header {
		width[i] = len([]rune(h))
	}
	for _, r := range t.rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(cells []string) {
		b.WriteString(indent)
		for i, c := range cells {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c)
			if i < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))))
			}
		}
		b.WriteString("\n")
	}
	line(t.header)
	for _, r := range t.rows {
		line(r)
	}
}

// RenderMarkdown writes the report as Markdown (for tickets and chat).
func RenderMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	b.WriteString("# Amazon Connect throttling triage\n\n")
	if len(r.Findings) == 0 {
		fmt.Fprintf(&b, "**No throttling**: %s calls to %d operations, none refused by a quota.\n\n", count(r.Calls), len(r.Operations))
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		fmt.Fprintf(&b, "## %d. %s\n\n", i+1, mdEsc(headline(f)))
		fmt.Fprintf(&b, "- **What:** %s\n", mdEsc(whatLine(f)))
		fmt.Fprintf(&b, "- **Where:** %s\n", mdEsc(whereLine(f)))
		fmt.Fprintf(&b, "- **Who:** %s\n", mdEsc(whoLine(f)))
		fmt.Fprintf(&b, "- **Why:** %s\n", mdEsc(strings.Join(f.Why, " ")))
		if len(f.AlsoCauses) > 0 {
			fmt.Fprintf(&b, "- **Also consistent with:** %s\n", strings.Join(f.AlsoCauses, ", "))
		}
		fmt.Fprintf(&b, "- **Fix:** %s\n\n", mdEsc(f.Fix))
		b.WriteString("| principal | calls | throttles | session | user agent | source IP |\n|---|---:|---:|---|---|---|\n")
		for _, c := range f.TopCallers {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", mdCell(c.Principal), count(c.Calls), count(c.Throttles), mdCell(c.Session), mdCell(clip(c.UserAgent, 60)), mdCell(c.SourceIP))
		}
		b.WriteString("\n")
		if f.QuotaRequest != "" {
			b.WriteString("<details><summary>Quota increase request (draft)</summary>\n\n```text\n")
			b.WriteString(strings.ReplaceAll(f.QuotaRequest, "```", "'''"))
			b.WriteString("\n```\n\n</details>\n\n")
		}
	}
	if r.Partial() {
		fmt.Fprintf(&b, "> **Partial result:** %d problem(s) in the input; everything else was analysed.\n\n", r.ProblemCount)
	}
	b.WriteString("## Summary\n\n")
	fmt.Fprintf(&b, "- Records: %s Connect records from %d input(s); %s of other services skipped\n", count(r.Records), r.Files, count(r.Skipped))
	if !r.Start.IsZero() {
		fmt.Fprintf(&b, "- Time: %s to %s\n", stamp(r.Start), stamp(r.End))
	}
	fmt.Fprintf(&b, "- Calls %s, errors %s, throttles %s\n", count(r.Calls), count(r.Errors), count(r.Throttles))
	if len(r.ErrorsByClass) > 0 {
		fmt.Fprintf(&b, "- Errors by class: %s\n", classList(r.ErrorsByClass))
	}
	b.WriteString("\n## Operations\n\n| operation | account | region | calls | errors | throttles | peak 1s | peak 1m | quota | util 1m |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, o := range r.Operations {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s/%d | %s |\n", mdCell(o.Operation), mdCell(o.Account), mdCell(o.Region),
			count(o.Calls), count(o.Errors), count(o.Throttles), num(o.PeakRate1s), num(o.PeakRate1m), num(o.QuotaRate), o.QuotaBurst, fmtUtil(o.Utilization1m))
	}
	if r.Partial() {
		fmt.Fprintf(&b, "\n## Problems (%d)\n\n", r.ProblemCount)
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "- `%s`\n", strings.ReplaceAll(p.String(), "`", "'"))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdEsc neutralises Markdown/HTML markup in free text taken from logs.
func mdEsc(s string) string {
	r := strings.NewReplacer("<", "&lt;", ">", "&gt;", "|", "\\|", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]")
	return r.Replace(s)
}

func mdCell(s string) string { return mdEsc(strings.ReplaceAll(s, "\n", " ")) }
