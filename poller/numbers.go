package poller

import (
	"encoding/json"
	"sort"
)

// Numbers extracts the figures a dashboard charts from a query's value:
//
//   - metric results (GetCurrentMetricData, GetMetricDataV2, GetMetricData):
//     each metric's value summed over the result rows, by metric name
//     (e.g. AGENTS_AVAILABLE, CONTACTS_IN_QUEUE, OLDEST_CONTACT_AGE);
//   - other top-level numbers as they are (but ApproximateTotalCount
//     beside metric results, which counts rows), and top-level lists by
//     their length (e.g. "UserDataList" for GetCurrentUserData).
func Numbers(value json.RawMessage) map[string]float64 {
	out := map[string]float64{}
	var doc map[string]json.RawMessage
	if json.Unmarshal(value, &doc) != nil {
		return out
	}
	_, metrics := doc["MetricResults"]
	for k, v := range doc {
		if metrics && k == "ApproximateTotalCount" {
			continue // the number of result rows, not a figure
		}
		if k == "MetricResults" {
			metricNumbers(v, out)
			continue
		}
		var f float64
		if json.Unmarshal(v, &f) == nil {
			out[k] = f
			continue
		}
		var list []json.RawMessage
		if json.Unmarshal(v, &list) == nil {
			out[k] = float64(len(list))
		}
	}
	return out
}

type metricRow struct {
	Collections []struct {
		Metric struct{ Name string }
		Value  *float64
	}
}

func metricNumbers(raw json.RawMessage, out map[string]float64) {
	var rows []metricRow
	if json.Unmarshal(raw, &rows) != nil {
		return
	}
	for _, r := range rows {
		for _, c := range r.Collections {
			if c.Metric.Name == "" {
				continue
			}
			v := 0.0
			if c.Value != nil {
				v = *c.Value
			}
			out[c.Metric.Name] += v
		}
	}
}

// names returns m's keys, sorted.
func names(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
