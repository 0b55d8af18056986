package triage

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/quotas"
)

// repStat is one refused request (caller + parameters) and how often it was
// refused.
type repStat struct {
	principal   string
	n           int64
	first, last int64
}

// sdkAttempts is the AWS SDKs' default attempt limit (standard mode).
const sdkAttempts = 3

// finding builds the finding of one throttled operation.
func finding(op *opAgg, q quotas.API, listed bool, t *timeline, reps []repStat, o Options) Finding {
	f := Finding{
		Operation:       op.key.op,
		Account:         op.key.account,
		Region:          op.key.region,
		Calls:           op.calls,
		Errors:          op.errors,
		Throttles:       op.thr,
		Codes:           codeCounts(op),
		PeakRate1s:      float64(t.peak1s.calls),
		PeakRate1m:      round2(float64(t.peak1m) / 60),
		PeakAt:          unix(t.peakAt),
		QuotaRate:       q.Rate,
		QuotaBurst:      q.Burst,
		QuotaAdjustable: q.Adjustable,
		QuotaListed:     listed,
		FromSDKLogs:     op.sdk == op.calls,
	}
	if q.Rate > 0 {
		f.Utilization1s = round2(f.PeakRate1s / q.Rate)
		f.Utilization1m = round2(f.PeakRate1m / q.Rate)
	}
	// The dominant quota class and its code.
	var top *codeStat
	for _, cs := range op.codes {
		if !isThrottle(cs.info.Class) {
			continue
		}
		if top == nil || cs.n > top.n || cs.n == top.n && cs.info.Code < top.info.Code {
			top = cs
		}
	}
	var classN [numClasses]int64
	for _, cs := range op.codes {
		if isThrottle(cs.info.Class) {
			classN[cs.info.Class] += cs.n
		}
	}
	best := awserr.ClassRateThrottle
	for _, c := range []awserr.Class{awserr.ClassRateThrottle, awserr.ClassConcurrencyQuota, awserr.ClassHardQuota} {
		if classN[c] > classN[best] {
			best = c
		}
	}
	f.Class = best.String()
	if top != nil {
		f.Advice = top.info.Advice
	}
	switch best {
	case awserr.ClassRateThrottle:
		f.QuotaCode, f.QuotaName = q.Code, awserr.RateQuotaName(op.key.op)
	default:
		for _, cs := range op.codes {
			if cs.info.Class == best && cs.info.QuotaCode != "" {
				f.QuotaCode, f.QuotaName = cs.info.QuotaCode, cs.info.QuotaName
				break
			}
		}
	}
	// When did it throttle?
	firstThr, lastThr := int64(0), int64(0)
	for i, c := range t.cells {
		if c.thr > 0 {
			if firstThr == 0 {
				firstThr = t.secs[i]
			}
			lastThr = t.secs[i]
		}
	}
	f.FirstThrottle, f.LastThrottle = unix(firstThr), unix(lastThr)
	if firstThr != 0 {
		pad := max(int64(60), (lastThr-firstThr)/5)
		from, to := max(firstThr-pad, op.first), min(lastThr+pad, op.last)
		f.Series = t.series(from, to, 900)
	} else {
		f.Series = t.series(op.first, op.last, 900)
	}
	// Who?
	n := o.topN()
	for _, k := range op.dims[dimPrincipal].ranked(n, true) {
		f.TopCallers = append(f.TopCallers, caller(k, op.dims[dimPrincipal].m[k]))
	}
	for _, k := range op.dims[dimPrincipal].ranked(n, false) {
		f.TopByCalls = append(f.TopByCalls, caller(k, op.dims[dimPrincipal].m[k]))
	}
	if f.TopCallers == nil {
		f.TopCallers = []Caller{}
	}
	f.Roles = contributors(&op.dims[dimRole], n)
	f.Sessions = contributors(&op.dims[dimSession], n)
	f.UserAgents = contributors(&op.dims[dimAgent], n)
	f.SourceIPs = contributors(&op.dims[dimIP], n)
	// Repeated requests: how many refused attempts repeated an earlier one,
	// and how far apart. CloudTrail times are whole seconds, but for
	// attempts at random points of a second the difference of the seconds
	// averages out to the real spacing.
	// A request refused fewer times than its caller's most-refused one was
	// not given up: its next attempt, a retry too, succeeded. Without the
	// retries the calls are the distinct requests.
	// The retries are counted in the minute of the request's last refusal.
	var gaps, span int64
	maxN := map[string]int64{}
	for _, r := range reps {
		maxN[r.principal] = max(maxN[r.principal], r.n)
	}
	retries := map[int64]int64{}
	for _, r := range reps {
		if r.n >= 2 && r.last >= r.first {
			gaps += r.n - 1
			span += r.last - r.first
		}
		n := r.n - 1
		if r.n < maxN[r.principal] {
			n++
		}
		retries[floorDiv(r.last, 60)] += n
	}
	f.Repeats = gaps
	if gaps > 0 {
		f.RepeatGapSeconds = math.Round(float64(span)/float64(gaps)*1000) / 1000
	}
	var demand int64
	for i, mi := range t.minute {
		demand = max(demand, t.mcells[i].calls-retries[mi])
	}
	f.DemandRate1m = round2(float64(demand) / 60)
	// Why?
	ev := detect(op, q, t, reps, &f)
	if len(ev) == 0 {
		f.Cause = CauseUnknown
		f.Why = []string{fmt.Sprintf("%s calls to %s were refused; no single pattern (spike, polling, retry storm, synchronized start, provisioning) explains them.", count(op.thr), op.key.op)}
	} else {
		f.Cause = ev[0].cause
		f.Why = ev[0].why
		for _, e := range ev[1:] {
			f.AlsoCauses = append(f.AlsoCauses, e.cause)
		}
	}
	if f.Class == awserr.ClassConcurrencyQuota.String() {
		n := int64(0)
		for _, c := range f.Codes {
			if c.Class == f.Class {
				n += c.Count
			}
		}
		f.Why = append([]string{fmt.Sprintf("%s calls were refused because %s was full (%s); the AWS SDKs retry this code as a rate throttle, which only adds calls while no contact has ended.",
			count(n), quotaLabel(f.QuotaName, f.QuotaCode), topCode(&f))}, f.Why...)
	}
	f.Fix, f.QuotaRequest = fix(&f, op, q)
	if f.Fix != "" {
		f.Fix = strings.ToUpper(f.Fix[:1]) + f.Fix[1:]
	}
	return f
}

