package usage

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"
)

// Default thresholds, in percent of the applied quota.
const (
	DefaultWarn  = 70.0
	DefaultAlarm = 80.0
)

// Marks of a status row.
const (
	MarkNone  = ""
	MarkWarn  = "WARN"
	MarkAlarm = "ALARM"
)

// Row is one operation's usage against its quota.
type Row struct {
	Op            string  `json:"op"`
	Quota         Quota   `json:"quota"`
	Usage         Usage   `json:"usage"`
	Percent       float64 `json:"percent"`                  // PeakRate / Applied * 100
	PercentSecond float64 `json:"percent_second,omitempty"` // PeakSecond / Applied * 100, when known
	Headroom      float64 `json:"headroom"`                 // Applied - max(PeakRate, PeakSecond), requests/s
	Mark          string  `json:"mark,omitempty"`
}

// Status is the per-operation picture over a window.
type Status struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Warn   float64   `json:"warn"`
	Alarm  float64   `json:"alarm"`
	Rows   []Row     `json:"operations"` // operations with usage, by percent descending
	Unused []string  `json:"unused_ops"` // operations with a quota and no usage
	// Instance is one instance's concurrency quotas against its contacts in
	// progress, when asked for (quota status --instance-id).
	Instance *InstanceStatus `json:"instance,omitempty"`
}

// BuildStatus combines quotas and usage; warn and alarm of 0 mean the
// defaults.
func BuildStatus(q map[string]Quota, u map[string]Usage, from, to time.Time, warn, alarm float64) Status {
	if warn <= 0 {
		warn = DefaultWarn
	}
	if alarm <= 0 {
		alarm = DefaultAlarm
	}
	st := Status{From: from, To: to, Warn: warn, Alarm: alarm, Rows: []Row{}, Unused: []string{}}
	for _, op := range sortedOps(q) {
		us, ok := u[op]
		if !ok || us.Calls <= 0 && us.PeakSecond <= 0 {
			st.Unused = append(st.Unused, op)
			continue
		}
		r := Row{Op: op, Quota: q[op], Usage: us}
		if r.Quota.Applied > 0 {
			r.Percent = round2(r.Usage.PeakRate / r.Quota.Applied * 100)
			r.PercentSecond = round2(r.Usage.PeakSecond / r.Quota.Applied * 100)
		}
		r.Headroom = round2(r.Quota.Applied - math.Max(r.Usage.PeakRate, r.Usage.PeakSecond))
		r.Mark = markFor(math.Max(r.Percent, r.PercentSecond), warn, alarm)
		st.Rows = append(st.Rows, r)
	}
	sortRows(st.Rows)
	return st
}

func sortRows(rows []Row) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j].Percent > rows[j-1].Percent; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// Render writes st as text, json or md.
func (st Status) Render(w io.Writer, format string) error {
	switch format {
	case "json":
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(st)
	case "md":
		fmt.Fprintf(w, "## Connect API usage against quota\n\n%s to %s; warn at %g%%, alarm at %g%%.\n\n",
			st.From.UTC().Format(time.RFC3339), st.To.UTC().Format(time.RFC3339), st.Warn, st.Alarm)
		fmt.Fprintln(w, "| operation | quota (default) | adjustable | peak/min | peak rate/s | peak/s | % of quota | headroom/s | mark |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
		for _, r := range st.Rows {
			fmt.Fprintf(w, "| %s | %s | %s | %g | %.2f | %s | %.1f%% | %.2f | %s |\n", r.Op, quotaCell(r.Quota), yesNo(r.Quota.Adjustable),
				r.Usage.PeakMinute, r.Usage.PeakRate, secondCell(r.Usage), math.Max(r.Percent, r.PercentSecond), r.Headroom, r.Mark)
		}
		fmt.Fprintf(w, "\n%d operations with a quota had no calls.\n", len(st.Unused))
		if st.Instance != nil {
			st.Instance.renderMD(w)
		}
		return nil
	case "text", "":
		fmt.Fprintf(w, "Connect API usage against quota, %s to %s (warn %g%%, alarm %g%%)\n",
			st.From.UTC().Format(time.RFC3339), st.To.UTC().Format(time.RFC3339), st.Warn, st.Alarm)
		if len(st.Rows) == 0 {
			fmt.Fprintln(w, "No Connect API calls in the window.")
		} else {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "OPERATION\tQUOTA/s\tADJ\tPEAK/min\tPEAK rate/s\tPEAK/s\t% QUOTA\tHEADROOM/s\tMARK")
			for _, r := range st.Rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%g\t%.2f\t%s\t%.1f%%\t%.2f\t%s\n", r.Op, quotaCell(r.Quota), yesNo(r.Quota.Adjustable),
					r.Usage.PeakMinute, r.Usage.PeakRate, secondCell(r.Usage), math.Max(r.Percent, r.PercentSecond), r.Headroom, r.Mark)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		fmt.Fprintf(w, "%d operations with a quota had no calls.\n", len(st.Unused))
		if st.Instance != nil {
			return st.Instance.renderText(w)
		}
		return nil
	}
	return fmt.Errorf("format: must be text, json or md, got %q", format)
}

func quotaCell(q Quota) string {
	if q.Default != q.Applied {
		return fmt.Sprintf("%g (%g)", q.Applied, q.Default)
	}
	return fmt.Sprintf("%g", q.Applied)
}

func secondCell(u Usage) string {
	if u.PeakSecond <= 0 {
		return "-"
	}
	return fmt.Sprintf("%g", u.PeakSecond)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
