package triage

import (
	"fmt"
	"math"
	"testing"
)

func TestTopKPruneKeepsHeavyHitters(t *testing.T) {
	tk := topk{cap: 8}
	// "big" has many calls, "loud" few calls but many throttles; 100 small
	// callers come and go.
	for i := 0; i < 1000; i++ {
		c := tk.get("big")
		c.calls++
		if i%10 == 0 {
			c := tk.get("loud")
			c.calls++
			c.thr++
		}
		s := tk.get(fmt.Sprintf("small-%d", i%100))
		s.calls++
	}
	if len(tk.m) > tk.cap {
		t.Fatalf("size %d above cap %d", len(tk.m), tk.cap)
	}
	byCalls := tk.ranked(1, false)
	byThr := tk.ranked(1, true)
	if byCalls[0] != "big" || tk.m["big"].calls != 1000 {
		t.Errorf("by calls: %v (%d)", byCalls, tk.m["big"].calls)
	}
	if byThr[0] != "loud" || tk.m["loud"].thr != 100 {
		t.Errorf("by throttles: %v", byThr)
	}
	if tk.dropped == 0 || tk.dropped > 10 {
		t.Errorf("dropped bound %d, want 1..10", tk.dropped)
	}
}

func TestTopKMergeAndRank(t *testing.T) {
	a, b := topk{}, topk{}
	type step struct {
		key        string
		calls, thr int64
	}
	for _, s := range []step{{"x", 5, 1}, {"y", 5, 3}, {"z", 9, 0}} {
		c := a.get(s.key)
		c.calls, c.thr = s.calls, s.thr
		c.seen(100)
	}
	for _, s := range []step{{"x", 1, 2}, {"w", 1, 1}} {
		c := b.get(s.key)
		c.calls, c.thr = s.calls, s.thr
		c.seen(50)
	}
	a.merge(&b)
	want := []string{"x", "y", "w"} // throttles 3, 3 (x has more calls), 1; z has none
	got := a.ranked(0, true)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ranked by throttles: got %v want %v", got, want)
	}
	if c := a.m["x"]; c.calls != 6 || c.first != 50 || c.last != 100 {
		t.Errorf("merged x: %+v", *c)
	}
	if got := a.ranked(2, false); fmt.Sprint(got) != "[z x]" {
		t.Errorf("ranked by calls: %v", got)
	}
}

func TestDistinctEstimate(t *testing.T) {
	type step struct{ n int }
	for i, s := range []step{{1}, {10}, {50}, {120}, {300}} {
		var bits [4]uint64
		for k := 0; k < s.n; k++ {
			h := fnv64s(fmt.Sprintf("arn:aws:sts::1:assumed-role/R/agent-%04d", k), "198.51.100.7") & 255
			bits[h>>6] |= 1 << (h & 63)
		}
		got := distinctEstimate(bits)
		if math.Abs(got-float64(s.n)) > 0.2*float64(s.n)+1 {
			t.Errorf("step %d: got %.1f want %d ±20%%", i, got, s.n)
		}
	}
}

func TestIsConnectSource(t *testing.T) {
	type step struct {
		src  string
		want bool
	}
	for i, s := range []step{
		{"connect.amazonaws.com", true}, {"connect-campaigns.amazonaws.com", true},
		{"participant.connect.amazonaws.com", true}, {"s3.amazonaws.com", false}, {"connectparticipant.amazonaws.com", true},
		{"ec2.amazonaws.com", false}, {"", false},
	} {
		if got := isConnectSource(s.src); got != s.want {
			t.Errorf("step %d: %q: got %v want %v", i, s.src, got, s.want)
		}
	}
}

func TestFormatSteps(t *testing.T) {
	type step struct{ got, want string }
	for i, s := range []step{
		{count(0), "0"}, {count(1234567), "1,234,567"}, {count(-1000), "-1,000"},
		{num(2), "2"}, {num(0.25), "0.25"}, {num(8.5), "8.5"}, {num(12.345), "12.3"}, {num(0.1), "0.1"},
		{pct(1, 3), "33%"}, {pct(1, 200), "0.5%"}, {pct(0, 0), "0%"},
		{dur(45), "45 s"}, {dur(600), "10 min"}, {dur(5400), "90 min"}, {dur(9000), "2.5 h"},
	} {
		if s.got != s.want {
			t.Errorf("step %d: got %q want %q", i, s.got, s.want)
		}
	}
}