func caller(k string, c *counter) Caller {
	cl := Caller{Principal: k, Session: c.session, UserAgent: c.agent, SourceIP: c.ip, Calls: c.calls, Throttles: c.thr}
	if c.first > 0 {
		cl.First, cl.Last = unix(c.first), unix(c.last)
	}
	return cl
}

func contributors(t *topk, n int) []Contributor {
	keys := t.ranked(n, true)
	if len(keys) == 0 {
		return nil
	}
	out := make([]Contributor, 0, len(keys))
	for _, k := range keys {
		c := t.m[k]
		out = append(out, Contributor{Key: k, Calls: c.calls, Throttles: c.thr})
	}
	return out
}

// evidence is one matched cause with its explanation.
type evidence struct {
	cause string
	why   []string
}

// detect runs the cause detectors in priority order: provisioning, polling,
// retry-storm, synchronized-start, spike, sustained-overload. The first
// match is the cause.
func detect(op *opAgg, q quotas.API, t *timeline, reps []repStat, f *Finding) []evidence {
	var out []evidence
	for _, d := range []func(*opAgg, quotas.API, *timeline, []repStat, *Finding) (evidence, bool){
		detectProvisioning, detectPolling, detectRetryStorm, detectSynchronizedStart, detectSpike, detectSustained,
	} {
		if e, ok := d(op, q, t, reps, f); ok {
			out = append(out, e)
		}
	}
	return out
}

