package stagger

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/slots.json")

// TestHashVectors checks the FNV-1a vectors of the shared reference
// (gateway-and-edges.md §4): the first three are the standard ones.
func TestHashVectors(t *testing.T) {
	type step struct {
		login string
		hash  uint32
		mod60 int
	}
	for i, s := range []step{
		{"", 0x811c9dc5, 1},
		{"a", 0xe40c292c, 40},
		{"foobar", 0xbf9cf968, 40},
		{"agent-0001", 0xcb62ce6e, 2},
		{"jöhn.doe@example.com", 0xac53f369, 33},
		{"用户", 0x1be4cbb9, 13},
	} {
		if got := Hash(s.login, ""); got != s.hash {
			t.Errorf("step %d: Hash(%q) = %#x want %#x", i, s.login, got, s.hash)
		}
		if got := Slot(s.login, "", 60); got != s.mod60 {
			t.Errorf("step %d: Slot(%q, 60) = %d want %d", i, s.login, got, s.mod60)
		}
	}
}

func TestSlotDelaySteps(t *testing.T) {
	type step struct {
		login, salt   string
		window, width time.Duration
		want          time.Duration
	}
	for i, s := range []step{
		{"agent-0001", "", time.Minute, 0, 2 * time.Second},                   // 0xcb62ce6e % 60 = 2
		{"agent-0001", "", time.Minute, 2 * time.Second, 2 * 2 * time.Second}, // % 30 = 2
		{"agent-0001", "", 500 * time.Millisecond, 0, 0},                      // shorter than a slot: one slot
		{"a", "", 0, 0, 0}, // no window
		{"foobar", "", 60 * time.Second, time.Second, 40 * time.Second}, // % 60 = 40
		{"bar", "foo", 60 * time.Second, time.Second, 40 * time.Second}, // salt "foo" + "bar" = "foobar"
	} {
		if got := SlotDelay(s.login, s.salt, s.window, s.width); got != s.want {
			t.Errorf("step %d: SlotDelay(%q, %q, %v, %v) = %v want %v", i, s.login, s.salt, s.window, s.width, got, s.want)
		}
	}
}

func TestRankDelay(t *testing.T) {
	roster := []string{"c", "a", "b", "a", "d"}
	type step struct {
		login string
		want  time.Duration
	}
	for i, s := range []step{{"a", 0}, {"b", 15 * time.Second}, {"c", 30 * time.Second}, {"d", 45 * time.Second}} {
		got, err := RankDelay(s.login, roster, time.Minute)
		if err != nil || got != s.want {
			t.Errorf("step %d: RankDelay(%q) = %v, %v want %v", i, s.login, got, err, s.want)
		}
	}
	if _, err := RankDelay("zed", roster, time.Minute); err == nil || !strings.Contains(err.Error(), "not in the roster") {
		t.Errorf("unknown login: got %v", err)
	}
}

// vector is one line of testdata/slots.json: [login, salt, slots, hash, slot].
type vector struct {
	Login, Salt string
	Slots       int
	Hash        uint32
	Slot        int
}

func (v vector) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{v.Login, v.Salt, v.Slots, v.Hash, v.Slot})
}

func (v *vector) UnmarshalJSON(b []byte) error {
	var a []any
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	if len(a) != 5 {
		return fmt.Errorf("want 5 fields, got %d", len(a))
	}
	var ok1, ok2 bool
	v.Login, ok1 = a[0].(string)
	v.Salt, ok2 = a[1].(string)
	s, ok3 := a[2].(float64)
	h, ok4 := a[3].(float64)
	sl, ok5 := a[4].(float64)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return fmt.Errorf("bad field types in %s", b)
	}
	v.Slots, v.Hash, v.Slot = int(s), uint32(h), int(sl)
	return nil
}

// genLogins returns n varied logins: plain agent ids, e-mail addresses with
// accents, CJK and emoji, and random printable strings.
func genLogins(n int) []string {
	rnd := rand.New(rand.NewPCG(17, 2026))
	first := []string{"john", "jöhn", "zoë", "ana", "łukasz", "müller", "用户", "李", "sam", "renée", "😀", "o'neil"}
	last := []string{"doe", "smith", "garcía", "nguyễn", "øster", "田中", "x"}
	out := []string{"", "a", "foobar", "agent-0001", "jöhn.doe@example.com", "用户"}
	for i := 1; len(out) < n; i++ {
		switch i % 4 {
		case 0:
			out = append(out, fmt.Sprintf("agent-%04d", i))
		case 1:
			out = append(out, fmt.Sprintf("%s.%s%d@example.com", first[rnd.IntN(len(first))], last[rnd.IntN(len(last))], i))
		case 2:
			b := make([]rune, 1+rnd.IntN(24))
			for j := range b {
				b[j] = rune(0x20 + rnd.IntN(0x5f))
			}
			out = append(out, string(b))
		default:
			out = append(out, fmt.Sprintf("CORP\\u%06d", rnd.IntN(1_000_000)))
		}
	}
	return out
}

