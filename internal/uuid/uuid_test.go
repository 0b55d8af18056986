package uuid

import (
	"fmt"
	"testing"
)

func TestFormatAndV4(t *testing.T) {
	var seq [16]byte
	for i := range seq {
		seq[i] = byte(i * 17)
	}
	var ones [16]byte
	for i := range ones {
		ones[i] = 0xff
	}
	steps := []struct {
		got, want string
	}{
		{Format([16]byte{}), "00000000-0000-0000-0000-000000000000"},
		{Format(seq), "00112233-4455-6677-8899-aabbccddeeff"},
		{V4([16]byte{}), "00000000-0000-4000-8000-000000000000"},
		{V4(ones), "ffffffff-ffff-4fff-bfff-ffffffffffff"},
		{V4(seq), "00112233-4455-4677-8899-aabbccddeeff"},
	}
	for i, s := range steps {
		if s.got != s.want {
			t.Errorf("step %d: got %s want %s", i, s.got, s.want)
		}
	}
}

func ExampleV4() {
	fmt.Println(V4([16]byte{0xde, 0xad, 0xbe, 0xef}))
	// Output:
	// deadbeef-0000-4000-8000-000000000000
}
