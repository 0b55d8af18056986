package usage

import (
	"encoding/json"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/awserr"
	"github.com/tollgatehq/tollgate/governor"
)

// DefaultEMFNamespace is the CloudWatch namespace of the EMF metrics.
const DefaultEMFNamespace = "Tollgate"

// EMFOptions configures an EMFWriter. The zero value means the defaults.
type EMFOptions struct {
	Namespace string // "" means DefaultEMFNamespace
}

// EMFWriter is a governor observer that writes CloudWatch Embedded Metric
// Format: per operation and minute one JSON line with Admitted (calls that
// passed admission), Throttled (calls answered with a rate throttle) and
// WaitedMs (time spent waiting for admission), dimensions Service and
// Operation. In Lambda, stdout is ingested as metrics without PutMetricData
// calls. A minute is written when the first attempt of a later minute
// arrives, or by Flush (call it before a Lambda invocation returns). It is
// safe for concurrent use.
type EMFWriter struct {
	ns string

	mu     sync.Mutex
	w      io.Writer // requires mu held
	minute time.Time // the minute being counted; requires mu held
	counts map[string]*emfCounts
	err    error // first write error; requires mu held
}

type emfCounts struct {
	admitted, throttled float64
	waited              time.Duration
}

// EMF returns an EMFWriter writing to w with the defaults.
func EMF(w io.Writer) *EMFWriter { return NewEMF(w, EMFOptions{}) }

// NewEMF returns an EMFWriter writing to w.
func NewEMF(w io.Writer, o EMFOptions) *EMFWriter {
	if o.Namespace == "" {
		o.Namespace = DefaultEMFNamespace
	}
	return &EMFWriter{ns: o.Namespace, w: w, counts: map[string]*emfCounts{}}
}

var _ governor.Observer = (*EMFWriter)(nil)

// ObserveAttempt counts one attempt in the minute of its start.
func (e *EMFWriter) ObserveAttempt(a governor.Attempt) {
	m := a.Start.UTC().Truncate(time.Minute)
	e.mu.Lock()
	defer e.mu.Unlock()
	if !m.Equal(e.minute) {
		if m.Before(e.minute) { // a late attempt counts in the current minute
			m = e.minute
		} else {
			e.flushLocked()
			e.minute = m
		}
	}
	c := e.counts[a.Op]
	if c == nil {
		c = &emfCounts{}
		e.counts[a.Op] = c
	}
	c.admitted++
	c.waited += a.Wait
	if a.Err != nil && a.Info.Class == awserr.ClassRateThrottle {
		c.throttled++
	}
}

// ObserveOutcome does nothing: attempts carry every count.
func (e *EMFWriter) ObserveOutcome(governor.Outcome) {}

// Flush writes the minute being counted, if any, and returns the first
// write error seen.
func (e *EMFWriter) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.flushLocked()
	return e.err
}

// emfDoc is one EMF document.
type emfDoc struct {
	AWS       emfMeta `json:"_aws"`
	Service   string  `json:"Service"`
	Operation string  `json:"Operation"`
	Admitted  float64 `json:"Admitted"`
	Throttled float64 `json:"Throttled"`
	WaitedMs  float64 `json:"WaitedMs"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// flushLocked writes one line per operation. Requires mu held.
func (e *EMFWriter) flushLocked() {
	if len(e.counts) == 0 {
		return
	}
	ops := make([]string, 0, len(e.counts))
	for op := range e.counts {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	enc := json.NewEncoder(e.w)
	for _, op := range ops {
		c := e.counts[op]
		doc := emfDoc{AWS: emfMeta{Timestamp: e.minute.UnixMilli(), CloudWatchMetrics: []emfDirective{{Namespace: e.ns,
			Dimensions: [][]string{{"Service", "Operation"}},
			Metrics:    []emfMetric{{"Admitted", "Count"}, {"Throttled", "Count"}, {"WaitedMs", "Milliseconds"}}}}},
			Service: "Connect", Operation: op, Admitted: c.admitted, Throttled: c.throttled,
			WaitedMs: float64(c.waited.Microseconds()) / 1000}
		if err := enc.Encode(doc); err != nil && e.err == nil {
			e.err = err
		}
	}
	clear(e.counts)
}
