package triage

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var (
	t0     = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	recSeq atomic.Int64
)

// rec returns a CloudTrail record of op at t0+sec by the assumed-role
// session, failed with code when code is not empty.
func rec(op string, sec int, session, code string) string {
	r := map[string]any{
		"eventVersion": "1.11",
		"userIdentity": map[string]any{
			"type": "AssumedRole", "principalId": "AROAEXAMPLE:" + session,
			"arn": "arn:aws:sts::111122223333:assumed-role/AppRole/" + session, "accountId": "111122223333",
			"sessionContext": map[string]any{"sessionIssuer": map[string]any{"type": "Role", "arn": "arn:aws:iam::111122223333:role/AppRole"}},
		},
		"eventTime":          t0.Add(time.Duration(sec) * time.Second).Format(time.RFC3339),
		"eventSource":        "connect.amazonaws.com",
		"eventName":          op,
		"awsRegion":          "us-east-1",
		"sourceIPAddress":    "203.0.113.10",
		"userAgent":          "aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 api/connect#1.175.2",
		"requestParameters":  map[string]any{"InstanceId": "i-1", "ClientToken": recSeq.Add(1)}, // every request distinct
		"responseElements":   nil,
		"requestID":          fmt.Sprintf("req-%d", sec),
		"eventID":            fmt.Sprintf("evt-%s-%d", op, sec),
		"readOnly":           strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "List"),
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"recipientAccountId": "111122223333",
	}
	if code != "" {
		r["errorCode"] = code
		r["errorMessage"] = "Rate exceeded"
	}
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func records(recs ...string) string { return `{"Records":[` + strings.Join(recs, ",") + `]}` }

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func write(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func analyze(t *testing.T, inputs []Input) *Report {
	t.Helper()
	r, err := Analyze(context.Background(), inputs, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func opCalls(r *Report) map[string]int64 {
	m := map[string]int64{}
	for _, o := range r.Operations {
		m[o.Operation] += o.Calls
	}
	return m
}

// TestReadFormats feeds every supported input form and checks each record
// is counted once.
func TestReadFormats(t *testing.T) {
	dir := t.TempDir()
	trail := filepath.Join(dir, "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25")
	write(t, filepath.Join(trail, "111122223333_CloudTrail_us-east-1_20261125T1005Z_a.json.gz"),
		gz(records(rec("DescribeUser", 1, "a", ""), rec("DescribeUser", 2, "a", "ThrottlingException"))))
	write(t, filepath.Join(trail, "111122223333_CloudTrail_us-east-1_20261125T1010Z_b.json"),
		[]byte(records(rec("DescribeUser", 3, "b", ""))))
	// Not Connect: skipped, not a problem.
	s3 := strings.Replace(rec("GetObject", 4, "c", ""), "connect.amazonaws.com", "s3.amazonaws.com", 1)
	write(t, filepath.Join(trail, "111122223333_CloudTrail_us-east-1_20261125T1015Z_c.json.gz"), gz(records(s3)))
	// Digest files are not logs.
	write(t, filepath.Join(dir, "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/x.json.gz"), gz(`{"awsAccountId":"1"}`))
	write(t, filepath.Join(dir, "exports/aws-logs-write-test"), []byte("Permission Check Successful"))

	// CloudWatch Logs export: CloudTrail events and Lambda lines, one of
	// them a multi-line JavaScript error.
	export := strings.Join([]string{
		"2026-11-25T10:00:05.000Z " + rec("GetCurrentMetricData", 5, "d", ""),
		"2026-11-25T10:00:06.000Z START RequestId: 1 Version: $LATEST",
		"2026-11-25T10:00:06.500Z 2026/11/25 10:00:06 operation error Connect: StartOutboundVoiceContact, https response error StatusCode: 429, RequestID: r1, ThrottlingException: Rate exceeded",
		"2026-11-25T10:00:07.000Z " + strings.SplitN(jsInspect, "\t", 2)[1],
		"2026-11-25T10:00:08.000Z [ERROR]\t2026-11-25T10:00:08.000Z\tid\tAn error occurred (LimitExceededException) when calling the StartChatContact operation: The allowed limit for the resource has been exceeded.",
		"2026-11-25T10:00:09.000Z END RequestId: 1",
	}, "\n") + "\n"
	write(t, filepath.Join(dir, "exports/task-1/dialer-stream/000000.gz"), gz(export))

	// filter-log-events output.
	ev := func(stream string, ms int64, msg string) map[string]any {
		return map[string]any{"logStreamName": stream, "timestamp": ms, "message": msg, "ingestionTime": ms + 500, "eventId": "e"}
	}
	fle, _ := json.Marshal(map[string]any{
		"events": []any{
			ev("2026/11/25/[$LATEST]f00", t0.Add(10*time.Second).UnixMilli(), "[ERROR] ClientError: An error occurred (ThrottlingException) when calling the GetCurrentMetricData operation (reached max retries: 4): Rate exceeded"),
			ev("trail-stream", t0.Add(11*time.Second).UnixMilli(), rec("GetCurrentMetricData", 11, "e", "ThrottlingException")),
			ev("2026/11/25/[$LATEST]f00", t0.Add(12*time.Second).UnixMilli(), "INIT_START Runtime Version: python:3.12"),
		},
		"searchedLogStreams": []any{map[string]any{"logStreamName": "x", "searchedCompletely": true}},
	})
	write(t, filepath.Join(dir, "fle.json"), fle)

	// lookup-events output and an EventBridge event.
	lookup, _ := json.Marshal(map[string]any{"Events": []any{map[string]any{"EventId": "x", "EventName": "ListQueues", "CloudTrailEvent": rec("ListQueues", 13, "f", "")}}})
	write(t, filepath.Join(dir, "lookup.json"), lookup)
	write(t, filepath.Join(dir, "eventbridge.json"), []byte(`{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.connect","detail":`+rec("ListQueues", 14, "g", "")+`}`))

	inputs, err := FileInputs([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Standard input: CloudTrail records one per line.
	inputs = append(inputs, ReaderInput("<stdin>", strings.NewReader(rec("DescribeUser", 15, "h", "")+"\n"+rec("DescribeUser", 16, "h", "")+"\n")))
	r := analyze(t, inputs)
	if r.Partial() {
		t.Fatalf("unexpected problems: %v", r.Problems)
	}
	want := map[string]int64{
		"DescribeUser": 5, "GetCurrentMetricData": 3, "StartOutboundVoiceContact": 1, "(unknown)": 1,
		"StartChatContact": 1, "ListQueues": 2,
	}
	got := opCalls(r)
	for op, n := range want {
		if got[op] != n {
			t.Errorf("%s: got %d calls want %d (all: %v)", op, got[op], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("operations: got %v want %v", got, want)
	}
	if r.Skipped != 1 || r.SDKRecords != 4 || r.Records != 13 {
		t.Errorf("got skipped %d sdk %d records %d, want 1, 4, 13", r.Skipped, r.SDKRecords, r.Records)
	}
	if r.ErrorsByClass["concurrency-quota"] != 1 || r.ErrorsByClass["rate-throttle"] != 5 {
		t.Errorf("errors by class: %v", r.ErrorsByClass)
	}
	// SDK errors are attributed to their log stream.
	for _, f := range r.Findings {
		if f.Operation == "StartOutboundVoiceContact" && (len(f.TopCallers) == 0 || f.TopCallers[0].Principal != "log-stream:dialer-stream") {
			t.Errorf("SOVC callers: %+v", f.TopCallers)
		}
	}
}

// TestBadInput: each kind of bad input is reported with its file and byte
// offset or line, and everything else is still analysed.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := write(t, filepath.Join(dir, "good.json.gz"), gz(records(rec("DescribeUser", 1, "a", ""), rec("DescribeUser", 2, "a", ""))))

	// Truncated JSON: the file stops inside its third record.
	r1, r2, r3 := rec("ListQueues", 3, "b", ""), rec("ListQueues", 4, "b", ""), rec("ListQueues", 5, "b", "")
	full := records(r1, r2, r3)
	cut := strings.Index(full, r3) + len(r3)/2
	trunc := write(t, filepath.Join(dir, "truncated.json"), []byte(full[:cut]))
	truncAt := int64(strings.Index(full, r3))

	// JSON that is not CloudTrail: a whole file, and one element of Records.
	notCT := write(t, filepath.Join(dir, "not-cloudtrail.json"), []byte(`  {"Items":[{"a":1}]}`))
	bad := `{"hello":"world"}`
	mixed := records(bad, rec("ListUsers", 6, "c", ""))
	notRec := write(t, filepath.Join(dir, "not-a-record.json"), []byte(mixed))
	notRecAt := int64(strings.Index(mixed, bad))

	// Corrupt gzip: a byte flipped in the middle of the deflate stream of a
	// large file.
	var many []string
	for i := 0; i < 2000; i++ {
		many = append(many, rec("GetContactAttributes", 100+i%600, fmt.Sprintf("s%03d", i%97), ""))
	}
	z := gz(records(many...))
	z[len(z)/2] ^= 0xff
	z[len(z)/2+1] ^= 0x5a
	corrupt := write(t, filepath.Join(dir, "corrupt.json.gz"), z)
	// Truncated gzip.
	z2 := gz(records(many[:300]...))
	truncGz := write(t, filepath.Join(dir, "truncated.json.gz"), z2[:len(z2)*2/3])

	// A CloudWatch Logs export whose third line holds broken JSON.
	lines := "2026-11-25T10:00:07.000Z " + rec("DescribeQueue", 7, "d", "") + "\n" +
		"2026-11-25T10:00:08.000Z " + rec("DescribeQueue", 8, "d", "") + "\n" +
		"2026-11-25T10:00:09.000Z " + rec("DescribeQueue", 9, "d", "")[:60] + "\n" +
		"2026-11-25T10:00:10.000Z " + rec("DescribeQueue", 10, "d", "") + "\n"
	export := write(t, filepath.Join(dir, "export", "stream", "000000.gz"), gz(lines))

	inputs, err := FileInputs([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := analyze(t, inputs)
	if !r.Partial() {
		t.Fatal("report is not partial")
	}
	byFile := map[string][]Problem{}
	for _, p := range r.Problems {
		byFile[p.File] = append(byFile[p.File], p)
	}
	type want struct {
		file   string
		offset int64 // -2: any offset >= 0
		line   int64
		text   string
	}
	for _, w := range []want{
		{trunc, truncAt, 0, "truncated JSON"},
		{notCT, 2, 0, "not CloudTrail"},
		{notRec, notRecAt, 0, "not a CloudTrail record"},
		{corrupt, -2, 0, "gzip"},
		{truncGz, -2, 0, "gzip: stream truncated"},
		{export, -1, 3, "invalid JSON"},
	} {
		ps := byFile[w.file]
		found := false
		for _, p := range ps {
			if !strings.Contains(p.Err, w.text) {
				continue
			}
			switch {
			case w.line > 0 && p.Line == w.line:
				found = true
			case w.offset == -2 && p.Offset >= 0:
				found = true
			case w.offset >= 0 && p.Offset == w.offset:
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no problem %q at offset %d / line %d; got %v", filepath.Base(w.file), w.text, w.offset, w.line, ps)
		}
	}
	if len(byFile[good]) != 0 {
		t.Errorf("good file has problems: %v", byFile[good])
	}
	calls := opCalls(r)
	if calls["DescribeUser"] != 2 || calls["ListQueues"] != 2 || calls["ListUsers"] != 1 || calls["DescribeQueue"] != 3 {
		t.Errorf("the usable records were not all analysed: %v", calls)
	}
	// The truncated gzip held 300 records; those before the cut are read.
	if n := calls["GetContactAttributes"]; n < 100 {
		t.Errorf("records before the gzip damage: got %d, want at least 100", n)
	}
	for _, p := range r.Problems {
		if s := p.String(); !strings.HasPrefix(s, p.File+": ") || !(strings.Contains(s, ": byte ") || strings.Contains(s, ": line ")) {
			t.Errorf("problem %q does not name file and position", s)
		}
	}
}

func TestExportStream(t *testing.T) {
	type step struct{ path, want string }
	for i, s := range []step{
		{"exp/task/2026/11/25/[$LATEST]abc/000000.gz", "[$LATEST]abc"},
		{"exp/task/stream/000001", "stream"},
		{"AWSLogs/1/CloudTrail/r/2026/11/25/1_CloudTrail_r_x.json.gz", ""},
	} {
		if got := exportStream(filepath.FromSlash(s.path)); got != s.want {
			t.Errorf("step %d: got %q want %q", i, got, s.want)
		}
	}
}

// FuzzRead feeds arbitrary bytes, plain and gzipped, through the whole
// reader: no panic, problems always located inside the data.
func FuzzRead(f *testing.F) {
	f.Add([]byte(records(rec("DescribeUser", 1, "a", "ThrottlingException"))), false)
	f.Add([]byte(records(rec("DescribeUser", 1, "a", ""))[:100]), true)
	f.Add([]byte("2026-11-25T10:00:07.000Z "+rec("DescribeQueue", 7, "d", "")+"\n2026-11-25T10:00:08.000Z operation error Connect: X, https response error StatusCode: 429, RequestID: r, ThrottlingException: y\n"), true)
	f.Add([]byte(`{"events":[{"logStreamName":"s","timestamp":1,"message":"An error occurred (ThrottlingException) when calling the X operation: y"}]}`), false)
	f.Add([]byte(`{"Events":[{"CloudTrailEvent":"{\"eventName\":1}"}]} [1,2] {"detail":{}}`), false)
	f.Add([]byte(jsInspect), false)
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		if compress {
			data = gz(string(data))
		}
		agg := newAggregator(Options{})
		fr := &fileReader{emit: agg.add, intern: newInterner(100), maxValue: 1 << 16}
		fr.read(BytesInput("fuzz", data))
		for _, p := range fr.problems {
			if p.File != "fuzz" || p.Line < 0 || p.Line == 0 && p.Offset < -1 {
				t.Fatalf("bad problem %+v", p)
			}
			if !compress && p.Offset > int64(len(data)) {
				t.Fatalf("offset %d beyond %d bytes: %+v", p.Offset, len(data), p)
			}
		}
		if agg.records+agg.skipped < 0 {
			t.Fatal("negative count")
		}
		build(agg, Options{}) // the analysis must cope with whatever was read
	})
}
