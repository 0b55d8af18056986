package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteShiftChange writes the shift-change report as a table: per strategy
// the measured figures beside the planner's.
func WriteShiftChange(w io.Writer, rep ShiftChangeReport) error {
	p := rep.Plan
	var calls []string
	for _, c := range p.Calls {
		calls = append(calls, fmt.Sprintf("%s×%d", c.Op, c.Count))
	}
	fmt.Fprintf(w, "%s: %d agents, start-up calls %s, share %v, rate scale %v (times below are unscaled)\n",
		ScenarioShiftChange, p.Agents, strings.Join(calls, ", "), p.Share, rep.RateScale)
	fmt.Fprintf(w, "planner: start-up bucket %g/s, %g at once, last reserved start %v; hashed window %v\n\n",
		p.StartUp.Rate, p.StartUp.Burst, p.LastStart, p.HashedWindow)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "strategy\twindow\tthrottled (planner)\tgave up (planner)"
	for _, a := range p.Ops {
		head += "\tpeak/s " + a.Op + " (planner)"
	}
	fmt.Fprintln(tw, head+"\tready p50\tp99\tmax (planner max)")
	r100 := func(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }
	for _, r := range rep.Results {
		o, _ := p.Outcome(r.Strategy)
		line := fmt.Sprintf("%s\t%v\t%d (%.1f)\t%d (%.1f)", r.Strategy, r100(r.Window), r.Throttled, o.Throttled, r.Failed, o.Failed)
		for _, a := range p.Ops {
			line += fmt.Sprintf("\t%d (%.1f)", r.Peak[a.Op], o.Peak[a.Op])
		}
		fmt.Fprintf(tw, "%s\t%v\t%v\t%v (%v)\n", line, r100(r.ReadyP50), r100(r.ReadyP99), r100(r.ReadyMax), r100(o.ReadyMax))
	}
	return tw.Flush()
}

// WriteShiftChangeJSON writes the report as indented JSON.
func WriteShiftChangeJSON(w io.Writer, rep ShiftChangeReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
