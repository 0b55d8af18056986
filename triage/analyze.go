package triage

import (
	"context"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/quotas"
)

// Options tune Analyze. The zero value is ready to use.
type Options struct {
	Quotas      *quotas.Table // rate quotas; nil means quotas.Default()
	Workers     int           // files read in parallel; 0 means GOMAXPROCS
	AllServices bool          // analyse records of every AWS service, not only Amazon Connect
	TopN        int           // callers listed per finding; 0 means 5

	MaxValueBytes int // largest JSON value (one record); 0 means 8 MiB
	MaxCallers    int // distinct callers tracked exactly per operation and dimension; 0 means 4096
	MaxRepeats    int // refused requests tracked per worker for retry detection; 0 means 1<<17
	MaxProblems   int // problems kept in the report (all are counted); 0 means 200

	// Progress, when set, is called with the number of input bytes (as
	// stored) consumed since its previous call. It is called from several
	// goroutines at once.
	Progress func(n int64)
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func (o Options) topN() int {
	if o.TopN > 0 {
		return o.TopN
	}
	return 5
}

func (o Options) maxValue() int {
	if o.MaxValueBytes > 0 {
		return o.MaxValueBytes
	}
	return 8 << 20
}

func (o Options) callerCap() int {
	if o.MaxCallers > 0 {
		return o.MaxCallers
	}
	return 4096
}

func (o Options) repeatCap() int {
	if o.MaxRepeats > 0 {
		return o.MaxRepeats
	}
	return 1 << 17
}

func (o Options) maxProblems() int {
	if o.MaxProblems > 0 {
		return o.MaxProblems
	}
	return 200
}

func (o Options) quotas() *quotas.Table {
	if o.Quotas != nil {
		return o.Quotas
	}
	return quotas.Default()
}

// Analyze reads every input, in parallel, and returns the report. Problems
// with the data are in the report, not the error; the error is non-nil only
// when ctx ends first.
func Analyze(ctx context.Context, inputs []Input, o Options) (*Report, error) {
	began := time.Now()
	nw := min(o.workers(), max(len(inputs), 1))
	jobs := make(chan int)
	workers := make([]*fileReader, nw)
	aggs := make([]*aggregator, nw)
	var wg sync.WaitGroup
	for w := range nw {
		agg := newAggregator(o)
		fr := &fileReader{emit: agg.add, intern: newInterner(1 << 16), maxValue: o.maxValue(), progress: o.Progress}
		workers[w], aggs[w] = fr, agg
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if ctx.Err() != nil {
					continue
				}
				fr.read(inputs[i])
			}
		}()
	}
feed:
	for i := range inputs {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	total := aggs[0]
	for _, a := range aggs[1:] {
		total.merge(a)
	}
	var problems []Problem
	var bytes int64
	dropped := 0
	for _, fr := range workers {
		problems = append(problems, fr.problems...)
		dropped += fr.dropped
		bytes += fr.bytes
	}
	sort.SliceStable(problems, func(i, j int) bool {
		a, b := problems[i], problems[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Offset < b.Offset
	})
	r := build(total, o)
	r.Files = len(inputs)
	r.Bytes = bytes
	r.ProblemCount = len(problems) + dropped
	if len(problems) > o.maxProblems() {
		problems = problems[:o.maxProblems()]
	}
	r.Problems = problems
	r.ElapsedSeconds = time.Since(began).Seconds()
	return r, nil
}

// build turns the merged aggregate into a report.
func build(a *aggregator, o Options) *Report {
	qt := o.quotas()
	r := &Report{
		Records:       a.records,
		SDKRecords:    a.sdk,
		Skipped:       a.skipped,
		ErrorsByClass: map[string]int64{},
		Findings:      []Finding{},
		Operations:    []OpStats{},
		Problems:      []Problem{},
		Approximate:   a.repDropped > 0,
	}
	if a.minT != 0 {
		r.Start, r.End = unix(a.minT), unix(a.maxT)
	}
	accounts, regions := map[string]bool{}, map[string]bool{}
	keys := make([]opKey, 0, len(a.ops))
	for k := range a.ops {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		x, y := a.ops[keys[i]], a.ops[keys[j]]
		if x.thr != y.thr {
			return x.thr > y.thr
		}
		if x.calls != y.calls {
			return x.calls > y.calls
		}
		return lessKey(keys[i], keys[j])
	})
	// Repeats grouped by operation, for retry-storm detection.
	reps := map[opKey][]repStat{}
	for k, v := range a.repeats {
		reps[k.op] = append(reps[k.op], repStat{principal: k.principal, n: int64(v.n), first: v.first, last: v.last})
	}
	for _, k := range keys {
		op := a.ops[k]
		if k.account != "" {
			accounts[k.account] = true
		}
		if k.region != "" {
			regions[k.region] = true
		}
		r.Calls += op.calls
		r.Errors += op.errors
		r.Throttles += op.thr
		for c, n := range op.classes {
			if n > 0 {
				r.ErrorsByClass[awserr.Class(c).String()] += n
			}
		}
		for d := range op.dims {
			if op.dims[d].dropped > 0 {
				r.Approximate = true
			}
		}
		q, listed := qt.API(k.op)
		ts := newTimeline(op)
		st := opStats(op, q, ts)
		r.Operations = append(r.Operations, st)
		if op.thr > 0 {
			r.Findings = append(r.Findings, finding(op, q, listed, ts, reps[k], o))
		}
	}
	r.Accounts = sortedKeys(accounts)
	r.Regions = sortedKeys(regions)
	return r
}

