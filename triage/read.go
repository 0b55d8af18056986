package triage

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Problem is one piece of input that could not be used.
type Problem struct {
	File   string `json:"file"`
	Offset int64  `json:"offset"`         // byte offset in the (decompressed) data, -1 if not applicable
	Line   int64  `json:"line,omitempty"` // 1-based line for line-oriented data, 0 if not applicable
	Err    string `json:"error"`
}

func (p Problem) String() string {
	switch {
	case p.Line > 0:
		return fmt.Sprintf("%s: line %d: %s", p.File, p.Line, p.Err)
	case p.Offset >= 0:
		return fmt.Sprintf("%s: byte %d: %s", p.File, p.Offset, p.Err)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Err)
}

// maxProblemsPerFile bounds the problems kept per input; the rest are counted.
const maxProblemsPerFile = 20

// countingReader counts bytes and reports them to progress.
type countingReader struct {
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil && n > 0 {
		c.progress(int64(n))
	}
	return n, err
}

// fileReader reads one input at a time for one worker, sending records to
// emit and problems to the worker's list.
type fileReader struct {
	emit     func(*Record)
	intern   *interner
	maxValue int
	progress func(int64)

	in       Input
	gz       *countingReader // compressed side, when gzip
	gzErr    bool            // a gzip error was reported for the current input
	problems []Problem
	nprob    int // problems in the current input, kept or not
	dropped  int // problems not kept
	records  int64
	bytes    int64
	rec      Record
}

// problem records a problem of the current input. Past maxProblemsPerFile
// problems are only counted, except a gzip stream error (readErr sets gzErr
// first), which says why the rest of the file is missing.
func (fr *fileReader) problem(off, line int64, format string, args ...any) {
	fr.nprob++
	if fr.nprob > maxProblemsPerFile && !fr.gzErr {
		fr.dropped++
		return
	}
	fr.problems = append(fr.problems, Problem{File: fr.in.Name, Offset: off, Line: line, Err: fmt.Sprintf(format, args...)})
}

// readErr describes a stream error, adding where it happened in the
// compressed file for gzip input.
func (fr *fileReader) readErr(err error) string {
	if fr.gz != nil {
		fr.gzErr = true
	}
	var ce flate.CorruptInputError
	switch {
	case errors.Is(err, gzip.ErrChecksum):
		return "gzip: checksum mismatch (the file is corrupt)"
	case errors.Is(err, gzip.ErrHeader):
		return "gzip: invalid header in a following member (the file is corrupt)"
	case errors.As(err, &ce):
		return fmt.Sprintf("gzip: corrupt deflate data at compressed byte %d", int64(ce))
	case errors.Is(err, io.ErrUnexpectedEOF) && fr.gz != nil:
		return fmt.Sprintf("gzip: stream truncated after %d compressed bytes", fr.gz.n)
	}
	return err.Error()
}

// read processes one input from start to end.
func (fr *fileReader) read(in Input) {
	fr.in, fr.nprob, fr.gz, fr.gzErr = in, 0, nil, false
	rc, err := in.Open()
	if err != nil {
		fr.problem(-1, 0, "%v", err)
		return
	}
	defer rc.Close()
	raw := &countingReader{r: rc, progress: fr.progress}
	br := bufio.NewReaderSize(raw, 64<<10)
	dec := &countingReader{r: br}
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			fr.problem(0, 0, "%s", fr.readErr(err))
			return
		}
		defer zr.Close()
		fr.gz = raw
		dec.r = zr
		// After the content is read (or abandoned at a JSON error), read the
		// rest of the stream so that a corrupt file is reported as corrupt
		// gzip, not only as the garbage it decompressed to.
		defer func() {
			if fr.gzErr {
				return
			}
			if _, err := io.Copy(io.Discard, dec); err != nil {
				fr.problem(dec.n, 0, "%s", fr.readErr(err))
			}
		}()
	}
	defer func() { fr.bytes += dec.n }()
	body := bufio.NewReaderSize(dec, 64<<10)
	first, err := firstNonSpace(body)
	if err != nil {
		if err != io.EOF {
			fr.problem(0, 0, "%s", fr.readErr(err))
		}
		return
	}
	if first == '{' || first == '[' {
		fr.readJSON(newJStream(body, fr.maxValue))
		return
	}
	fr.readLines(body)
}

