package triagegen

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tollgatehq/tollgate/quotas"
)

// GenerateOptions describe a data set. The zero value (with a Cause) is a
// 15-minute data set starting 2026-11-25T10:00:00Z for account
// 111122223333 in us-east-1.
type GenerateOptions struct {
	Cause      string        // spike, provisioning, polling, synchronized-start, retry-storm, dialer-retry-storm or mixed
	Seed       int64         // same seed, same options: byte-identical files
	Start      time.Time     // zero: 2026-11-25T10:00:00Z
	Duration   time.Duration // zero: 15 minutes; at least 10 minutes
	Account    string        // zero: 111122223333
	Region     string        // zero: us-east-1
	Background float64       // benign calls/s on other operations; 0 means 3, negative means none
	// MaxRecordsPerFile splits each 5-minute delivery into files of at most
	// this many records; 0 means 5000.
	MaxRecordsPerFile int
	Quotas            *quotas.Table // the simulated server's quotas; nil means quotas.Default()
}

// Expectation is what a correct diagnosis of a generated data set says
// about one operation, from the generator's own bookkeeping.
type Expectation struct {
	Operation string `json:"operation"`
	Cause     string `json:"cause"`
	Class     string `json:"class"`
	// TopCaller is the principal with the most refused calls (ties: more
	// calls, then name), counted from the records written.
	TopCaller string `json:"top_caller"`
	// Culprit is the principal the scenario makes responsible, "" when it
	// is many sessions.
	Culprit   string `json:"culprit,omitempty"`
	Calls     int64  `json:"calls"`
	Throttles int64  `json:"throttles"`
}

// GenerateResult lists what Generate wrote.
type GenerateResult struct {
	Dir     string        `json:"dir"`
	Files   []string      `json:"files"` // relative to Dir, sorted
	Records int64         `json:"records"`
	Bytes   int64         `json:"bytes"` // compressed
	Expect  []Expectation `json:"expect"`
}

// minExpectThrottles is the fewest refused calls for which an operation's
// diagnosis is asserted.
const minExpectThrottles = 10

