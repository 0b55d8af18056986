package triage

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"time"
)

// Kind says where a record came from.
type Kind uint8

// Kinds of records.
const (
	KindCloudTrail Kind = iota // a CloudTrail event: one API call, successful or not
	KindSDKLog                 // an AWS SDK error found in a log line: failures only
)

// Record is one API call as read from a log, reduced to what the analysis
// uses.
type Record struct {
	Kind       Kind
	Time       int64  // Unix seconds; 0 when the source gave no time
	Source     string // eventSource, e.g. "connect.amazonaws.com"
	Op         string // eventName, e.g. "GetCurrentMetricData"
	Region     string
	Account    string // recipient account
	Code       string // error code, "" for a successful call
	Message    string // error message
	Status     int    // HTTP status when the source has one (SDK logs), else 0
	Principal  string // userIdentity.arn (or invokedBy / principalId); the log stream for SDK logs
	Role       string // the role behind an assumed-role session, or the IAM user
	Session    string // the role session name of an assumed-role principal
	UserAgent  string
	SourceIP   string
	ReadOnly   bool
	ParamsHash uint64 // hash of requestParameters.ClientToken when present, else of the raw requestParameters (comparable within one process); 0 when null or absent
}

// ErrNotCloudTrail is returned by ParseRecord for JSON that is valid but
// is not a CloudTrail record (no eventName, eventSource or eventTime).
var ErrNotCloudTrail = errors.New("not a CloudTrail record")

// ParseRecord parses one CloudTrail record (a JSON object). It returns a
// *json-style syntax error for malformed JSON and an error wrapping
// ErrNotCloudTrail for well-formed JSON that lacks the record's fields.
func ParseRecord(b []byte) (Record, error) {
	var r Record
	err := parseRecord(b, &r, nil)
	return r, err
}

// interner deduplicates the low-cardinality strings of records (operations,
// principals, agents) so that per-record work does not allocate. It is
// bounded: past max entries, strings are allocated normally.
type interner struct {
	m   map[string]string
	max int
}

func newInterner(max int) *interner { return &interner{m: make(map[string]string, 256), max: max} }

func (in *interner) get(raw []byte, slow bool) string {
	if slow {
		return decodeString(raw, true)
	}
	if in == nil {
		return string(raw)
	}
	if s, ok := in.m[string(raw)]; ok {
		return s
	}
	s := string(raw)
	if len(in.m) < in.max {
		in.m[s] = s
	}
	return s
}