// firstNonSpace peeks at the first non-space byte of br.
func firstNonSpace(br *bufio.Reader) (byte, error) {
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
		switch c := b[n-1]; c {
		case ' ', '\t', '\r', '\n':
			if n >= br.Size() {
				return 0, io.EOF
			}
		default:
			return c, nil
		}
	}
}

// containerKeys are the first keys of the multi-value JSON documents read
// here: CloudTrail files, filter-log-events output, lookup-events output.
var containerKeys = map[string]bool{
	"Records": true, "events": true, "Events": true,
	"searchedLogStreams": true, "nextToken": true, "NextToken": true, "nextForwardToken": true,
}

// readJSON reads a sequence of JSON documents.
func (fr *fileReader) readJSON(js *jstream) {
	for {
		c, ok := js.next()
		if !ok {
			if js.rerr != nil {
				fr.problem(js.offset(), 0, "%s", fr.readErr(js.rerr))
			}
			return
		}
		off := js.offset()
		switch c {
		case '{':
			if containerKeys[js.peekKey()] {
				if err := fr.container(js); err != nil {
					fr.problem(js.offset(), 0, "%s", fr.jsonErr(err))
					return
				}
				continue
			}
			v, err := js.value()
			if err != nil {
				fr.problem(off, 0, "%s", fr.jsonErr(err))
				return
			}
			fr.single(v, off)
		case '[':
			js.pos++
			if err := fr.array(js, fr.cloudTrailValue); err != nil {
				fr.problem(js.offset(), 0, "%s", fr.jsonErr(err))
				return
			}
		default:
			fr.problem(off, 0, "not JSON: unexpected %q", c)
			return
		}
	}
}

// jsonErr words a stream-level JSON error.
func (fr *fileReader) jsonErr(err error) string {
	switch {
	case errors.Is(err, errTruncated):
		return "truncated JSON: the input ends inside a value"
	case errors.Is(err, errTooLarge):
		return fmt.Sprintf("a JSON value is larger than %d bytes", fr.maxValue)
	}
	var se *syntaxError
	if errors.As(err, &se) {
		return "invalid JSON: " + se.msg
	}
	if strings.HasPrefix(err.Error(), "expected") || strings.HasPrefix(err.Error(), "unexpected") {
		return "invalid JSON: " + err.Error()
	}
	return fr.readErr(err)
}

// container reads {"Records":[…]}, {"events":[…],…} or {"Events":[…]}.
func (fr *fileReader) container(js *jstream) error {
	if err := js.consume('{'); err != nil {
		return err
	}
	if c, ok := js.next(); ok && c == '}' {
		js.pos++
		return nil
	}
	for {
		k, err := js.key()
		if err != nil {
			return err
		}
		c, ok := js.next()
		if !ok {
			return js.endErr()
		}
		var elem func([]byte, int64)
		switch k {
		case "Records":
			elem = fr.cloudTrailValue
		case "events":
			elem = fr.logEventValue
		case "Events":
			elem = fr.lookupEventValue
		}
		if elem != nil && c == '[' {
			js.pos++
			if err := fr.array(js, elem); err != nil {
				return err
			}
		} else {
			if elem != nil {
				fr.problem(js.offset(), 0, "not CloudTrail: %q is not an array", k)
			}
			if _, err := js.value(); err != nil {
				return err
			}
		}
		c, ok = js.next()
		if !ok {
			return js.endErr()
		}
		js.pos++
		switch c {
		case ',':
		case '}':
			return nil
		default:
			return fmt.Errorf("expected ',' or '}' after %q, found %q", k, c)
		}
	}
}

