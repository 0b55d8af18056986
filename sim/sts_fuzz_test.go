package sim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzSTSForm feeds arbitrary form bodies to the STS parser and the STS
// endpoint: the parser never panics, accepts an AssumeRole only with a
// well-formed role ARN, session name and duration, and the endpoint always
// answers in STS's XML shape (200 or a 4xx ErrorResponse).
func FuzzSTSForm(f *testing.F) {
	for _, s := range []string{
		"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A100000000001%3Arole%2Ftollgate&RoleSessionName=s1",
		"Action=AssumeRole&RoleArn=arn:aws:iam::100000000002:role/a/b/c&RoleSessionName=x@y.z&DurationSeconds=900&ExternalId=ext",
		"Action=AssumeRole&RoleArn=arn:aws:iam::999999999999:role/r&RoleSessionName=s1&DurationSeconds=43201",
		"Action=GetCallerIdentity&Version=2011-06-15",
		"Action=GetSessionToken",
		"Action=AssumeRole&Version=2010-01-01",
		"%zz=1",
		"",
	} {
		f.Add(s)
	}
	m, err := NewMulti(Options{Accounts: 2})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, e := parseSTSForm([]byte(body))
		if e == nil && req.action == "AssumeRole" {
			acct, name, ok := parseRoleARN(req.roleARN)
			if !ok || acct != req.roleAccount || name != req.roleName || len(acct) != 12 {
				t.Fatalf("accepted role %q (account %q name %q)", req.roleARN, req.roleAccount, req.roleName)
			}
			if req.duration < stsMinDuration || req.duration > stsMaxDuration {
				t.Fatalf("accepted duration %d", req.duration)
			}
			if n := len(req.sessionName); n < 2 || n > 64 || strings.Trim(req.sessionName, sessionNameChars) != "" {
				t.Fatalf("accepted session name %q", req.sessionName)
			}
		}
		if e != nil && (e.status < 400 || e.status > 499 || e.code == "") {
			t.Fatalf("error %+v", e)
		}
		r := httptest.NewRequest("POST", "http://sim.local/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, r)
		b := rec.Body.String()
		switch {
		case rec.Code == http.StatusOK && (e == nil):
		case rec.Code >= 400 && rec.Code < 500 && strings.HasPrefix(b, "<ErrorResponse"):
		default:
			t.Fatalf("answer %d %s to %q (parse error %v)", rec.Code, b, body, e)
		}
	})
}