// parseRecord fills r from the record object in b. in may be nil.
func parseRecord(b []byte, r *Record, in *interner) error {
	*r = Record{Kind: KindCloudTrail}
	s := jscan{b: b}
	if s.peek() != '{' {
		if s.skip(0) && s.end() {
			return fmt.Errorf("%w: a record must be a JSON object", ErrNotCloudTrail)
		}
		return s.err
	}
	var (
		haveVersion, haveTime bool
		timeStr               string
		acct, idAcct          string
		arn, invokedBy, pid   string
		idType, userName      string
		issuerArn             string
	)
	str := func(dst *string) bool {
		raw, slow, isStr, ok := s.stringOrSkip(1)
		if isStr {
			*dst = in.get(raw, slow)
		} else {
			*dst = ""
		}
		return ok
	}
	ok := s.object(0, func(k []byte) bool {
		switch string(k) {
		case "eventVersion":
			var v string
			if !str(&v) {
				return false
			}
			haveVersion = v != ""
			return true
		case "eventTime":
			raw, slow, isStr, ok := s.stringOrSkip(1)
			if !ok {
				return false
			}
			haveTime = isStr
			if isStr {
				timeStr = decodeString(raw, slow)
			} else {
				timeStr = ""
			}
			return true
		case "eventSource":
			return str(&r.Source)
		case "eventName":
			return str(&r.Op)
		case "awsRegion":
			return str(&r.Region)
		case "sourceIPAddress":
			return str(&r.SourceIP)
		case "userAgent":
			return str(&r.UserAgent)
		case "errorCode":
			return str(&r.Code)
		case "errorMessage":
			raw, slow, isStr, ok := s.stringOrSkip(1)
			if isStr {
				r.Message = decodeString(raw, slow)
			} else {
				r.Message = ""
			}
			return ok
		case "recipientAccountId":
			return str(&acct)
		case "readOnly":
			switch s.peek() {
			case 't':
				r.ReadOnly = true
				return s.lit("true")
			case 'f':
				r.ReadOnly = false
				return s.lit("false")
			case '"':
				var v string
				ok := str(&v)
				r.ReadOnly = v == "true"
				return ok
			}
			r.ReadOnly = false
			return s.skip(1)
		case "requestParameters":
			s.ws()
			start := s.i
			var token []byte
			if s.peek() == '{' {
				// A retry of the same call keeps its idempotency token
				// (ClientToken) even when other parameters change.
				ok := s.object(2, func(k []byte) bool {
					if string(k) == "ClientToken" && s.peek() == '"' {
						raw, slow, ok := s.str()
						if slow {
							raw = []byte(decodeString(raw, true))
						}
						token = raw
						return ok
					}
					return s.skip(2)
				})
				if !ok {
					return false
				}
			} else if !s.skip(1) {
				return false
			}
			switch v := b[start:s.i]; {
			case len(token) > 0:
				r.ParamsHash = maphash.Bytes(tokenSeed, token) | 1
			case string(v) != "null":
				r.ParamsHash = maphash.Bytes(paramSeed, v) | 1
			default:
				r.ParamsHash = 0
			}
			return true
		case "userIdentity":
			// A repeated key replaces the whole object, as in encoding/json.
			arn, invokedBy, pid, idType, userName, issuerArn, idAcct = "", "", "", "", "", "", ""
			if s.peek() != '{' {
				return s.skip(1)
			}
			return s.object(1, func(k []byte) bool {
				switch string(k) {
				case "type":
					return str(&idType)
				case "arn":
					return str(&arn)
				case "principalId":
					return str(&pid)
				case "accountId":
					return str(&idAcct)
				case "userName":
					return str(&userName)
				case "invokedBy":
					return str(&invokedBy)
				case "sessionContext":
					issuerArn = ""
					if s.peek() != '{' {
						return s.skip(2)
					}
					return s.object(2, func(k []byte) bool {
						if string(k) != "sessionIssuer" {
							return s.skip(3)
						}
						issuerArn = ""
						if s.peek() != '{' {
							return s.skip(3)
						}
						return s.object(3, func(k []byte) bool {
							if string(k) == "arn" {
								return str(&issuerArn)
							}
							return s.skip(4)
						})
					})
				}
				return s.skip(2)
			})
		}
		return s.skip(1)
	})
	if !ok {
		return s.err
	}
	if !s.end() {
		return s.err
	}
	switch {
	case r.Op == "" || r.Source == "":
		return fmt.Errorf("%w: no eventName/eventSource", ErrNotCloudTrail)
	case !haveTime:
		return fmt.Errorf("%w: no eventTime", ErrNotCloudTrail)
	}
	t, ok := parseTimestamp(timeStr)
	if !ok {
		return fmt.Errorf("%w: bad eventTime %q", ErrNotCloudTrail, clip(timeStr, 40))
	}
	_ = haveVersion // optional: old or hand-made records may omit it
	r.Time = t
	r.Account = acct
	if r.Account == "" {
		r.Account = idAcct
	}
	r.Principal = firstNonEmpty(arn, invokedBy, pid, idType)
	r.Role = issuerArn
	if r.Role == "" && idType == "IAMUser" {
		r.Role = arn
	}
	if idType == "AssumedRole" || strings.Contains(arn, ":assumed-role/") {
		if i := strings.LastIndexByte(arn, '/'); i >= 0 && i+1 < len(arn) {
			r.Session = arn[i+1:]
		}
	}
	_ = userName
	return nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// paramSeed seeds the request-parameter hash; hashes compare only within
// one process.
var paramSeed = maphash.MakeSeed()

// tokenSeed seeds the hash of a request's ClientToken, which identifies a
// request by itself.
var tokenSeed = maphash.MakeSeed()

// parseTimestamp parses CloudTrail's "2006-01-02T15:04:05Z" quickly and any
// RFC 3339 time otherwise, returning Unix seconds.
func parseTimestamp(v string) (int64, bool) {
	if len(v) == 20 && v[4] == '-' && v[7] == '-' && v[10] == 'T' && v[13] == ':' && v[16] == ':' && v[19] == 'Z' {
		y, ok1 := atoiN(v[0:4])
		mo, ok2 := atoiN(v[5:7])
		d, ok3 := atoiN(v[8:10])
		h, ok4 := atoiN(v[11:13])
		mi, ok5 := atoiN(v[14:16])
		se, ok6 := atoiN(v[17:19])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo) && h < 24 && mi < 60 && se < 60 {
			return daysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+se), true
		}
		return 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return 0, false
	}
	return t.Unix(), true
}

func atoiN(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns days since 1970-01-01 (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