// provisioningPrefixes start the names of configuration-changing operations
// (ecosystem.md §2 groups A–C).
var provisioningPrefixes = []string{
	"Create", "Delete", "Update", "Associate", "Disassociate", "Claim", "Release", "Import",
	"Replicate", "Activate", "Deactivate", "BatchAssociate", "BatchDisassociate",
}

// IsProvisioningOp reports whether op changes configuration (instances,
// phone numbers, users, queues, flows, …) rather than running contacts or
// reading data. Contact runtime operations (UpdateContactAttributes,
// CreateParticipant, …) are not provisioning.
func IsProvisioningOp(op string) bool {
	hit := false
	for _, p := range provisioningPrefixes {
		if strings.HasPrefix(op, p) {
			hit = true
			break
		}
	}
	if !hit {
		return false
	}
	if strings.Contains(op, "Contact") && !strings.Contains(op, "ContactFlow") {
		return false // contact runtime: UpdateContactAttributes, CreateContact, …
	}
	switch op {
	case "CreateParticipant", "UpdateParticipantRoleConfig", "CreatePersistentContactAssociation", "UpdateUserStatus":
		return false
	}
	return true
}

// IsMetricsOp reports the real-time and historical metrics operations.
func IsMetricsOp(op string) bool {
	switch op {
	case "GetCurrentMetricData", "GetMetricData", "GetMetricDataV2", "GetCurrentUserData", "GetContactMetrics":
		return true
	}
	return false
}

