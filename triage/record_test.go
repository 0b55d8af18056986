package triage

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// sampleRecord is the throttled-record template of ecosystem.md §1.2.
const sampleRecord = `{"eventVersion":"1.11","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:provisioner",
 "arn":"arn:aws:sts::111122223333:assumed-role/ConnectProvisioner/provisioner","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE",
 "sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/ConnectProvisioner","accountId":"111122223333","userName":"ConnectProvisioner"},
  "attributes":{"creationDate":"2026-11-25T10:00:00Z","mfaAuthenticated":"false"}}},
 "eventTime":"2026-11-25T10:01:02Z","eventSource":"connect.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1",
 "sourceIPAddress":"203.0.113.10","userAgent":"aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/connect#1.175.2 m/E,e",
 "errorCode":"ThrottlingException","errorMessage":"Rate exceeded","requestParameters":null,"responseElements":null,
 "requestID":"4f6f8a1e-0000-4000-8000-000000000001","eventID":"4f6f8a1e-0000-4000-8000-000000000002","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,
 "recipientAccountId":"111122223333","eventCategory":"Management"}`

func TestParseRecordSample(t *testing.T) {
	r, err := ParseRecord([]byte(sampleRecord))
	if err != nil {
		t.Fatal(err)
	}
	want := Record{
		Kind: KindCloudTrail, Time: time.Date(2026, 11, 25, 10, 1, 2, 0, time.UTC).Unix(),
		Source: "connect.amazonaws.com", Op: "CreateUser", Region: "us-east-1", Account: "111122223333",
		Code: "ThrottlingException", Message: "Rate exceeded",
		Principal: "arn:aws:sts::111122223333:assumed-role/ConnectProvisioner/provisioner",
		Role:      "arn:aws:iam::111122223333:role/ConnectProvisioner", Session: "provisioner",
		UserAgent: "aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/connect#1.175.2 m/E,e",
		SourceIP:  "203.0.113.10",
	}
	if r != want {
		t.Fatalf("got  %+v\nwant %+v", r, want)
	}
}

