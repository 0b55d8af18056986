package ratelimit

import (
	"encoding/json"
	"testing"
)

// TestLimitJSON checks that a Limit is written with the lower-case names
// every other JSON document of Tollgate uses, and that state written before
// the tags existed ("Rate", "Burst") still reads back.
func TestLimitJSON(t *testing.T) {
	b, err := json.Marshal(Limit{Rate: 2, Burst: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"rate":2,"burst":5}`; got != want {
		t.Fatalf("Marshal: got %s want %s", got, want)
	}
	var old Limit
	if err := json.Unmarshal([]byte(`{"Rate":3,"Burst":7}`), &old); err != nil {
		t.Fatal(err)
	}
	if old != (Limit{Rate: 3, Burst: 7}) {
		t.Fatalf("old spelling: got %+v", old)
	}
}
