package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WritePools writes the pools report as a table: per pool count the
// completion time against the N-pool lower bound, throttles, and the
// accounting that shows no customer was called twice.
func WritePools(w io.Writer, rep PoolsReport) error {
	if len(rep.Results) > 0 {
		r := rep.Results[0]
		fmt.Fprintf(w, "%s: %d StartOutboundVoiceContact jobs per run, rate scale %v: each account %g calls/s, bucket %g\n",
			ScenarioPools, r.Jobs, rep.RateScale, r.Rate, r.Burst)
		fmt.Fprintf(w, "lower bound over N pools: (jobs - N x bucket) / (N x rate)\n\n")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "pools\tsucceeded\tdead\tcontacts started\t429s (of successes)\tcompletion\tbound\tratio\tper pool")
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	for _, r := range rep.Results {
		names := make([]string, 0, len(r.PerPool))
		for n := range r.PerPool {
			names = append(names, n)
		}
		slices.Sort(names)
		var per []string
		for _, n := range names {
			per = append(per, fmt.Sprintf("%s=%d", n, r.PerPool[n]))
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d (%.2f%%)\t%v\t%v\t%.3f\t%s\n", r.Pools, r.Succeeded, r.Dead, r.ContactsStarted,
			r.Throttled, 100*r.Throttles, ms(r.Elapsed), ms(r.Bound), r.Ratio, strings.Join(per, " "))
	}
	return tw.Flush()
}

// WritePoolsJSON writes the report as indented JSON.
func WritePoolsJSON(w io.Writer, rep PoolsReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