func TestParseRecordSteps(t *testing.T) {
	type step struct {
		in      string
		op      string
		code    string
		prin    string
		session string
		ro      bool
		params  bool // ParamsHash != 0
		err     string
	}
	base := `"eventTime":"2026-11-25T10:01:02Z","eventSource":"connect.amazonaws.com","eventName":"X"`
	steps := []step{
		{in: `{` + base + `}`, op: "X"},
		{in: `{` + base + `,"readOnly":true}`, op: "X", ro: true},
		{in: `{` + base + `,"readOnly":"true"}`, op: "X", ro: true},
		{in: `{` + base + `,"errorCode":"Client.RequestLimitExceeded"}`, op: "X", code: "Client.RequestLimitExceeded"},
		{in: `{` + base + `,"userIdentity":{"type":"AWSService","invokedBy":"cloudformation.amazonaws.com"}}`, op: "X", prin: "cloudformation.amazonaws.com"},
		{in: `{` + base + `,"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/Seshu"}}`, op: "X", prin: "arn:aws:iam::1:user/Seshu"},
		{in: `{` + base + `,"userIdentity":{"arn":"arn:aws:sts::1:assumed-role/R/s-1"}}`, op: "X", prin: "arn:aws:sts::1:assumed-role/R/s-1", session: "s-1"},
		{in: `{` + base + `,"userIdentity":{"arn":"a"},"userIdentity":{"principalId":"P"}}`, op: "X", prin: "P"}, // last key wins
		{in: `{` + base + `,"requestParameters":{"InstanceId":"i"}}`, op: "X", params: true},
		{in: `{` + base + `,"requestParameters":null}`, op: "X"},
		{in: `{"eventN\u0061me":"Esc",` + base[:strings.Index(base, `,"eventName"`)] + `}`, op: "Esc"},
		{in: `{` + base + `,"eventName":5}`, err: "not a CloudTrail record"},
		{in: `{"eventSource":"connect.amazonaws.com","eventName":"X"}`, err: "no eventTime"},
		{in: `{` + strings.Replace(base, "10:01:02Z", "10:01:61Z", 1) + `}`, err: "bad eventTime"},
		{in: `{"foo":1}`, err: "not a CloudTrail record"},
		{in: `[1,2]`, err: "must be a JSON object"},
		{in: `{` + base, err: "unexpected end of JSON"},
		{in: `{` + base + `,"x":tru}`, err: "invalid literal"},
		{in: `{` + base + `,"x":"a` + "\x01" + `"}`, err: "control character"},
		{in: `{` + base + `} x`, err: "trailing data"},
		{in: `{` + base + `,"x":01}`, err: "expected"},
	}
	for i, s := range steps {
		r, err := ParseRecord([]byte(s.in))
		if s.err != "" {
			if err == nil || !strings.Contains(err.Error(), s.err) {
				t.Errorf("step %d: got error %v want one containing %q", i, err, s.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("step %d: unexpected error %v", i, err)
			continue
		}
		if r.Op != s.op || r.Code != s.code || r.Principal != s.prin || r.Session != s.session || r.ReadOnly != s.ro || (r.ParamsHash != 0) != s.params {
			t.Errorf("step %d: got %+v", i, r)
		}
	}
}

func TestParseTimestampSteps(t *testing.T) {
	type step struct {
		in   string
		want string // RFC 3339 or "" for invalid
	}
	steps := []step{
		{"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
		{"2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z"},
		{"2023-02-29T00:00:00Z", ""},
		{"2026-13-01T00:00:00Z", ""},
		{"2026-11-25T24:00:00Z", ""},
		{"2026-11-25T10:01:02.123Z", "2026-11-25T10:01:02Z"},
		{"2026-11-25T12:01:02+02:00", "2026-11-25T10:01:02Z"},
		{"1899-12-31T23:59:59Z", "1899-12-31T23:59:59Z"},
		{"not a time", ""},
	}
	for i, s := range steps {
		got, ok := parseTimestamp(s.in)
		if s.want == "" {
			if ok {
				t.Errorf("step %d: got %v want invalid", i, got)
			}
			continue
		}
		want, _ := time.Parse(time.RFC3339, s.want)
		if !ok || got != want.Unix() {
			t.Errorf("step %d: got %v,%v want %v", i, got, ok, want.Unix())
		}
	}
}

// refRecord extracts the same fields with encoding/json: the reference the
// hand-written scanner is checked against.
func refRecord(b []byte) (Record, error) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return Record{}, err
	}
	str := func(m map[string]any, k string) string {
		s, _ := m[k].(string)
		return s
	}
	r := Record{Kind: KindCloudTrail}
	r.Source, r.Op, r.Region = str(m, "eventSource"), str(m, "eventName"), str(m, "awsRegion")
	r.SourceIP, r.UserAgent = str(m, "sourceIPAddress"), str(m, "userAgent")
	r.Code, r.Message = str(m, "errorCode"), str(m, "errorMessage")
	r.ReadOnly = m["readOnly"] == true || m["readOnly"] == "true"
	id, _ := m["userIdentity"].(map[string]any)
	sc, _ := id["sessionContext"].(map[string]any)
	iss, _ := sc["sessionIssuer"].(map[string]any)
	r.Account = str(m, "recipientAccountId")
	if r.Account == "" {
		r.Account = str(id, "accountId")
	}
	arn := str(id, "arn")
	r.Principal = firstNonEmpty(arn, str(id, "invokedBy"), str(id, "principalId"), str(id, "type"))
	r.Role = str(iss, "arn")
	if r.Role == "" && str(id, "type") == "IAMUser" {
		r.Role = arn
	}
	if str(id, "type") == "AssumedRole" || strings.Contains(arn, ":assumed-role/") {
		if i := strings.LastIndexByte(arn, '/'); i >= 0 && i+1 < len(arn) {
			r.Session = arn[i+1:]
		}
	}
	if r.Op == "" || r.Source == "" {
		return r, ErrNotCloudTrail
	}
	ts, ok := m["eventTime"].(string)
	if !ok {
		return r, ErrNotCloudTrail
	}
	tm, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return r, ErrNotCloudTrail
	}
	r.Time = tm.Unix()
	return r, nil
}