// isRead reports read operations by name or by the records' readOnly flag.
func isRead(op *opAgg) bool {
	name := op.key.op
	if IsMetricsOp(name) || op.readOnly*2 > op.calls {
		return true
	}
	for _, p := range []string{"Get", "Describe", "List", "Search"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func detectProvisioning(op *opAgg, q quotas.API, t *timeline, _ []repStat, f *Finding) (evidence, bool) {
	name := op.key.op
	if f.Class == awserr.ClassHardQuota.String() {
		why := []string{fmt.Sprintf("%s calls to %s failed with a hard quota error (%s): %s is exhausted, and no retry clears it.",
			count(f.Throttles), name, topCode(f), quotaLabel(f.QuotaName, f.QuotaCode))}
		if len(f.TopCallers) > 0 {
			c := f.TopCallers[0]
			why = append(why, fmt.Sprintf("%s made %s of the %s calls%s.", c.Principal, count(c.Calls), count(f.Calls), agentNote(c.UserAgent)))
		}
		return evidence{CauseProvisioning, why}, true
	}
	if !IsProvisioningOp(name) {
		return evidence{}, false
	}
	why := []string{fmt.Sprintf("%s is a provisioning action: %s calls, %s refused (%s), peaking at %s/s against a quota of %s/s with a burst of %d.",
		name, count(op.calls), count(op.thr), topCode(f), num(f.PeakRate1s), num(q.Rate), q.Burst)}
	if len(f.TopByCalls) > 0 {
		c := f.TopByCalls[0]
		why = append(why, fmt.Sprintf("%s made %s of them (%s)%s between %s and %s.", c.Principal, count(c.Calls),
			pct(c.Calls, op.calls), agentNote(c.UserAgent), clock(c.First), clock(c.Last)))
	}
	return evidence{CauseProvisioning, why}, true
}

func detectPolling(op *opAgg, q quotas.API, t *timeline, _ []repStat, f *Finding) (evidence, bool) {
	if !isRead(op) {
		return evidence{}, false
	}
	for _, k := range op.dims[dimPrincipal].ranked(3, false) {
		c := op.dims[dimPrincipal].m[k]
		if c.first <= 0 {
			continue
		}
		span := c.last - c.first + 1
		rate := float64(c.calls) / float64(span)
		if c.calls < 120 || span < 120 || rate < 1 || c.calls*5 < op.calls || c.thr*10 > c.calls*6 {
			continue
		}
		// Regular: the operation is called in nearly every second of the span.
		lo := sort.Search(len(t.secs), func(i int) bool { return t.secs[i] >= c.first })
		hi := sort.Search(len(t.secs), func(i int) bool { return t.secs[i] > c.last })
		if float64(hi-lo) < 0.8*float64(span) {
			continue
		}
		why := []string{
			fmt.Sprintf("%s polls %s every %s s (%s calls/s) for %s: %s calls, %s of all %s calls.",
				k, op.key.op, num(1/rate), num(rate), dur(span), count(c.calls), pct(c.calls, op.calls), op.key.op),
			fmt.Sprintf("The quota of %s/s with a burst of %d is shared by every caller in the account and Region; %s calls were refused, %s of them to this caller.",
				num(q.Rate), q.Burst, count(op.thr), count(c.thr)),
		}
		return evidence{CausePolling, why}, true
	}
	return evidence{}, false
}

// subBackoffGap is the mean spacing (seconds) of repeated refused attempts
// below which no backoff is at work: the SDKs wait about a second, on
// average half of it, before retrying a throttle (connect-api.md §6).
const subBackoffGap = 0.1

func detectRetryStorm(op *opAgg, q quotas.API, t *timeline, reps []repStat, f *Finding) (evidence, bool) {
	type agg struct {
		refused, excess, maxN int64
		span, gaps, reqs      int64 // over requests refused at least twice
	}
	by := map[string]*agg{}
	for _, r := range reps {
		a := by[r.principal]
		if a == nil {
			a = &agg{}
			by[r.principal] = a
		}
		a.refused += r.n
		if r.n > sdkAttempts {
			a.excess += r.n - sdkAttempts
		}
		a.maxN = max(a.maxN, r.n)
		if r.n >= 2 && r.last >= r.first {
			a.span += r.last - r.first
			a.gaps += r.n - 1
			a.reqs++
		}
	}
	// A storm is a caller that repeats refused requests either more often
	// than any SDK would (beyond its attempt limit, at a second or less
	// apart) or at sub-backoff spacing.
	storm := func(a *agg) bool {
		if a.gaps < 20 || a.gaps*5 < op.thr {
			return false
		}
		gap := float64(a.span) / float64(a.gaps)
		if gap < subBackoffGap {
			return true
		}
		return a.excess >= 20 && a.maxN >= 6 && a.excess*5 >= op.thr && gap <= 1
	}
	var bestK string
	var best *agg
	for k, a := range by {
		if !storm(a) {
			continue
		}
		if best == nil || a.gaps > best.gaps || a.gaps == best.gaps && k < bestK {
			best, bestK = a, k
		}
	}
	if best == nil {
		return evidence{}, false
	}
	c := op.dims[dimPrincipal].m[bestK]
	if c != nil && c.thr*2 < c.calls {
		return evidence{}, false // mostly successful: not hammering a closed bucket
	}
	gap := float64(best.span) / float64(best.gaps)
	why := []string{
		fmt.Sprintf("%s repeated %s refused %s requests (same ClientToken or the same parameters) %s times, up to %d attempts each, about %s apart on average — no backoff (the SDKs wait about a second before retrying a throttle): %s of all throttles are these repeats.",
			bestK, count(best.reqs), op.key.op, count(best.gaps), best.maxN, spacing(gap), pct(best.gaps, op.thr)),
	}
	if c != nil {
		why = append(why, fmt.Sprintf("%s of its %s calls were refused; retrying with no backoff keeps the %s/s bucket empty for every other caller, so its own new requests are refused too.",
			pct(c.thr, c.calls), count(c.calls), num(q.Rate)))
	}
	return evidence{CauseRetryStorm, why}, true
}

// spacing words a gap in seconds, in milliseconds below one second.
func spacing(sec float64) string {
	if sec < 1 {
		return fmt.Sprintf("%d ms", int64(math.Round(sec*1000)))
	}
	return num(math.Round(sec*10)/10) + " s"
}

// overloadRun returns the longest stretch of consecutive minutes whose
// average rate is above the quota's rate: its first minute (Unix seconds),
// its length in minutes and its calls.
func overloadRun(t *timeline, rate float64) (from int64, minutes int, calls int64) {
	run, runCalls := 0, int64(0)
	for i, mi := range t.minute {
		if float64(t.mcells[i].calls) > rate*60 {
			if run > 0 && t.minute[i-1] == mi-1 {
				run++
				runCalls += t.mcells[i].calls
			} else {
				run, runCalls = 1, t.mcells[i].calls
			}
			if run > minutes {
				from, minutes, calls = (mi-int64(run)+1)*60, run, runCalls
			}
		} else {
			run = 0
		}
	}
	return from, minutes, calls
}

// sustainedMinutes is the shortest overload, in whole minutes above the
// quota's rate, called sustained.
const sustainedMinutes = 2

// detectSustained: not a peak above the usual level but a level above the
// quota, minute after minute. A queue only delays such calls; they need
// pacing below the quota or a higher quota.
func detectSustained(op *opAgg, q quotas.API, t *timeline, _ []repStat, f *Finding) (evidence, bool) {
	if q.Rate <= 0 || op.thr == 0 {
		return evidence{}, false
	}
	from, mins, calls := overloadRun(t, q.Rate)
	if mins < sustainedMinutes {
		return evidence{}, false
	}
	// A spike is a peak above the usual level: the overload is the level.
	var ms []int64
	for _, m := range t.mcells {
		ms = append(ms, m.calls)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i] < ms[j] })
	if float64(t.peak1m) >= 2*max(float64(ms[len(ms)/2]), 1) {
		return evidence{}, false
	}
	rate := float64(calls) / float64(mins*60)
	why := []string{
		fmt.Sprintf("Calls to %s ran above the quota of %s/s for %d minutes without a break (from %s, %s/s on average): a sustained overload, not a spike above a usual level.",
			op.key.op, num(q.Rate), mins, clock(unix(from)), num(round2(rate))),
	}
	if f.Repeats > 0 && op.calls > 0 {
		why = append(why, fmt.Sprintf("Without the retries the busiest minute carried about %s distinct requests/s (%s/s with them).", num(f.DemandRate1m), num(f.PeakRate1m)))
	}
	return evidence{CauseSustained, why}, true
}