// TestSlotVectorsFile checks testdata/slots.json, the vectors the
// JavaScript module's tests also read: 10,000 logins, salted and not, over
// several slot counts. Run with -update to rewrite it.
func TestSlotVectorsFile(t *testing.T) {
	const path = "testdata/slots.json"
	if *update {
		var b strings.Builder
		slots := []int{60, 97, 273, 1000, 1}
		for i, l := range genLogins(10_000) {
			salt := ""
			if i%3 == 1 {
				salt = "tenant-42/"
			}
			n := slots[i%len(slots)]
			line, _ := json.Marshal(vector{l, salt, n, Hash(l, salt), Slot(l, salt, n)})
			b.Write(line)
			b.WriteByte('\n')
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestSlotVectorsFile -update ./stagger)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, salted, nonASCII := 0, 0, 0
	for sc.Scan() {
		n++
		var v vector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if got := Hash(v.Login, v.Salt); got != v.Hash {
			t.Errorf("line %d: Hash(%q, %q) = %#x, file says %#x", n, v.Login, v.Salt, got, v.Hash)
		}
		if got := Slot(v.Login, v.Salt, v.Slots); got != v.Slot {
			t.Errorf("line %d: Slot(%q, %q, %d) = %d, file says %d", n, v.Login, v.Salt, v.Slots, got, v.Slot)
		}
		if v.Salt != "" {
			salted++
		}
		if strings.IndexFunc(v.Login, func(r rune) bool { return r > 0x7f }) >= 0 {
			nonASCII++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 10_000 || salted == 0 || nonASCII < 1000 {
		t.Fatalf("vectors: %d lines, %d salted, %d non-ASCII; want 10000 lines with both kinds", n, salted, nonASCII)
	}
}

// FuzzSlot checks Slot and SlotDelay for any login, salt and slot count:
// in range, deterministic, equal to a direct FNV-1a of salt+login.
func FuzzSlot(f *testing.F) {
	f.Add("agent-0001", "", 60)
	f.Add("jöhn.doe@example.com", "salt", 7)
	f.Add("", "", 0)
	f.Add("\xff\xfe", "x", -3)
	f.Fuzz(func(t *testing.T, login, salt string, slots int) {
		h := uint32(2166136261)
		for _, b := range []byte(salt + login) {
			h ^= uint32(b)
			h *= 16777619
		}
		if got := Hash(login, salt); got != h {
			t.Fatalf("Hash(%q, %q) = %#x, direct FNV-1a %#x", login, salt, got, h)
		}
		s := Slot(login, salt, slots)
		if slots < 1 {
			if s != 0 {
				t.Fatalf("Slot with %d slots = %d, want 0", slots, s)
			}
			return
		}
		if s < 0 || s >= slots || s != int(h%uint32(slots)) {
			t.Fatalf("Slot(%q, %q, %d) = %d", login, salt, slots, s)
		}
		w := time.Duration(slots%5000) * time.Second
		d := SlotDelay(login, salt, w, 0)
		if d < 0 || (w >= time.Second && d >= w) || d%time.Second != 0 {
			t.Fatalf("SlotDelay over %v = %v", w, d)
		}
	})
}

// FuzzParseCalls checks the --calls parser never panics and that what it
// accepts round-trips.
func FuzzParseCalls(f *testing.F) {
	f.Add("GetCurrentUserData,ListUsers,DescribeUser")
	f.Add("ListQueues:2, DescribeUser")
	f.Add(",,:")
	f.Fuzz(func(t *testing.T, s string) {
		calls, err := ParseCalls(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "calls: ") {
				t.Fatalf("error does not name the flag: %v", err)
			}
			return
		}
		var parts []string
		for _, c := range calls {
			if c.Op == "" || c.Count < 1 {
				t.Fatalf("accepted %q as %+v", s, calls)
			}
			parts = append(parts, fmt.Sprintf("%s:%d", c.Op, c.Count))
		}
		again, err := ParseCalls(strings.Join(parts, ","))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(calls) {
			t.Fatalf("round trip of %q: %v, %v", s, again, err)
		}
	})
}
