package triage

import (
	"math"
	"math/bits"
	"strings"

	"github.com/tollgatehq/tollgate/awserr"
)

// Caller dimensions, the Contributor Insights view.
const (
	dimPrincipal = iota // userIdentity.arn
	dimRole             // the role behind a session, or the IAM user
	dimSession          // role session name
	dimAgent            // user agent
	dimIP               // source IP address
	numDims
)

var dimNames = [numDims]string{"principal", "role", "session", "user_agent", "source_ip"}

// numClasses bounds awserr.Class values counted per operation.
const numClasses = int(awserr.ClassCanceled) + 1

// opKey identifies one token bucket: quotas are per account, Region and API.
type opKey struct{ account, region, op string }

// cell is one second of one operation.
type cell struct{ calls, errs, thr uint32 }

// slotSeconds is the width of the distinct-caller windows.
const slotSeconds = 5

// minute holds the per-second counts of one operation for one minute and,
// per 5-second slot, a 256-bit linear-counting sketch of distinct callers.
type minute struct {
	sec      [60]cell
	distinct [60 / slotSeconds][4]uint64
}

// codeStat counts one error code of one operation.
type codeStat struct {
	info awserr.Info
	n    int64
	msg  string // first message seen
}

// opAgg aggregates one operation (one bucket).
type opAgg struct {
	key      opKey
	source   string
	calls    int64
	errors   int64
	thr      int64
	readOnly int64
	sdk      int64 // records from SDK logs
	undated  int64
	classes  [numClasses]int64
	codes    map[string]*codeStat
	minutes  map[int64]*minute
	dims     [numDims]topk
	first    int64
	last     int64
}

// repKey identifies one request (same caller, same parameters) for retry
// detection.
type repKey struct {
	op        opKey
	principal string
	params    uint64
}

// repeat counts refused attempts of one request.
type repeat struct {
	n           uint32
	first, last int64
}

// classKey caches classification per (op, code, status).
type classKey struct {
	op, code string
	status   int
}

// aggregator is one worker's running totals. Memory grows with operations,
// callers (bounded by topk), active minutes and refused requests (bounded
// by repCap), not with records.
type aggregator struct {
	allServices bool
	topCap      int
	repCap      int

	ops        map[opKey]*opAgg
	classCache map[classKey]awserr.Info
	repeats    map[repKey]*repeat
	repDropped int64
	records    int64
	skipped    int64
	sdk        int64
	minT, maxT int64
}

func newAggregator(o Options) *aggregator {
	return &aggregator{
		allServices: o.AllServices,
		topCap:      o.callerCap(),
		repCap:      o.repeatCap(),
		ops:         make(map[opKey]*opAgg),
		classCache:  make(map[classKey]awserr.Info),
		repeats:     make(map[repKey]*repeat),
	}
}

// isConnectSource reports Amazon Connect's event sources
// (connect, connect-campaigns, participant.connect, …).
func isConnectSource(src string) bool {
	host, _, _ := strings.Cut(src, ".amazonaws.com")
	return host == "connect" || strings.HasPrefix(host, "connect-") || strings.HasSuffix(host, ".connect") ||
		strings.HasPrefix(host, "connect") && !strings.Contains(host, ".")
}

func (a *aggregator) classify(op, code string, status int) awserr.Info {
	k := classKey{op, code, status}
	if info, ok := a.classCache[k]; ok {
		return info
	}
	info := awserr.ClassifyCode(op, code, status)
	if len(a.classCache) < 100000 {
		a.classCache[k] = info
	}
	return info
}

// isThrottle reports the quota classes: rate throttle, concurrency quota,
// hard quota.
func isThrottle(c awserr.Class) bool {
	return c == awserr.ClassRateThrottle || c == awserr.ClassConcurrencyQuota || c == awserr.ClassHardQuota
}

func (a *aggregator) op(k opKey) *opAgg {
	o := a.ops[k]
	if o == nil {
		o = &opAgg{key: k, codes: map[string]*codeStat{}, minutes: map[int64]*minute{}, first: -1}
		for i := range o.dims {
			o.dims[i].cap = a.topCap
		}
		a.ops[k] = o
	}
	return o
}

