package queue

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPrepare(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	type step struct {
		job   Job
		field string // "" means valid
	}
	steps := []step{
		{Job{Op: "StartTaskContact"}, ""},
		{Job{Op: "StartTaskContact", Input: json.RawMessage(" \n")}, ""},
		{Job{Op: "StartTaskContact", Input: json.RawMessage(`{"a":1}`), Priority: -2, GroupKey: "campaign-1"}, ""},
		{Job{Op: ""}, "Op"},
		{Job{Op: "1Start"}, "Op"},
		{Job{Op: strings.Repeat("A", 129)}, "Op"},
		{Job{Op: "X", Input: json.RawMessage(`nope`)}, "Input"},
		{Job{Op: "X", Input: json.RawMessage(`"str"`)}, "Input"},
		{Job{Op: "X", ID: strings.Repeat("a", 65)}, "ID"},
		{Job{Op: "X", ID: "ok:id_1.2-3"}, ""},
		{Job{Op: "X", ClientToken: strings.Repeat("t", 201)}, "ClientToken"},
		{Job{Op: "X", ClientToken: "tok:colon"}, "ClientToken"},
		{Job{Op: "X", NotAfter: now}, "NotAfter"},
		{Job{Op: "X", NotAfter: now.Add(time.Second)}, ""},
		{Job{Op: "X", NotAfter: now.Add(time.Second), NotBefore: now.Add(time.Second)}, "NotBefore"},
		{Job{Op: "X", Priority: -1001}, "Priority"},
		{Job{Op: "X", GroupKey: strings.Repeat("g", 129)}, "GroupKey"},
		{Job{Op: "X", GroupKey: "\xff"}, "GroupKey"},
	}
	for i, s := range steps {
		out, err := Prepare(now, 0, []Job{s.job})
		var je *JobError
		switch {
		case s.field == "" && err != nil:
			t.Errorf("step %d: got %v want valid", i, err)
		case s.field != "" && (!errors.As(err, &je) || je.Field != s.field || !errors.Is(err, ErrInvalidJob)):
			t.Errorf("step %d: got %v want a JobError for %s", i, err, s.field)
		case s.field == "":
			j := out[0]
			if j.ID == "" || j.ClientToken == "" || j.Status != StatusQueued || !j.EnqueuedAt.Equal(now) || !j.VisibleAt.Equal(now) {
				t.Errorf("step %d: got %+v want ID, token, status, times set", i, j)
			}
		}
	}
}

func TestPrepareRepeatedID(t *testing.T) {
	_, err := Prepare(time.Unix(1000, 0), 0, []Job{{ID: "a", Op: "X"}, {ID: "b", Op: "X"}, {ID: "a", Op: "X"}})
	var je *JobError
	if !errors.As(err, &je) || je.Index != 2 || je.Repeats != 1 || je.Field != "ID" {
		t.Fatalf("got %#v, want job index 2 repeating job 1", err)
	}
	if want := `queue: invalid job 3 (id "a"): ID repeats job 1 of the same batch`; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
}

func TestPrepareNotBeforeAndReset(t *testing.T) {
	now := time.Unix(1000, 0)
	out, err := Prepare(now, 10, []Job{{Op: "X", NotBefore: now.Add(time.Minute), Receives: 7, DeadReason: "x", Status: StatusDead}})
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].VisibleAt.Equal(now.Add(time.Minute)) || out[0].Receives != 0 || out[0].DeadReason != "" || out[0].Status != StatusQueued {
		t.Fatalf("got %+v", out[0])
	}
	if _, err := Prepare(now, 10, []Job{{Op: "X", Input: json.RawMessage(`{"a":"long"}`)}}); err == nil {
		t.Fatal("input over maxInput accepted")
	}
}

func TestIDs(t *testing.T) {
	now := time.Unix(1700000000, 0)
	a, b := NewID(now), NewID(now.Add(time.Millisecond))
	if len(a) != 36 || a[14] != '7' || !(a < b) || !validID(a) {
		t.Fatalf("NewID: %q %q", a, b)
	}
	tok := NewToken()
	if len(tok) != 36 || tok[14] != '4' || !validToken(tok) || tok == NewToken() {
		t.Fatalf("NewToken: %q", tok)
	}
	r := MakeReceipt(a, "h/with/slash")
	id, h, ok := SplitReceipt(r)
	if !ok || id != a || h != "h/with/slash" {
		t.Fatalf("SplitReceipt(%q) = %q %q %v", r, id, h, ok)
	}
	for i, bad := range []string{"", "noslash", "/h", "id/", "bad id/h"} {
		if _, _, ok := SplitReceipt(bad); ok {
			t.Errorf("step %d: got ok for %q want malformed", i, bad)
		}
	}
}

func TestTruncate(t *testing.T) {
	type step struct {
		in   string
		n    int
		want string
	}
	steps := []step{
		{"hello", 10, "hello"},
		{"hello", 3, "hel"},
		{"héllo", 2, "h"},
		{"\xffab", 10, "\uFFFDab"},
	}
	for i, s := range steps {
		if got := Truncate(s.in, s.n); got != s.want {
			t.Errorf("step %d: got %q want %q", i, got, s.want)
		}
	}
}

func TestSelectorAndBatchError(t *testing.T) {
	for i, s := range []Selector{{}, {All: true, IDs: []string{"a"}}, {IDs: []string{"a"}, Reason: "x"}} {
		if err := CheckSelector(s); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("step %d: got %v want ErrInvalidArgument", i, err)
		}
	}
	if JoinBatch([]error{nil, nil}) != nil {
		t.Fatal("JoinBatch of successes is not nil")
	}
	err := JoinBatch([]error{nil, ErrStaleReceipt})
	if !errors.Is(err, ErrStaleReceipt) || !strings.Contains(err.Error(), "item 1") {
		t.Fatalf("JoinBatch: %v", err)
	}
}

func FuzzSplitReceipt(f *testing.F) {
	f.Add("abc/def")
	f.Add("a/b/c")
	f.Add("")
	f.Fuzz(func(t *testing.T, r string) {
		id, h, ok := SplitReceipt(r)
		if ok && MakeReceipt(id, h) != r {
			t.Fatalf("round trip of %q gave %q", r, MakeReceipt(id, h))
		}
	})
}
