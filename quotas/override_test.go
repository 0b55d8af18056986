package quotas_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/tollgatehq/tollgate/quotas"
)

func f64(v float64) *float64 { return &v }
func intp(v int) *int        { return &v }

func TestApplyScopes(t *testing.T) {
	const acct, other = "123456789012", "210987654321"
	ovs := []quotas.Override{
		{Account: acct, Region: "us-east-1", Op: "StartOutboundVoiceContact", Rate: f64(30)}, // most specific: wins
		{Op: "StartOutboundVoiceContact", Rate: f64(10), Burst: intp(20)},                    // everywhere
		{Region: "us-east-1", Op: "StartOutboundVoiceContact", Rate: f64(15)},                // one Region
		{Account: other, Op: "ListUsers", Rate: f64(99)},                                     // another account
		{Op: "BrandNewOperation", Rate: f64(4)},                                              // not yet in the table
		{Resource: quotas.ConcurrentActiveCalls, Value: intp(50)},
		{Region: "eu-west-2", Resource: quotas.ConcurrentActiveCalls, Value: intp(7)},
	}
	type step struct {
		account, region string
		sovcRate        float64
		sovcBurst       int
		listUsers       float64
		calls           int
	}
	steps := []step{
		{acct, "us-east-1", 30, 20, 10, 50},
		{acct, "eu-west-2", 10, 20, 10, 7},
		{other, "us-east-1", 15, 20, 99, 50},
		{"", "", 10, 20, 10, 50},
	}
	for i, s := range steps {
		tab := quotas.Default()
		if err := tab.Apply(ovs, s.account, s.region); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		a, _ := tab.API("StartOutboundVoiceContact")
		if a.Rate != s.sovcRate || a.Burst != s.sovcBurst || a.Code != "L-4E9BCC96" {
			t.Errorf("step %d: SOVC got %v/%d/%s want %v/%d", i, a.Rate, a.Burst, a.Code, s.sovcRate, s.sovcBurst)
		}
		if a, _ := tab.API("ListUsers"); a.Rate != s.listUsers {
			t.Errorf("step %d: ListUsers got %v want %v", i, a.Rate, s.listUsers)
		}
		if a, ok := tab.API("BrandNewOperation"); !ok || a.Rate != 4 || a.Burst != quotas.DefaultBurst {
			t.Errorf("step %d: new op got %+v, %v", i, a, ok)
		}
		if r, _ := tab.Resource(quotas.ConcurrentActiveCalls); r.Default != s.calls || r.Code != "L-12AB7C57" {
			t.Errorf("step %d: calls got %d want %d", i, r.Default, s.calls)
		}
	}
	// Apply works on a copy: the defaults are untouched.
	if a, _ := quotas.Default().API("StartOutboundVoiceContact"); a.Rate != 2 {
		t.Errorf("Default changed: %v", a.Rate)
	}
}

func TestApplyErrors(t *testing.T) {
	type step struct {
		o     quotas.Override
		field string
		want  string
	}
	steps := []step{
		{quotas.Override{Op: "ListUsers", Rate: f64(0)}, "rate", "must be > 0"},
		{quotas.Override{Op: "ListUsers", Rate: f64(-1)}, "rate", "must be > 0"},
		{quotas.Override{Op: "ListUsers", Rate: f64(math.NaN())}, "rate", "must be > 0"},
		{quotas.Override{Op: "ListUsers", Rate: f64(math.Inf(1))}, "rate", "must be <="},
		{quotas.Override{Op: "ListUsers", Burst: intp(0)}, "burst", "must be >= 1"},
		{quotas.Override{Op: "ListUsers"}, "rate", "set rate, burst or code"},
		{quotas.Override{Op: "ListUsers", Code: "Q-1"}, "code", "must look like"},
		{quotas.Override{Op: "List Users", Rate: f64(1)}, "op", "without spaces"},
		{quotas.Override{Rate: f64(1)}, "op", "must not be empty"},
		{quotas.Override{Account: "12345", Op: "ListUsers", Rate: f64(1)}, "account", "12-digit"},
		{quotas.Override{Region: "US_EAST", Op: "ListUsers", Rate: f64(1)}, "region", "us-east-1"},
		{quotas.Override{Op: "ListUsers", Resource: quotas.ConcurrentActiveCalls, Value: intp(1)}, "resource", "not both"},
		{quotas.Override{Resource: quotas.ConcurrentActiveCalls}, "value", "must be set"},
		{quotas.Override{Resource: quotas.ConcurrentActiveCalls, Value: intp(-1)}, "value", "must be >= 0"},
		{quotas.Override{Resource: quotas.ConcurrentActiveCalls, Value: intp(1), Rate: f64(1)}, "resource", "only value"},
		{quotas.Override{Op: "ListUsers", Rate: f64(1), Value: intp(1)}, "value", "only to a resource"},
		{quotas.Override{Resource: "no-such-quota", Value: intp(1)}, "resource", "unknown resource quota"},
	}
	for i, s := range steps {
		tab := quotas.Default()
		before, _ := tab.API("ListUsers")
		ovs := []quotas.Override{{Op: "ListUsers", Rate: f64(50)}, s.o}
		err := tab.Apply(ovs, "", "")
		var fe *quotas.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("step %d: got %v, want a FieldError", i, err)
			continue
		}
		if fe.Field != s.field || fe.Index != 1 || !strings.Contains(fe.Msg, s.want) {
			t.Errorf("step %d: got field %q index %d msg %q, want %q/1/%q", i, fe.Field, fe.Index, fe.Msg, s.field, s.want)
		}
		if !strings.Contains(err.Error(), "override 1") || !strings.Contains(err.Error(), s.field+":") {
			t.Errorf("step %d: message %q does not name the entry and field", i, err)
		}
		if after, _ := tab.API("ListUsers"); after != before {
			t.Errorf("step %d: table changed despite the error", i)
		}
	}
}

func TestApplySourceInErrors(t *testing.T) {
	err := quotas.Default().Apply([]quotas.Override{
		{Op: "ListUsers", Rate: f64(-2), Source: "quotas.yaml:7: overrides[1]"},
		{Resource: "nope", Value: intp(1), Source: "quotas.yaml:12: resources[0]"},
	}, "", "")
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"quotas.yaml:7: overrides[1].rate: must be > 0, got -2", "quotas.yaml:12: resources[0].resource: unknown resource quota"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}
