package triage

import "testing"

func BenchmarkParseRecord(b *testing.B) {
	data := []byte(sampleRecord)
	in := newInterner(1 << 10)
	var r Record
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := parseRecord(data, &r, in); err != nil {
			b.Fatal(err)
		}
	}
}