// array reads the elements of an array whose '[' is consumed.
func (fr *fileReader) array(js *jstream, elem func([]byte, int64)) error {
	if c, ok := js.next(); ok && c == ']' {
		js.pos++
		return nil
	}
	for {
		if _, ok := js.next(); !ok {
			return js.endErr()
		}
		off := js.offset()
		v, err := js.value()
		if err != nil {
			return err
		}
		elem(v, off)
		c, ok := js.next()
		if !ok {
			return js.endErr()
		}
		js.pos++
		switch c {
		case ',':
		case ']':
			return nil
		default:
			return fmt.Errorf("expected ',' or ']' between elements, found %q", c)
		}
	}
}

// recordErr reports a record that could not be parsed at offset off.
func (fr *fileReader) recordErr(err error, off, line int64) {
	var se *syntaxError
	if errors.As(err, &se) {
		if line > 0 {
			fr.problem(-1, line, "invalid JSON: %s at column %d", se.msg, se.off+1)
		} else {
			fr.problem(off+int64(se.off), 0, "invalid JSON: %s", se.msg)
		}
		return
	}
	if line > 0 {
		fr.problem(-1, line, "%v", err)
	} else {
		fr.problem(off, 0, "%v", err)
	}
}

// cloudTrailValue handles one element of Records (or of a bare array).
func (fr *fileReader) cloudTrailValue(v []byte, off int64) {
	if err := parseRecord(v, &fr.rec, fr.intern); err != nil {
		fr.recordErr(err, off, 0)
		return
	}
	fr.records++
	fr.emit(&fr.rec)
}

// single handles a top-level object that is not a container: a CloudTrail
// record or an EventBridge event holding one.
func (fr *fileReader) single(v []byte, off int64) {
	err := parseRecord(v, &fr.rec, fr.intern)
	if err == nil {
		fr.records++
		fr.emit(&fr.rec)
		return
	}
	if errors.Is(err, ErrNotCloudTrail) {
		if d, doff, ok := member(v, "detail"); ok && len(d) > 0 && d[0] == '{' {
			if err2 := parseRecord(d, &fr.rec, fr.intern); err2 == nil {
				fr.records++
				fr.emit(&fr.rec)
				return
			} else {
				fr.recordErr(err2, off+int64(doff), 0)
				return
			}
		}
		fr.problem(off, 0, "not CloudTrail: a JSON object that is neither a CloudTrail log file ({\"Records\":[…]}) nor a record (%v)", err)
		return
	}
	fr.recordErr(err, off, 0)
}

// member returns the raw value of key in the object v and its offset.
func member(v []byte, key string) ([]byte, int, bool) {
	s := jscan{b: v}
	var out []byte
	at := 0
	ok := s.object(0, func(k []byte) bool {
		s.ws()
		start := s.i
		if !s.skip(1) {
			return false
		}
		if string(k) == key {
			out, at = v[start:s.i], start
		}
		return true
	})
	return out, at, ok && out != nil
}

// lookupEventValue handles an element of lookup-events' Events: the record
// is the string member CloudTrailEvent.
func (fr *fileReader) lookupEventValue(v []byte, off int64) {
	d, doff, ok := member(v, "CloudTrailEvent")
	if !ok || len(d) == 0 || d[0] != '"' {
		fr.problem(off, 0, "not CloudTrail: lookup-events element without a CloudTrailEvent string")
		return
	}
	s := jscan{b: d}
	raw, slow, ok := s.str()
	if !ok {
		fr.recordErr(s.err, off+int64(doff), 0)
		return
	}
	if err := parseRecord([]byte(decodeString(raw, slow)), &fr.rec, fr.intern); err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			fr.problem(off+int64(doff), 0, "invalid JSON in CloudTrailEvent: %s", se.msg)
		} else {
			fr.problem(off+int64(doff), 0, "%v", err)
		}
		return
	}
	fr.records++
	fr.emit(&fr.rec)
}