// slot is one 5-second window of one operation.
type slot struct {
	t          int64
	d          float64
	bits       [4]uint64
	calls, thr int64
}

func slots(op *opAgg, t *timeline) []slot {
	var out []slot
	for _, mi := range t.minute {
		m := op.minutes[mi]
		for s := 0; s < 60/slotSeconds; s++ {
			var sl slot
			for k := 0; k < slotSeconds; k++ {
				c := m.sec[s*slotSeconds+k]
				sl.calls += int64(c.calls)
				sl.thr += int64(c.thr)
			}
			if sl.calls == 0 {
				continue
			}
			sl.t = mi*60 + int64(s*slotSeconds)
			sl.bits = m.distinct[s]
			sl.d = distinctEstimate(sl.bits)
			out = append(out, sl)
		}
	}
	return out
}

func detectSynchronizedStart(op *opAgg, q quotas.API, t *timeline, _ []repStat, f *Finding) (evidence, bool) {
	if !isRead(op) {
		return evidence{}, false
	}
	sl := slots(op, t)
	if len(sl) == 0 {
		return evidence{}, false
	}
	ds := make([]float64, len(sl))
	peak := 0
	for i, s := range sl {
		ds[i] = s.d
		if s.d > sl[peak].d {
			peak = i
		}
	}
	sort.Float64s(ds)
	base := max(ds[len(ds)/2], 1)
	dmax := sl[peak].d
	if dmax < 20 || dmax < 4*base {
		return evidence{}, false
	}
	lo, hi := peak, peak
	for lo > 0 && sl[lo-1].t == sl[lo].t-slotSeconds && sl[lo-1].d >= dmax/4 {
		lo--
	}
	for hi+1 < len(sl) && sl[hi+1].t == sl[hi].t+slotSeconds && sl[hi+1].d >= dmax/4 {
		hi++
	}
	var bits [4]uint64
	var calls, thr int64
	for _, s := range sl[lo : hi+1] {
		for w := range bits {
			bits[w] |= s.bits[w]
		}
		calls += s.calls
		thr += s.thr
	}
	// Throttles right after the window belong to it: the sessions' retries.
	end := sl[hi].t + slotSeconds
	for _, s := range sl[hi+1:] {
		if s.t >= end+60 {
			break
		}
		thr += s.thr
	}
	d := distinctEstimate(bits)
	if thr*2 < op.thr || float64(calls) > 10*d {
		return evidence{}, false
	}
	f.staggerCalls = float64(calls)
	f.staggerAgents = int64(math.Round(d))
	width := end - sl[lo].t
	why := []string{
		fmt.Sprintf("About %s distinct callers (principal and source IP) called %s within %d s (%s to %s), against about %s in a usual 5-second window.",
			count(int64(math.Round(d))), op.key.op, width, clock(unix(sl[lo].t)), clock(unix(end)), count(int64(math.Round(base)))),
		fmt.Sprintf("%s of the throttles fell in that window and the minute after it; each caller made about %s calls — a synchronized start (shift change, VDI restart, desktop reload).",
			pct(thr, op.thr), num(float64(calls)/max(d, 1))),
	}
	return evidence{CauseSynchronizedStart, why}, true
}