// FuzzParseRecord checks the scanner against encoding/json: the same
// validity verdict on every input and the same fields on every record.
func FuzzParseRecord(f *testing.F) {
	f.Add([]byte(sampleRecord))
	f.Add([]byte(`{"eventTime":"2026-11-25T10:01:02Z","eventSource":"connect.amazonaws.com","eventName":"X","readOnly":"true","userIdentity":{"arn":"arn:aws:sts::1:assumed-role/R/s"}}`))
	f.Add([]byte(`{"eventTime":"2026-11-25T10:01:02.5+01:00","eventSource":"s","eventName":"\u00e9\ud83d\ude00","errorMessage":"\"q\"\\"}`))
	f.Add([]byte(`{"a":[1,-2.5e+3,true,false,null,{"b":{}}],"eventName":"X"}`))
	f.Add([]byte("{\"eventName\":\"\xff\xfe\",\"eventSource\":\"x\",\"eventTime\":\"2026-01-01T00:00:00Z\"}"))
	f.Add([]byte(`{"userIdentity":null,"userIdentity":{"type":"IAMUser","arn":"u"}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.Count(b, []byte("["))+bytes.Count(b, []byte("{")) > 5000 {
			t.Skip("nesting depth limits differ by design")
		}
		got, err := ParseRecord(b)
		want, werr := refRecord(b)
		valid := json.Valid(b)
		var se *syntaxError
		if errors.As(err, &se) == valid {
			t.Fatalf("validity differs: json.Valid=%v, ParseRecord err=%v", valid, err)
		}
		if !valid {
			return
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("verdict differs: got err %v, reference err %v", err, werr)
		}
		if err != nil {
			if !errors.Is(err, ErrNotCloudTrail) {
				t.Fatalf("error %v does not wrap ErrNotCloudTrail", err)
			}
			return
		}
		got.ParamsHash = 0
		if got != want {
			t.Fatalf("fields differ:\n got  %+v\n want %+v", got, want)
		}
	})
}

// TestParamsHashClientToken: attempts with the same ClientToken are one
// request even when other parameters differ; without a token the whole
// parameters decide.
func TestParamsHashClientToken(t *testing.T) {
	hash := func(params string) uint64 {
		t.Helper()
		var r Record
		if err := parseRecord([]byte(`{"eventVersion":"1.09","eventTime":"2026-11-25T10:00:00Z","eventSource":"connect.amazonaws.com","eventName":"StartOutboundVoiceContact","requestParameters":`+params+`}`), &r, nil); err != nil {
			t.Fatal(err)
		}
		return r.ParamsHash
	}
	a := hash(`{"InstanceId":"i","ClientToken":"tok-1","Attributes":{"try":"1"}}`)
	b := hash(`{"Attributes":{"try":"2"},"ClientToken":"tok-1","InstanceId":"i"}`)
	c := hash(`{"InstanceId":"i","ClientToken":"tok-2","Attributes":{"try":"1"}}`)
	d := hash(`{"InstanceId":"i","Attributes":{"try":"1"}}`)
	e := hash(`{"InstanceId":"i","Attributes":{"try":"2"}}`)
	if a == 0 || a != b || a == c || d == 0 || d == e || hash(`null`) != 0 {
		t.Errorf("hashes: same token %x %x, other token %x, no token %x %x", a, b, c, d, e)
	}
}