// logEventValue handles an element of filter-log-events' events.
func (fr *fileReader) logEventValue(v []byte, off int64) {
	s := jscan{b: v}
	var (
		stream, msg string
		ts          int64
		haveMsg     bool
	)
	ok := s.object(0, func(k []byte) bool {
		switch string(k) {
		case "logStreamName":
			raw, slow, isStr, ok := s.stringOrSkip(1)
			if isStr {
				stream = fr.intern.get(raw, slow)
			}
			return ok
		case "message":
			raw, slow, isStr, ok := s.stringOrSkip(1)
			if isStr {
				msg, haveMsg = decodeString(raw, slow), true
			}
			return ok
		case "timestamp":
			s.ws()
			start := s.i
			if !s.skip(1) {
				return false
			}
			if n, err := strconv.ParseFloat(string(v[start:s.i]), 64); err == nil && n > 0 {
				ts = int64(n / 1000)
			}
			return true
		}
		return s.skip(1)
	})
	if !ok {
		fr.recordErr(s.err, off, 0)
		return
	}
	if !haveMsg {
		fr.problem(off, 0, "not a log event: no message")
		return
	}
	fr.logMessage([]byte(msg), ts, stream, off, 0)
}

var (
	sdkMarkers = [][]byte{
		[]byte("operation error "), []byte("An error occurred ("), []byte("$metadata"),
		[]byte("$fault"), []byte("commandName"), []byte("statusCode"),
	}
	// cloudTrailKeys mark a log message as a CloudTrail record (the keys of
	// every record, whatever their order).
	cloudTrailKeys = [][]byte{[]byte(`"eventSource"`), []byte(`"eventVersion"`), []byte(`"eventID"`), []byte(`"userIdentity"`), []byte(`"awsRegion"`)}
)

// logMessage handles one log event's message: a CloudTrail record (from a
// trail delivered to CloudWatch Logs) or a line that may hold an SDK error.
// Exactly one of off (>= 0) and line (> 0) locates it.
func (fr *fileReader) logMessage(msg []byte, ts int64, stream string, off, line int64) {
	t := bytes.TrimSpace(msg)
	if len(t) == 0 {
		return
	}
	if t[0] == '{' && containsAny(t, cloudTrailKeys) {
		if err := parseRecord(t, &fr.rec, fr.intern); err != nil {
			fr.recordErr(err, off, line)
			return
		}
		fr.records++
		fr.emit(&fr.rec)
		return
	}
	if !containsAny(t, sdkMarkers) {
		return
	}
	e, ok := ParseSDKError(string(t))
	if !ok {
		return
	}
	if e.Service != "" && !strings.Contains(strings.ToLower(e.Service), "connect") {
		return // another service's error in the same log
	}
	if ts == 0 {
		ts, _ = leadingTime(t)
	}
	if stream == "" {
		stream = fr.in.Stream
	}
	if e.Code == "" {
		e.Code = "HTTPStatus" + strconv.Itoa(e.Status) // classified by its status
	}
	fr.rec = Record{
		Kind:      KindSDKLog,
		Time:      ts,
		Source:    "connect.amazonaws.com",
		Op:        fr.intern.get([]byte(e.Op), false),
		Code:      fr.intern.get([]byte(e.Code), false),
		Message:   e.Message,
		Status:    e.Status,
		Principal: "log-stream:" + firstNonEmpty(stream, fr.in.Name),
		UserAgent: fr.intern.get([]byte("sdk-"+e.SDK), false),
	}
	fr.records++
	fr.emit(&fr.rec)
}

// maxLine bounds one log line; longer lines are reported and skipped.
const maxLine = 1 << 20

