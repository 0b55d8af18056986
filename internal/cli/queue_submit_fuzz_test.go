package cli

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzSubmitSplit: whatever the file, assignIDs keeps its lines (one out
// per line in, for JSON Lines) and is stable, and splitJobs either refuses
// it or cuts it into chunks within both limits that reassemble to it.
func FuzzSubmitSplit(f *testing.F) {
	f.Add([]byte(`{"op":"ListInstances"}`+"\n\n"+`{"op":"ListInstances","id":"x"}`+"\n"), 64, 1)
	f.Add([]byte(`[{"op":"A"},{"op":"B","id":"b"}]`), 1024, 10)
	f.Add([]byte("{\n \"op\": \"A\"\n}\n"), 16, 1)
	f.Add([]byte("not json\n{\"op\":1}\n"), 8, 2)
	f.Fuzz(func(t *testing.T, data []byte, max, maxJobs int) {
		if max < 1 || max > 1<<16 || maxJobs < 1 || maxJobs > 100 {
			return
		}
		a, err := assignIDs(data)
		if err != nil {
			return
		}
		if b, _ := assignIDs(data); !bytes.Equal(a, b) {
			t.Fatalf("assignIDs is not stable")
		}
		chunks, starts, err := splitJobs(a, max, maxJobs)
		if err != nil {
			return
		}
		if len(chunks) != len(starts) {
			t.Fatalf("%d chunks, %d starts", len(chunks), len(starts))
		}
		if len(chunks) == 1 {
			return // sent whole (small, one object or an array)
		}
		var joined []byte
		for i, c := range chunks {
			// A chunk stays within max, unless it is one line that alone
			// is larger (sent by itself; the server names it if too big).
			if len(c) > max && bytes.Count(c, []byte("\n")) != 1 {
				t.Fatalf("chunk %d is %d bytes > %d", i, len(c), max)
			}
			jobs := 0
			for _, l := range strings.Split(string(c), "\n") {
				if strings.TrimSpace(l) != "" {
					jobs++
				}
			}
			if jobs > maxJobs {
				t.Fatalf("chunk %d holds %d jobs > %d", i, jobs, maxJobs)
			}
			joined = append(joined, c...)
		}
		want := a
		if len(want) > 0 && want[len(want)-1] != '\n' {
			want = append(bytes.Clone(want), '\n')
		}
		if !bytes.Equal(bytes.ReplaceAll(joined, []byte("\r"), nil), bytes.ReplaceAll(want, []byte("\r"), nil)) {
			t.Fatalf("chunks do not reassemble the file:\n%q\n%q", joined, want)
		}
	})
}
