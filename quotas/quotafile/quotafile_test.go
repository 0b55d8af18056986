package quotafile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgatehq/tollgate/quotas"
	"github.com/tollgatehq/tollgate/quotas/quotafile"
)

const sample = `# Tollgate quota overrides
overrides:
  - account: "123456789012"   # optional
    region: us-east-1         # optional
    op: StartOutboundVoiceContact
    rate: 10
    burst: 20
  - op: GetMetricDataV2
    rate: 2.5
    code: L-2E719449
resources:
  - name: concurrent-active-calls
    value: 50
  - name: concurrent-active-chats
    value: 1000
    region: eu-west-2
`

func TestParseSample(t *testing.T) {
	ovs, err := quotafile.Parse(strings.NewReader(sample), "quotas.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(ovs) != 4 {
		t.Fatalf("got %d overrides want 4", len(ovs))
	}
	o := ovs[0]
	if o.Account != "123456789012" || o.Region != "us-east-1" || o.Op != "StartOutboundVoiceContact" ||
		o.Rate == nil || *o.Rate != 10 || o.Burst == nil || *o.Burst != 20 {
		t.Errorf("entry 0: got %+v", o)
	}
	if o.Source != "quotas.yaml:3: overrides[0]" {
		t.Errorf("entry 0 source: got %q", o.Source)
	}
	if o := ovs[1]; o.Rate == nil || *o.Rate != 2.5 || o.Burst != nil || o.Code != "L-2E719449" {
		t.Errorf("entry 1: got %+v", o)
	}
	if o := ovs[2]; o.Resource != quotas.ConcurrentActiveCalls || o.Value == nil || *o.Value != 50 || o.Op != "" {
		t.Errorf("entry 2: got %+v", o)
	}

	tab := quotas.Default()
	if err := tab.Apply(ovs, "123456789012", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	a, _ := tab.API("StartOutboundVoiceContact")
	r, _ := tab.Resource(quotas.ConcurrentActiveCalls)
	c, _ := tab.Resource(quotas.ConcurrentActiveChats)
	if a.Rate != 10 || a.Burst != 20 || r.Default != 50 || c.Default != 500 {
		t.Errorf("applied: SOVC %v/%d calls %d chats %d", a.Rate, a.Burst, r.Default, c.Default)
	}
}

func TestParseErrors(t *testing.T) {
	type step struct {
		in   string
		want string
	}
	steps := []step{
		{"overrides:\n  - op: ListUsers\n    rate: 1\n  - op: StopContact\n    burst: 3\n    rate: -1\n",
			"quotas.yaml:6: overrides[1].rate: must be > 0, got -1"},
		{"overrides:\n  - op: ListUsers\n    rate: 1\n    rat: 2\n", "quotas.yaml:4: overrides[0]: unknown field \"rat\""},
		{"overrides:\n  - op: ListUsers\n    burst: 0\n", "quotas.yaml:3: overrides[0].burst: must be >= 1, got 0"},
		{"overrides:\n  - op: ListUsers\n    burst: 2.5\n", "quotas.yaml:3: overrides[0].burst: must be an integer, got \"2.5\""},
		{"overrides:\n  - op: ListUsers\n    rate: \"10\"\n", "quotas.yaml:3: overrides[0].rate: must be a number"},
		{"overrides:\n  - op: ListUsers\n    rate:\n", "quotas.yaml:3: overrides[0].rate: must be a number"},
		{"overrides:\n  - rate: 3\n", "quotas.yaml:2: overrides[0].op: must not be empty"},
		{"overrides:\n  - op: ListUsers\n", "quotas.yaml:2: overrides[0].rate: set rate, burst or code"},
		{"overrides:\n  - op: ListUsers\n    rate: 1\n    account: 42\n", "quotas.yaml:4: overrides[0].account: must be a 12-digit"},
		{"overrides:\n  - op: ListUsers\n    rate: 1\n    region: Mars\n", "quotas.yaml:4: overrides[0].region:"},
		{"resources:\n  - name: concurrent-active-calls\n    value: -3\n", "quotas.yaml:3: resources[0].value: must be >= 0, got -3"},
		{"resources:\n  - name: no-such-thing\n    value: 3\n", "quotas.yaml:2: resources[0].name: unknown resource quota \"no-such-thing\""},
		{"resources:\n  - value: 3\n", "quotas.yaml:2: resources[0].name: must not be empty"},
		{"resources:\n  - name: concurrent-active-calls\n", "quotas.yaml:2: resources[0].value: must be set"},
		{"resources:\n  - name: concurrent-active-calls\n    value: 3\n    rate: 4\n", "quotas.yaml:4: resources[0]: unknown field \"rate\""},
		{"override:\n  - op: ListUsers\n", "quotas.yaml:1: unknown field \"override\""},
		{"overrides: {op: ListUsers}\n", "quotas.yaml:1: overrides: must be a list"},
		{"overrides:\n  - just-a-string\n", "quotas.yaml:2: overrides[0]: must be a mapping"},
		{"- a\n- b\n", "quotas.yaml:1: must be a mapping"},
		{"overrides:\n  - op: ListUsers\n    rate: 1\n    rate: 2\n", "quotas.yaml:4: overrides[0].rate: repeated (first set at line 3)"},
		{"overrides: [\n", "quotas.yaml:"},
		{"a: &x 1\n---\nb: 2\n", "only one YAML document"},
		{"base: &b {op: ListUsers, rate: 1}\noverrides:\n  - *b\n", "quotas.yaml:1: unknown field \"base\""},
		{"overrides:\n  - &b {op: ListUsers, rate: 1}\n  - *b\n", "quotas.yaml:3: overrides[1]: aliases are not supported"},
	}
	for i, s := range steps {
		_, err := quotafile.Parse(strings.NewReader(s.in), "quotas.yaml")
		if err == nil || !strings.Contains(err.Error(), s.want) {
			t.Errorf("step %d: got %v want %q", i, err, s.want)
		}
		var fe *quotafile.Error
		if !errors.As(err, &fe) {
			t.Errorf("step %d: not a *quotafile.Error: %T", i, err)
		}
	}
}

func TestParseValidationUnwraps(t *testing.T) {
	_, err := quotafile.Parse(strings.NewReader("overrides:\n  - op: X\n    rate: 0\n"), "q.yaml")
	var fe *quotas.FieldError
	if !errors.As(err, &fe) || fe.Field != "rate" {
		t.Fatalf("got %v", err)
	}
}

func TestParseEmpty(t *testing.T) {
	for i, in := range []string{"", "# nothing\n", "---\n", "overrides:\nresources: []\n", "~\n"} {
		ovs, err := quotafile.Parse(strings.NewReader(in), "q.yaml")
		if err != nil || len(ovs) != 0 {
			t.Errorf("step %d: got %v, %v", i, ovs, err)
		}
	}
}

func TestParseTooLarge(t *testing.T) {
	big := strings.Repeat("#", quotafile.MaxSize+1)
	if _, err := quotafile.Parse(strings.NewReader(big), "q.yaml"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("got %v", err)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quotas.yaml")
	if err := os.WriteFile(path, []byte(sample), 0o600); err != nil {
		t.Fatal(err)
	}
	ovs, err := quotafile.Load(path)
	if err != nil || len(ovs) != 4 {
		t.Fatalf("got %d, %v", len(ovs), err)
	}
	if _, err := quotafile.Load(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("overrides:\n  - op: X\n    rate: .inf\n")
	f.Add("resources:\n  - {name: concurrent-active-calls, value: 99999999999999999999}\n")
	f.Add("overrides: &a [*a]\n")
	f.Add("? [a]\n: b\n")
	f.Fuzz(func(t *testing.T, in string) {
		ovs, err := quotafile.Parse(strings.NewReader(in), "f.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		// Whatever parses must validate and apply.
		if err := quotas.Default().Apply(ovs, "123456789012", "us-east-1"); err != nil {
			t.Fatalf("parsed but does not apply: %v", err)
		}
	})
}