// readLines reads line-oriented logs: CloudWatch Logs export objects
// ("<timestamp> <message>" per event, continuation lines for multi-line
// messages) and plain log text.
func (fr *fileReader) readLines(br *bufio.Reader) {
	var (
		lineNo   int64
		evLine   int64
		evTS     int64
		ev       []byte
		haveEv   bool
		stamped  bool // the input has timestamped lines: others continue the previous event
		long     []byte
		skipLong bool
		readErr  error
		maxEvent = 64 << 10
		flush    = func() {
			if haveEv {
				fr.logMessage(ev, evTS, "", -1, evLine)
			}
			haveEv, ev = false, ev[:0]
		}
	)
	for {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if !skipLong {
				long = append(long, chunk...)
				if len(long) > maxLine {
					fr.problem(-1, lineNo+1, "line longer than %d bytes skipped", maxLine)
					skipLong, long = true, long[:0]
				}
			}
			continue
		}
		if err != nil && err != io.EOF {
			readErr = err
		}
		if len(chunk) == 0 && err != nil {
			break
		}
		lineNo++
		if skipLong {
			skipLong = false
			if err != nil {
				break
			}
			continue
		}
		line := chunk
		if len(long) > 0 {
			long = append(long, chunk...)
			line, long = long, long[:0]
		}
		line = bytes.TrimRight(line, "\r\n")
		if ts, rest, ok := exportLine(line); ok {
			flush()
			stamped = true
			haveEv, evLine, evTS = true, lineNo, ts
			ev = append(ev[:0], rest...)
		} else if stamped && haveEv {
			if len(ev) < maxEvent {
				ev = append(ev, '\n')
				ev = append(ev, line...)
			}
		} else {
			fr.logMessage(line, 0, "", -1, lineNo)
		}
		if err != nil {
			break
		}
	}
	flush()
	if readErr != nil {
		fr.problem(-1, lineNo+1, "%s", fr.readErr(readErr))
	}
}

// exportLine splits "<RFC 3339 timestamp> <message>", the CloudWatch Logs
// export line format.
func exportLine(line []byte) (int64, []byte, bool) {
	i := bytes.IndexAny(line, " \t")
	if i < 20 || i > 35 || line[4] != '-' || line[10] != 'T' {
		return 0, nil, false
	}
	ts, ok := parseLogTime(string(line[:i]))
	if !ok {
		return 0, nil, false
	}
	return ts, line[i+1:], true
}

// parseLogTime parses an RFC 3339 timestamp with optional fraction.
func parseLogTime(s string) (int64, bool) {
	if len(s) == 20 {
		return parseTimestamp(s)
	}
	if dot := strings.IndexByte(s, '.'); dot == 19 && strings.HasSuffix(s, "Z") {
		return parseTimestamp(s[:19] + "Z")
	}
	return parseTimestamp(s)
}

// leadingTime finds a timestamp at the start of a Lambda log line:
// "2026-11-25T10:01:02.123Z\t…", "[ERROR]\t2026-11-25T10:01:02.123Z\t…" or
// Go's log "2026/11/25 10:01:02 …".
func leadingTime(t []byte) (int64, bool) {
	s := t
	if len(s) > 0 && s[0] == '[' {
		if i := bytes.IndexByte(s, ']'); i > 0 && i < 12 {
			s = bytes.TrimLeft(s[i+1:], " \t")
		}
	}
	if ts, _, ok := exportLine(s); ok {
		return ts, true
	}
	if len(s) >= 19 && s[4] == '/' && s[7] == '/' && s[10] == ' ' {
		v := string(s[0:4]) + "-" + string(s[5:7]) + "-" + string(s[8:10]) + "T" + string(s[11:19]) + "Z"
		return parseTimestamp(v)
	}
	return 0, false
}

func containsAny(b []byte, subs [][]byte) bool {
	for _, s := range subs {
		if bytes.Contains(b, s) {
			return true
		}
	}
	return false
}