func lessKey(a, b opKey) bool {
	if a.op != b.op {
		return a.op < b.op
	}
	if a.account != b.account {
		return a.account < b.account
	}
	return a.region < b.region
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func unix(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// timeline is one operation's active seconds in time order.
type timeline struct {
	secs   []int64 // Unix seconds with calls
	cells  []cell
	peak1s cell
	peakAt int64
	peak1m int64 // calls in the busiest minute
	minute []int64
	mcells []minuteTotals
}

type minuteTotals struct {
	calls, errs, thr int64
	peak             int64
}

func newTimeline(op *opAgg) *timeline {
	mins := make([]int64, 0, len(op.minutes))
	for mi := range op.minutes {
		mins = append(mins, mi)
	}
	sort.Slice(mins, func(i, j int) bool { return mins[i] < mins[j] })
	t := &timeline{minute: mins}
	for _, mi := range mins {
		m := op.minutes[mi]
		var mt minuteTotals
		for s, c := range m.sec {
			if c.calls == 0 && c.thr == 0 {
				continue
			}
			sec := mi*60 + int64(s)
			t.secs = append(t.secs, sec)
			t.cells = append(t.cells, c)
			if c.calls > t.peak1s.calls {
				t.peak1s, t.peakAt = c, sec
			}
			mt.calls += int64(c.calls)
			mt.errs += int64(c.errs)
			mt.thr += int64(c.thr)
			mt.peak = max(mt.peak, int64(c.calls))
		}
		t.mcells = append(t.mcells, mt)
	}
	// Busiest 60-second window (sliding, not only calendar minutes).
	var sum int64
	j := 0
	for i := range t.secs {
		sum += int64(t.cells[i].calls)
		for t.secs[j] <= t.secs[i]-60 {
			sum -= int64(t.cells[j].calls)
			j++
		}
		t.peak1m = max(t.peak1m, sum)
	}
	return t
}

func opStats(op *opAgg, q quotas.API, t *timeline) OpStats {
	st := OpStats{
		Operation:   op.key.op,
		Account:     op.key.account,
		Region:      op.key.region,
		Source:      op.source,
		Calls:       op.calls,
		Errors:      op.errors,
		Throttles:   op.thr,
		PeakRate1s:  float64(t.peak1s.calls),
		PeakRate1m:  round2(float64(t.peak1m) / 60),
		QuotaRate:   q.Rate,
		QuotaBurst:  q.Burst,
		First:       unix(max(op.first, 0)),
		Last:        unix(op.last),
		FromSDKLogs: op.sdk == op.calls,
		Codes:       codeCounts(op),
		PerMinute:   make([]MinutePoint, 0, len(t.minute)),
	}
	if q.Rate > 0 {
		st.Utilization1m = round2(st.PeakRate1m / q.Rate)
	}
	for c, n := range op.classes {
		if n > 0 {
			if st.ErrorsByClass == nil {
				st.ErrorsByClass = map[string]int64{}
			}
			st.ErrorsByClass[awserr.Class(c).String()] = n
		}
	}
	for i, mi := range t.minute {
		mt := t.mcells[i]
		st.PerMinute = append(st.PerMinute, MinutePoint{T: unix(mi * 60), Calls: mt.calls, Errors: mt.errs, Throttles: mt.thr, PeakCalls: mt.peak})
	}
	return st
}

func codeCounts(op *opAgg) []CodeCount {
	out := make([]CodeCount, 0, len(op.codes))
	for _, cs := range op.codes {
		code := cs.info.Code
		if code == "" {
			code = "(none)"
		}
		out = append(out, CodeCount{Code: code, Class: cs.info.Class.String(), Count: cs.n, Message: cs.msg})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Code < out[j].Code
	})
	return out
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// series cuts the per-second timeline around the throttles into at most
// maxPoints points.
func (t *timeline) series(from, to int64, maxPoints int) Series {
	if from > to || len(t.secs) == 0 {
		return Series{Calls: []int64{}, Errors: []int64{}, Throttles: []int64{}}
	}
	n := to - from + 1
	step := int64(1)
	if n > int64(maxPoints) {
		step = (n + int64(maxPoints) - 1) / int64(maxPoints)
	}
	points := int((n + step - 1) / step)
	s := Series{Start: unix(from), Step: int(step), Calls: make([]int64, points), Errors: make([]int64, points), Throttles: make([]int64, points)}
	i := sort.Search(len(t.secs), func(i int) bool { return t.secs[i] >= from })
	for ; i < len(t.secs) && t.secs[i] <= to; i++ {
		p := (t.secs[i] - from) / step
		c := t.cells[i]
		s.Calls[p] = max(s.Calls[p], int64(c.calls))
		s.Errors[p] = max(s.Errors[p], int64(c.errs))
		s.Throttles[p] = max(s.Throttles[p], int64(c.thr))
	}
	return s
}
