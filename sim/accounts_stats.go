package sim

import "sort"

// sumStats adds up the statistics of several accounts (Multi.StatsLast):
// every counter summed, per-operation and per-caller counts merged, the
// timeline summed per second, active contacts per instance side by side
// (instance ids differ between accounts); parts are kept in Accounts.
func sumStats(parts []Stats) Stats {
	out := Stats{Operations: map[string]Counts{}, Callers: map[string]Counts{}, Active: map[string]Active{}, Accounts: parts}
	secs := map[int64]*Second{}
	for i, p := range parts {
		if i == 0 || p.Since.Before(out.Since) {
			out.Since = p.Since
		}
		if p.Now.After(out.Now) {
			out.Now = p.Now
		}
		if i == 0 {
			out.Region = p.Region
		}
		out.Totals.merge(p.Totals)
		for k, c := range p.Operations {
			acc := out.Operations[k]
			acc.merge(c)
			out.Operations[k] = acc
		}
		for k, c := range p.Callers {
			acc := out.Callers[k]
			acc.merge(c)
			out.Callers[k] = acc
		}
		out.ContactsStarted += p.ContactsStarted
		out.DuplicateClientTokens += p.DuplicateClientTokens
		out.RejectedReorder += p.RejectedReorder
		out.CallSeconds += p.CallSeconds
		out.ContactEvents += p.ContactEvents
		out.ContactEventErrors += p.ContactEventErrors
		out.RefusedOutage += p.RefusedOutage
		for k, v := range p.DialRequests {
			if out.DialRequests == nil {
				out.DialRequests = map[string]int64{}
			}
			out.DialRequests[k] += v
		}
		for id, a := range p.Active {
			out.Active[id] = a
		}
		for _, sec := range p.Timeline {
			acc := secs[sec.T]
			if acc == nil {
				acc = &Second{T: sec.T}
				secs[sec.T] = acc
			}
			acc.Accepted += sec.Accepted
			acc.Throttled += sec.Throttled
			acc.Errors += sec.Errors
		}
	}
	out.Timeline = make([]Second, 0, len(secs))
	for _, sec := range secs {
		out.Timeline = append(out.Timeline, *sec)
	}
	sort.Slice(out.Timeline, func(i, j int) bool { return out.Timeline[i].T < out.Timeline[j].T })
	return out
}

// merge adds o's counts to c.
func (c *Counts) merge(o Counts) {
	c.Requests += o.Requests
	c.Accepted += o.Accepted
	c.Throttled += o.Throttled
	c.Errors += o.Errors
	c.ThrottledByCode = mergeCodes(c.ThrottledByCode, o.ThrottledByCode)
	c.ErrorsByCode = mergeCodes(c.ErrorsByCode, o.ErrorsByCode)
}

func mergeCodes(dst, src map[string]int64) map[string]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]int64, len(src))
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}