// add counts one record.
func (a *aggregator) add(r *Record) {
	if !a.allServices && r.Kind == KindCloudTrail && !isConnectSource(r.Source) {
		a.skipped++
		return
	}
	a.records++
	op := r.Op
	if op == "" {
		op = "(unknown)"
	}
	o := a.op(opKey{r.Account, r.Region, op})
	if o.source == "" {
		o.source = r.Source
	}
	o.calls++
	if r.ReadOnly {
		o.readOnly++
	}
	if r.Kind == KindSDKLog {
		o.sdk++
		a.sdk++
	}
	thr := false
	if r.Code != "" {
		info := a.classify(r.Op, r.Code, r.Status)
		o.errors++
		o.classes[info.Class]++
		cs := o.codes[info.Code]
		if cs == nil {
			cs = &codeStat{info: info, msg: clip(r.Message, 300)}
			o.codes[info.Code] = cs
		}
		cs.n++
		if isThrottle(info.Class) {
			thr = true
			o.thr++
		}
	}
	t := r.Time
	if t == 0 {
		o.undated++
	} else {
		if o.first < 0 || t < o.first {
			o.first = t
		}
		if t > o.last {
			o.last = t
		}
		if a.minT == 0 || t < a.minT {
			a.minT = t
		}
		if t > a.maxT {
			a.maxT = t
		}
		mi := floorDiv(t, 60)
		m := o.minutes[mi]
		if m == nil {
			m = new(minute)
			o.minutes[mi] = m
		}
		s := t - mi*60
		m.sec[s].calls++
		if r.Code != "" {
			m.sec[s].errs++
		}
		if thr {
			m.sec[s].thr++
		}
		h := fnv64s(r.Principal, r.SourceIP)
		bit := h & 255
		m.distinct[s/slotSeconds][bit>>6] |= 1 << (bit & 63)
	}
	var add = func(d int, key string) *counter {
		if key == "" {
			return nil
		}
		c := o.dims[d].get(key)
		c.calls++
		if thr {
			c.thr++
		}
		return c
	}
	if c := add(dimPrincipal, r.Principal); c != nil {
		c.seen(t)
		if c.agent == "" {
			c.agent, c.ip, c.session = r.UserAgent, r.SourceIP, r.Session
		}
	}
	add(dimRole, r.Role)
	add(dimSession, r.Session)
	add(dimAgent, r.UserAgent)
	add(dimIP, r.SourceIP)
	if thr && r.ParamsHash != 0 {
		k := repKey{o.key, r.Principal, r.ParamsHash}
		rp := a.repeats[k]
		if rp == nil {
			if len(a.repeats) >= a.repCap {
				a.repDropped++
				return
			}
			rp = &repeat{first: t, last: t}
			a.repeats[k] = rp
		}
		rp.n++
		if t != 0 && t < rp.first {
			rp.first = t
		}
		if t > rp.last {
			rp.last = t
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// fnv64s hashes two strings with a separator.
func fnv64s(a, b string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(a); i++ {
		h ^= uint64(a[i])
		h *= 1099511628211
	}
	h ^= '|'
	h *= 1099511628211
	for i := 0; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= 1099511628211
	}
	// Finalise (splitmix) so that the low bits are well mixed.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// merge adds o into a.
func (a *aggregator) merge(b *aggregator) {
	a.records += b.records
	a.skipped += b.skipped
	a.sdk += b.sdk
	a.repDropped += b.repDropped
	if b.minT != 0 && (a.minT == 0 || b.minT < a.minT) {
		a.minT = b.minT
	}
	if b.maxT > a.maxT {
		a.maxT = b.maxT
	}
	for k, bo := range b.ops {
		o := a.op(k)
		if o.source == "" {
			o.source = bo.source
		}
		o.calls += bo.calls
		o.errors += bo.errors
		o.thr += bo.thr
		o.readOnly += bo.readOnly
		o.sdk += bo.sdk
		o.undated += bo.undated
		for i := range o.classes {
			o.classes[i] += bo.classes[i]
		}
		for c, bs := range bo.codes {
			s := o.codes[c]
			if s == nil {
				s = &codeStat{info: bs.info, msg: bs.msg}
				o.codes[c] = s
			}
			s.n += bs.n
		}
		for mi, bm := range bo.minutes {
			m := o.minutes[mi]
			if m == nil {
				o.minutes[mi] = bm
				continue
			}
			for s := range m.sec {
				m.sec[s].calls += bm.sec[s].calls
				m.sec[s].errs += bm.sec[s].errs
				m.sec[s].thr += bm.sec[s].thr
			}
			for s := range m.distinct {
				for w := range m.distinct[s] {
					m.distinct[s][w] |= bm.distinct[s][w]
				}
			}
		}
		for d := range o.dims {
			o.dims[d].merge(&bo.dims[d])
		}
		if bo.first >= 0 && (o.first < 0 || bo.first < o.first) {
			o.first = bo.first
		}
		if bo.last > o.last {
			o.last = bo.last
		}
	}
	for k, br := range b.repeats {
		r := a.repeats[k]
		if r == nil {
			if len(a.repeats) >= a.repCap {
				a.repDropped++
				continue
			}
			a.repeats[k] = br
			continue
		}
		r.n += br.n
		if br.first != 0 && (r.first == 0 || br.first < r.first) {
			r.first = br.first
		}
		if br.last > r.last {
			r.last = br.last
		}
	}
}

// distinctEstimate is the linear-counting estimate of a 256-bit sketch.
func distinctEstimate(b [4]uint64) float64 {
	set := 0
	for _, w := range b {
		set += bits.OnesCount64(w)
	}
	zero := 256 - set
	if zero == 0 {
		zero = 1 // saturated: report the sketch's ceiling
	}
	return -256 * math.Log(float64(zero)/256)
}