func detectSpike(op *opAgg, q quotas.API, t *timeline, _ []repStat, f *Finding) (evidence, bool) {
	var over, thrSecs, active int64
	for _, c := range t.cells {
		if c.calls > 0 {
			active++
		}
		if c.thr > 0 {
			thrSecs++
			if float64(c.calls) > q.Rate {
				over += int64(c.thr)
			}
		}
	}
	if op.thr == 0 || over*2 < op.thr {
		return evidence{}, false
	}
	var mins []int64
	for _, m := range t.mcells {
		mins = append(mins, m.calls)
	}
	sort.Slice(mins, func(i, j int) bool { return mins[i] < mins[j] })
	median := float64(mins[len(mins)/2])
	ratio := float64(t.peak1m) / max(median, 1)
	if ratio < 2 && float64(thrSecs) > 0.3*float64(active) {
		return evidence{}, false
	}
	why := []string{
		fmt.Sprintf("Calls to %s peaked at %s/s (%s/s averaged over the busiest minute) at %s, %s× the usual %s/s, against a quota of %s/s with a burst of %d.",
			op.key.op, num(f.PeakRate1s), num(f.PeakRate1m), clock(f.PeakAt), num(ratio), num(median/60), num(q.Rate), q.Burst),
		fmt.Sprintf("%s of the throttles fell in seconds with more calls than the quota's rate.", pct(over, op.thr)),
	}
	if len(f.TopByCalls) > 0 {
		c := f.TopByCalls[0]
		why = append(why, fmt.Sprintf("The largest caller is %s with %s calls (%s) and %s throttled.", c.Principal, count(c.Calls), pct(c.Calls, op.calls), count(c.Throttles)))
	}
	return evidence{CauseSpike, why}, true
}