// Generate writes a seeded CloudTrail data set for o.Cause under dir, in
// CloudTrail's S3 layout: AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
// <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz, one
// delivery per 5 minutes, records unordered within a file. Callers are
// simulated against token buckets seeded from the quota table, so every
// ThrottlingException in the data is one the real service would have sent.
func Generate(dir string, o GenerateOptions) (*GenerateResult, error) {
	setup, ok := scenarios[o.Cause]
	if !ok {
		return nil, fmt.Errorf("cause %q: must be one of %s", o.Cause, causeList())
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	}
	if o.Duration == 0 {
		o.Duration = 15 * time.Minute
	}
	if o.Duration < 10*time.Minute {
		return nil, fmt.Errorf("duration %v: must be at least 10m (the scenarios play out over 10 minutes)", o.Duration)
	}
	if o.Account == "" {
		o.Account = "111122223333"
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Background == 0 {
		o.Background = 3
	}
	if o.MaxRecordsPerFile <= 0 {
		o.MaxRecordsPerFile = 5000
	}
	qt := o.Quotas
	if qt == nil {
		qt = quotas.Default()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	start := o.Start.Truncate(time.Second).UnixMilli()
	g := &gen{
		rng:     rand.New(rand.NewPCG(uint64(o.Seed)^0x5851f42d4c957f2d, 0x14057b7ef767814f)),
		account: o.Account,
		region:  o.Region,
		start:   start,
		end:     start + o.Duration.Milliseconds(),
		owner:   map[string]string{},
		class:   map[string]string{},
		culprit: map[string]string{},
	}
	g.instance = g.uuid()
	g.flows = []string{g.uuid(), g.uuid()}
	g.queues = []string{g.uuid(), g.uuid(), g.uuid(), g.uuid()}

	w := newWriter(dir, o, g.rng)
	truth := map[string]map[string]*[2]int64{} // op → principal → {calls, throttles}
	emit := func(r *request, at int64, out outcome) {
		w.add(at, g.record(r, at, out))
		byP := truth[r.op]
		if byP == nil {
			byP = map[string]*[2]int64{}
			truth[r.op] = byP
		}
		c := byP[r.id.arn]
		if c == nil {
			c = new([2]int64)
			byP[r.id.arn] = c
		}
		c[0]++
		if out.code != "" {
			c[1]++
		}
	}
	g.s = newSim(o.Seed, qt, g.end, emit)
	setup(g)
	g.background(o.Background)
	g.s.run()
	if err := w.close(); err != nil {
		return nil, err
	}
	res := &GenerateResult{Dir: dir, Files: w.files, Records: w.records, Bytes: w.bytes}
	sort.Strings(res.Files)
	for op, cause := range g.owner {
		var e = Expectation{Operation: op, Cause: cause, Class: g.class[op], Culprit: g.culprit[op]}
		var topThr, topCalls int64 = -1, -1
		for p, c := range truth[op] {
			e.Calls += c[0]
			e.Throttles += c[1]
			if c[1] > topThr || c[1] == topThr && (c[0] > topCalls || c[0] == topCalls && p < e.TopCaller) {
				e.TopCaller, topThr, topCalls = p, c[1], c[0]
			}
		}
		if e.Throttles >= minExpectThrottles {
			res.Expect = append(res.Expect, e)
		}
	}
	sort.Slice(res.Expect, func(i, j int) bool { return res.Expect[i].Operation < res.Expect[j].Operation })
	return res, nil
}

var nullJSON = []byte("null")

// record renders one attempt as a CloudTrail record, fields in CloudTrail's
// order. It appends by hand: encoding/json's reflection made generation
// slower than analysis.
func (g *gen) record(r *request, at int64, out outcome) []byte {
	id := r.id
	roleID, _, _ := strings.Cut(id.principalID, ":")
	b := make([]byte, 0, 1400)
	field := func(name, v string) {
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = appendJSONString(b, v)
	}
	b = append(b, `{"eventVersion":"1.11","userIdentity":{"type":`...)
	b = appendJSONString(b, id.typ)
	field("principalId", id.principalID)
	field("arn", id.arn)
	field("accountId", g.account)
	field("accessKeyId", id.accessKey)
	b = append(b, `,"sessionContext":{"sessionIssuer":{"type":"Role"`...)
	field("principalId", roleID)
	field("arn", id.roleArn)
	field("accountId", g.account)
	field("userName", id.roleName)
	b = append(b, `},"webIdFederationData":{},"attributes":{"creationDate":`...)
	b = appendJSONString(b, id.created)
	b = append(b, `,"mfaAuthenticated":"false"}}}`...)
	b = append(b, `,"eventTime":"`...)
	b = time.UnixMilli(at).UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	b = append(b, '"')
	field("eventSource", "connect.amazonaws.com")
	field("eventName", r.op)
	field("awsRegion", g.region)
	field("sourceIPAddress", id.ip)
	field("userAgent", id.agent)
	if out.code != "" {
		field("errorCode", out.code)
		field("errorMessage", out.message)
	}
	b = append(b, `,"requestParameters":`...)
	if len(r.params) > 0 {
		b = append(b, r.params...)
	} else {
		b = append(b, nullJSON...)
	}
	b = append(b, `,"responseElements":`...)
	if out.code == "" && r.resp != nil {
		b = append(b, r.resp(nil)...)
	} else {
		b = append(b, nullJSON...)
	}
	field("requestID", g.uuid())
	field("eventID", g.uuid())
	if r.readOnly {
		b = append(b, `,"readOnly":true`...)
	} else {
		b = append(b, `,"readOnly":false`...)
	}
	b = append(b, `,"eventType":"AwsApiCall","managementEvent":true`...)
	field("recipientAccountId", g.account)
	b = append(b, `,"eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256"`...)
	field("clientProvidedHostHeader", "connect."+g.region+".amazonaws.com")
	b = append(b, '}', '}')
	return b
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// ctWriter groups records into 5-minute deliveries and writes them as
// gzip files on a pool of goroutines.
type ctWriter struct {
	dir     string
	o       GenerateOptions
	rng     *rand.Rand
	window  int64 // current window index
	recs    [][]byte
	jobs    chan fileJob
	wg      sync.WaitGroup
	mu      sync.Mutex
	err     error
	files   []string
	records int64
	bytes   int64
}

type fileJob struct {
	rel  string
	recs [][]byte
}

const deliveryWindow = 5 * 60 * 1000 // ms

func newWriter(dir string, o GenerateOptions, rng *rand.Rand) *ctWriter {
	w := &ctWriter{dir: dir, o: o, rng: rng, window: -1, jobs: make(chan fileJob, 4)}
	for range runtime.GOMAXPROCS(0) {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for j := range w.jobs {
				n, err := writeGzipRecords(filepath.Join(dir, j.rel), j.recs)
				w.mu.Lock()
				if err != nil && w.err == nil {
					w.err = err
				}
				w.bytes += n
				w.mu.Unlock()
			}
		}()
	}
	return w
}

func (w *ctWriter) add(at int64, rec []byte) {
	win := at / deliveryWindow
	if win != w.window {
		w.flush()
		w.window = win
	}
	w.recs = append(w.recs, rec)
}

// flush shuffles the window's records (CloudTrail files are unordered) and
// hands them to the writers.
func (w *ctWriter) flush() {
	if len(w.recs) == 0 {
		return
	}
	recs := w.recs
	w.recs = nil
	w.rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	delivery := time.UnixMilli((w.window + 1) * deliveryWindow).UTC().Add(5 * time.Minute)
	for part := 0; len(recs) > 0; part++ {
		n := min(len(recs), w.o.MaxRecordsPerFile)
		at := delivery.Add(time.Duration(part) * time.Minute)
		name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", w.o.Account, w.o.Region, at.Format("20060102T1504Z"), randToken(w.rng, 16))
		rel := filepath.Join("AWSLogs", w.o.Account, "CloudTrail", w.o.Region, at.Format("2006"), at.Format("01"), at.Format("02"), name)
		w.files = append(w.files, rel)
		w.records += int64(n)
		w.jobs <- fileJob{rel: rel, recs: recs[:n]}
		recs = recs[n:]
	}
}

func randToken(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[rng.IntN(len(alnum))]
	}
	return string(b)
}

func (w *ctWriter) close() error {
	w.flush()
	close(w.jobs)
	w.wg.Wait()
	return w.err
}

// writeGzipRecords writes {"Records":[…]} gzip-compressed and returns the
// file size.
func writeGzipRecords(path string, recs [][]byte) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write([]byte(`{"Records":[`))
	for i, r := range recs {
		if i > 0 {
			zw.Write([]byte{','})
		}
		zw.Write(r)
	}
	zw.Write([]byte("]}"))
	if err := zw.Close(); err != nil {
		return 0, err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return 0, errors.Join(fmt.Errorf("write %s", path), err)
	}
	return int64(buf.Len()), nil
}
