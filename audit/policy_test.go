package audit

import (
	"reflect"
	"testing"

	"github.com/tollgatehq/tollgate/quotas"
)

func TestConnectOps(t *testing.T) {
	table := quotas.Default()
	all := len(table.APIs())
	steps := []struct {
		doc       string
		n         int      // len(ops); -1: check want only
		want      []string // a subset that must be there (all when n == len)
		exact     []string
		mustNotBe []string
	}{
		{`{"Statement":{"Effect":"Allow","Action":"connect:StartOutboundVoiceContact","Resource":"*"}}`, 1, []string{"StartOutboundVoiceContact"}, []string{"StartOutboundVoiceContact"}, nil},
		{`{"Statement":[{"Effect":"Allow","Action":["CONNECT:getcurrentmetric*"],"Resource":"*"}]}`, 1, []string{"GetCurrentMetricData"}, nil, nil},
		{`{"Statement":[{"Effect":"Allow","Action":"connect:Start?hatContact","Resource":"*"}]}`, 1, []string{"StartChatContact"}, nil, nil},
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, -1, []string{"ListUsers", "PutDialRequestBatch"}, nil, []string{"CreateParticipantConnection"}},
		{`{"Statement":[{"Effect":"Allow","Action":"connect:*","Resource":"*"},{"Effect":"Deny","Action":"connect:Create*","Resource":"*"}]}`, -1, []string{"ListUsers"}, nil, []string{"CreateInstance", "CreateUser", "PutDialRequestBatch"}},
		{`{"Statement":[{"Effect":"Allow","Action":"connect:*","Resource":"*"},{"Effect":"Deny","Action":"connect:Create*","Resource":"arn:aws:connect:*:*:instance/x"}]}`, -1, []string{"CreateInstance"}, nil, nil},
		{`{"Statement":[{"Effect":"Allow","NotAction":"connect:*","Resource":"*"}]}`, -1, []string{"PutDialRequestBatch"}, nil, []string{"ListUsers"}},
		{`{"Statement":[{"Effect":"Allow","Action":["sqs:*","lambda:*"],"Resource":"*"}]}`, 0, nil, nil, nil},
		{`%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22connect%3AListUsers%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D`, 1, []string{"ListUsers"}, []string{"ListUsers"}, nil},
	}
	for i, st := range steps {
		d, err := ParsePolicy(st.doc)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		ops, exact := ConnectOps([]PolicyDocument{d}, table)
		if st.n >= 0 && len(ops) != st.n {
			t.Fatalf("step %d: got %d ops %v, want %d", i, len(ops), ops, st.n)
		}
		if len(ops) > all {
			t.Fatalf("step %d: more ops than the table", i)
		}
		set := map[string]bool{}
		for _, o := range ops {
			set[o] = true
		}
		for _, w := range st.want {
			if !set[w] {
				t.Fatalf("step %d: %s missing from %v", i, w, ops)
			}
		}
		for _, w := range st.mustNotBe {
			if set[w] {
				t.Fatalf("step %d: %s must not be in %v", i, w, ops)
			}
		}
		if st.exact != nil && !reflect.DeepEqual(exact, st.exact) {
			t.Fatalf("step %d: exact %v, want %v", i, exact, st.exact)
		}
	}
}

func TestParsePolicyErrors(t *testing.T) {
	for i, doc := range []string{`not json`, `{"Statement":[{"Action":5}]}`, `{"Statement":"x"}`, `%zz`} {
		if _, err := ParsePolicy(doc); err == nil {
			t.Fatalf("step %d: %q parsed", i, doc)
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add(`{"Statement":{"Effect":"Allow","Action":"connect:*","Resource":"*"}}`)
	f.Add(`{"Statement":[{"Effect":"Deny","NotAction":["a","b"],"Resource":["*"],"Condition":{"x":{}}}]}`)
	f.Add(`%7B%7D`)
	table := quotas.Default()
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := ParsePolicy(doc)
		if err != nil {
			return
		}
		ops, exact := ConnectOps([]PolicyDocument{d}, table)
		if len(exact) > len(ops) {
			t.Fatalf("exact %v not within %v", exact, ops)
		}
	})
}

func TestMatchAction(t *testing.T) {
	for i, st := range []struct {
		p, a string
		want bool
	}{
		{"connect:*", "connect:ListUsers", true},
		{"*", "connect:ListUsers", true},
		{"connect:List*s", "connect:ListUsers", true},
		{"connect:List*s", "connect:ListUser", false},
		{"connect:*User*", "connect:DescribeUser", true},
		{"connect:ListUsers", "connect:ListUsersX", false},
		{"connect:????Users", "connect:ListUsers", true},
		{"", "connect:ListUsers", false},
	} {
		if got := matchAction(st.p, st.a); got != st.want {
			t.Fatalf("step %d: matchAction(%q, %q) = %v", i, st.p, st.a, got)
		}
	}
}