// fix words the remedy for a finding and drafts a quota increase request
// where one helps.
func fix(f *Finding, op *opAgg, q quotas.API) (string, string) {
	name := f.Operation
	who := "the top caller"
	if len(f.TopCallers) > 0 {
		who = f.TopCallers[0].Principal
	}
	var b strings.Builder
	request := ""
	switch {
	case f.Class == awserr.ClassHardQuota.String():
		fmt.Fprintf(&b, "No retry clears this: %s is exhausted. Stop the job that keeps calling %s, free resources you no longer use, and request an increase of %s (draft below). "+
			"Behind Tollgate these calls fail fast and go to the dead-letter queue with the reason instead of being retried.",
			quotaLabel(f.QuotaName, f.QuotaCode), name, orStr(f.QuotaCode, "the quota"))
		request = draftRequest(f, op, q)
		return b.String(), request
	case f.Class == awserr.ClassConcurrencyQuota.String():
		fmt.Fprintf(&b, "%s is full: calls can succeed only when running contacts end. Send the work through `tollgate serve` so it is parked and requeued with a delay instead of retried at once; "+
			"if the quota stays full at normal load, request an increase of %s (draft below).", quotaLabel(f.QuotaName, f.QuotaCode), orStr(f.QuotaCode, "the quota"))
		request = draftRequest(f, op, q)
		return b.String(), request
	}
	switch f.Cause {
	case CausePolling:
		fmt.Fprintf(&b, "Poll once, serve many: let `tollgate serve` poll %s on a schedule (poll.queries in its config file, or --poll-instance and --poll-queues for the queue wallboard) "+
			"and point dashboards at its cache (GET /v1/metrics, or the dashboard at /), so the account spends one call per interval instead of one per viewer; then stop %s from polling directly.", name, who)
		if !q.Adjustable {
			fmt.Fprintf(&b, " The %s rate cannot be increased, so caching is the only fix.", name)
		}
	case CauseRetryStorm:
		fmt.Fprintf(&b, "Make %s back off: retry with capped exponential backoff and jitter, at most %d attempts, and draw retries from the same bucket as first attempts — "+
			"wrap its client with Tollgate (`awssdk.Govern`, `Governor.Do`) or send the work through `tollgate serve`, which admits at %s/s.", who, sdkAttempts, num(q.Rate))
		if f.DemandRate1m > q.Rate && q.Adjustable {
			fmt.Fprintf(&b, " Even without the retries the busiest minute carried about %s distinct requests/s; if that is normal business, request a higher rate (draft below).", num(f.DemandRate1m))
			request = draftRequest(f, op, q)
		}
	case CauseSynchronizedStart:
		window := math.Ceil(f.staggerCalls / max(q.Rate, 0.1))
		fmt.Fprintf(&b, "Stagger start-up: spread the sessions' first %s calls with random jitter over at least %s (%s start-up calls ÷ %s/s; `tollgate stagger plan --agents %d --calls %s` plans the window and the hashed slots), "+
			"or serve the start-up reads from a shared cache, so a shift change does not drain the bucket at once.", name, dur(int64(max(window, 10))), count(int64(f.staggerCalls)), num(q.Rate), max(f.staggerAgents, 1), name)
	case CauseSustained:
		fmt.Fprintf(&b, "Pace %s below the quota: send the calls through `tollgate serve` (or wrap the client with `awssdk.Govern`), which admits at %s/s; a queue only delays a load that stays above the quota, so ", name, num(q.Rate))
		if q.Adjustable {
			b.WriteString("if this level is normal business, request a higher rate (draft below).")
			request = draftRequest(f, op, q)
		} else {
			fmt.Fprintf(&b, "spread the work over a longer window: the %s rate cannot be increased.", name)
		}
	case CauseProvisioning:
		work := op.calls - op.thr // the calls that did the work; the rest were refused attempts
		secs := float64(work) / max(q.Rate, 0.1)
		fmt.Fprintf(&b, "Pace the provisioning job at the quota instead of retrying into it: run %s through Tollgate's governor (admission at %s/s, burst %d; `tollgate serve` can queue the calls) — "+
			"its %s successful calls take about %s at that rate, with no refusals.", name, num(q.Rate), q.Burst, count(work), dur(int64(math.Ceil(secs))))
		if q.Adjustable {
			b.WriteString(" If provisioning at this volume recurs, request a higher rate (draft below).")
			request = draftRequest(f, op, q)
		}
	default: // spike, unknown
		fmt.Fprintf(&b, "Buffer the calls through `tollgate serve`: its durable queue absorbs the peak and drains at %s/s, so calls wait instead of failing", num(q.Rate))
		if f.PeakRate1m > q.Rate {
			fmt.Fprintf(&b, " (a minute at %s/s drains in about %s)", num(f.PeakRate1m), dur(int64(math.Ceil(f.PeakRate1m*60/q.Rate))))
		}
		b.WriteString(".")
		if q.Adjustable {
			b.WriteString(" If peaks like this are normal business, request a higher rate (draft below).")
			request = draftRequest(f, op, q)
		} else {
			fmt.Fprintf(&b, " The %s rate cannot be increased.", name)
		}
	}
	return b.String(), request
}

// draftRequest writes a Service Quotas increase request with the numbers
// AWS asks for.
func draftRequest(f *Finding, op *opAgg, q quotas.API) string {
	var b strings.Builder
	acct := orStr(f.Account, "<account>")
	region := orStr(f.Region, "<region>")
	switch f.Class {
	case awserr.ClassRateThrottle.String():
		if !q.Adjustable {
			return ""
		}
		// The distinct requests, not the repeated attempts, are the demand.
		want := math.Max(math.Ceil(f.DemandRate1m*1.25), math.Ceil(q.Rate)+1)
		fmt.Fprintf(&b, "Service: Amazon Connect (service code connect), Region %s, account %s\n", region, acct)
		fmt.Fprintf(&b, "Quota: %s (%s), current value %s requests/s (burst %d)\n", f.QuotaName, orStr(f.QuotaCode, "code unknown: look it up with `aws service-quotas list-service-quotas --service-code connect`"), num(q.Rate), q.Burst)
		fmt.Fprintf(&b, "Requested value: %s requests/s\n", num(want))
	default:
		fmt.Fprintf(&b, "Service: Amazon Connect (service code connect), Region %s, account %s\n", region, acct)
		fmt.Fprintf(&b, "Quota: %s (%s)\n", orStr(f.QuotaName, "the resource quota named in the error"), orStr(f.QuotaCode, "code unknown"))
		if r, ok := resourceByCode(f.QuotaCode); ok {
			fmt.Fprintf(&b, "Current default: %d; requested value: %d\n", r.Default, r.Default+int(max(f.Throttles, 1)))
		}
	}
	fmt.Fprintf(&b, "Justification: between %s and %s, %s %s calls were made, peaking at %s/s (%s/s over the busiest minute); %s failed with %s.",
		stamp(f.FirstThrottle), stamp(f.LastThrottle), count(f.Calls), f.Operation, num(f.PeakRate1s), num(f.PeakRate1m), count(f.Throttles), topCode(f))
	if len(f.TopByCalls) > 0 {
		fmt.Fprintf(&b, " The main caller is %s.", f.TopByCalls[0].Principal)
	}
	b.WriteString(" Business need: <agents, contacts per hour, when this volume occurs and why>.")
	b.WriteString(retryNote(f))
	return b.String()
}

// retryNote states what the data shows about retries, for a drafted
// request: it never claims pacing the data does not show.
func retryNote(f *Finding) string {
	switch {
	case f.Repeats == 0:
		return ""
	case f.RepeatGapSeconds < subBackoffGap:
		return fmt.Sprintf(" %s of the calls repeated a refused request about %s later, without backoff; the requested value counts distinct requests (about %s/s in the busiest minute), not these repeats. Retry fix: <how the retries now back off and are paced at the quota, and since when>.",
			count(f.Repeats), spacing(f.RepeatGapSeconds), num(f.DemandRate1m))
	default:
		return fmt.Sprintf(" Refused requests were retried with backoff (%s repeats, %s apart on average); the requested value counts distinct requests, not the repeats.",
			count(f.Repeats), spacing(f.RepeatGapSeconds))
	}
}

func resourceByCode(code string) (quotas.Resource, bool) {
	if code == "" {
		return quotas.Resource{}, false
	}
	for _, r := range quotas.Default().Resources() {
		if r.Code == code {
			return r, true
		}
	}
	return quotas.Resource{}, false
}

func topCode(f *Finding) string {
	for _, c := range f.Codes {
		if c.Class == f.Class {
			return c.Code
		}
	}
	if len(f.Codes) > 0 {
		return f.Codes[0].Code
	}
	return "an error"
}

func quotaLabel(name, code string) string {
	switch {
	case name != "" && code != "":
		return fmt.Sprintf("the quota %q (%s)", name, code)
	case name != "":
		return fmt.Sprintf("the quota %q", name)
	case code != "":
		return "quota " + code
	}
	return "a resource quota"
}

func agentNote(ua string) string {
	if ua == "" {
		return ""
	}
	return ", user agent " + clip(ua, 80)
}

func orStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
