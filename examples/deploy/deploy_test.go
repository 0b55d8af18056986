package deploy

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tollgatehq/tollgate/internal/config"
)

// need returns the path of a tool, failing with CI=true and skipping
// otherwise when it is missing.
func need(t *testing.T, tool, install string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (%s)", tool, install)
		}
		t.Skipf("%s is missing (%s)", tool, install)
	}
	return p
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// staticBinary builds tollgate as the Dockerfile does (CGO_ENABLED=0,
// -trimpath, stripped), once per test run.
func staticBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tollgate-deploy-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tollgate")
		ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X github.com/tollgatehq/tollgate/internal/cli.Version=deploy-test", "-o", binPath, "github.com/tollgatehq/tollgate/cmd/tollgate")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unitDirectives parses a systemd unit into section.Key → values.
func unitDirectives(data []byte) map[string][]string {
	out := map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, _ := strings.Cut(line, "=")
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	return out
}

// TestSystemdUnitVerifies runs systemd-analyze verify on the unit, with
// ExecStart pointing at a freshly built binary (verify checks that the
// command exists), and reports its offline security exposure.
func TestSystemdUnitVerifies(t *testing.T) {
	sa := need(t, "systemd-analyze", "apt-get install systemd")
	unit := read(t, "tollgate.service")
	bin := staticBinary(t)
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tollgate.service")
	if err := os.WriteFile(tmp, bytes.ReplaceAll(unit, []byte("/usr/local/bin/tollgate"), []byte(bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", tmp).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	if out, err := exec.Command(sa, "security", "--offline=yes", tmp).CombinedOutput(); err == nil {
		if m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+) (\w+)`).FindSubmatch(out); m != nil {
			t.Logf("systemd-analyze security --offline: exposure %s %s", m[1], m[2])
			if string(m[2]) != "OK" {
				t.Errorf("exposure %s %s, want OK", m[1], m[2])
			}
		}
	}
}

// TestSystemdUnitHardening checks the directives the deployment promises.
func TestSystemdUnitHardening(t *testing.T) {
	d := unitDirectives(read(t, "tollgate.service"))
	for k, want := range map[string]string{
		"Service.DynamicUser":           "yes",
		"Service.User":                  "tollgate",
		"Service.ProtectSystem":         "strict",
		"Service.ProtectHome":           "yes",
		"Service.NoNewPrivileges":       "yes",
		"Service.StateDirectory":        "tollgate",
		"Service.PrivateTmp":            "yes",
		"Service.CapabilityBoundingSet": "",
		"Service.Environment":           "TOLLGATE_DATA_DIR=/var/lib/tollgate",
	} {
		if !slices.Contains(d[k], want) {
			t.Errorf("%s = %q, want %q", k, d[k], want)
		}
	}
	if ex := d["Service.ExecStart"]; len(ex) != 1 || !strings.Contains(ex[0], " serve ") {
		t.Errorf("ExecStart %q does not run serve", ex)
	}
}

// TestStaticBinaryInEmptyRoot runs the image's binary alone in an empty
// root file system: a chroot inside a new user and mount namespace
// (unshare -r), as no container engine is available here.
func TestStaticBinaryInEmptyRoot(t *testing.T) {
	unshare := need(t, "unshare", "util-linux")
	chroot := need(t, "chroot", "coreutils")
	bin := staticBinary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary asks for a dynamic loader: not static")
		}
	}
	f.Close()
	root := t.TempDir()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "tollgate"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Fatalf("root holds %d entries, want only the binary", len(entries))
	}
	cmd := exec.Command(unshare, "--user", "--map-root-user", "--mount", chroot, root, "/tollgate", "version")
	cmd.Env = []string{} // nothing from the host either
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "unshare failed") || strings.Contains(string(out), "Operation not permitted") {
			t.Skipf("unprivileged user namespaces are not available here: %s", out)
		}
		t.Fatalf("tollgate version in an empty root: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "tollgate deploy-test (") {
		t.Fatalf("tollgate version printed %q", out)
	}
	t.Logf("in an empty root (%s %s): %s", unshare, chroot, strings.TrimSpace(string(out)))
}

// TestDockerfile checks the image definition: the final stage is scratch
// with the binary, runs as a non-root user, and has no shell (no RUN, no
// shell-form ENTRYPOINT or CMD).
func TestDockerfile(t *testing.T) {
	lines := strings.Split(string(read(t, "Dockerfile")), "\n")
	var final []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(strings.ToUpper(l), "FROM ") {
			final = nil
		}
		if l != "" && !strings.HasPrefix(l, "#") {
			final = append(final, l)
		}
	}
	if len(final) == 0 || final[0] != "FROM scratch" {
		t.Fatalf("final stage starts %q, want FROM scratch", final[:1])
	}
	var user, entry string
	for _, l := range final {
		instr, rest, _ := strings.Cut(l, " ")
		switch strings.ToUpper(instr) {
		case "RUN":
			t.Errorf("final stage runs %q: there is no shell in scratch", l)
		case "USER":
			user = rest
		case "ENTRYPOINT", "CMD":
			if !strings.HasPrefix(rest, "[") {
				t.Errorf("%s %s: shell form needs a shell; use the exec form", instr, rest)
			}
			if instr == "ENTRYPOINT" {
				entry = rest
			}
		}
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("USER %q: want a non-root numeric user", user)
	}
	if entry != `["/tollgate"]` {
		t.Errorf("ENTRYPOINT %s, want [\"/tollgate\"]", entry)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "CGO_ENABLED=0 go build") {
		t.Error("the build stage does not build a static binary (CGO_ENABLED=0)")
	}
}

// cfnNode is a CloudFormation template value with its intrinsic tags.
type ref struct {
	kind, target string
	line         int
}

// cfnRefs collects the targets of !Ref, !GetAtt, !Sub ${…} (short and long
// forms) under n.
func cfnRefs(n *yaml.Node, out *[]ref) {
	add := func(kind, target string, line int) { *out = append(*out, ref{kind, target, line}) }
	subVars := func(s string, line int) {
		for _, m := range regexp.MustCompile(`\$\{([^}!]+)\}`).FindAllStringSubmatch(s, -1) {
			add("Sub", strings.SplitN(m[1], ".", 2)[0], line)
		}
	}
	switch n.Tag {
	case "!Ref":
		add("Ref", n.Value, n.Line)
	case "!GetAtt":
		add("GetAtt", strings.SplitN(n.Value, ".", 2)[0], n.Line)
	case "!Sub":
		if n.Kind == yaml.ScalarNode {
			subVars(n.Value, n.Line)
		}
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch k.Value {
			case "Ref":
				add("Ref", v.Value, v.Line)
			case "Fn::GetAtt":
				if v.Kind == yaml.SequenceNode && len(v.Content) > 0 {
					add("GetAtt", v.Content[0].Value, v.Line)
				}
			case "Fn::Sub":
				if v.Kind == yaml.ScalarNode {
					subVars(v.Value, v.Line)
				}
			}
		}
	}
	for _, c := range n.Content {
		cfnRefs(c, out)
	}
}

// TestCloudFormationParses parses the template as YAML (keeping the
// intrinsic-function tags), checks the resources by name and type, and
// that every !Ref, !GetAtt and ${…} names a parameter, a resource or a
// pseudo parameter.
func TestCloudFormationParses(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(read(t, "cloudformation.yaml"), &doc); err != nil {
		t.Fatalf("cloudformation.yaml: %v", err)
	}
	var tmpl struct {
		Parameters map[string]yaml.Node `yaml:"Parameters"`
		Resources  map[string]struct {
			Type       string    `yaml:"Type"`
			Properties yaml.Node `yaml:"Properties"`
		} `yaml:"Resources"`
		Outputs map[string]yaml.Node `yaml:"Outputs"`
	}
	if err := doc.Decode(&tmpl); err != nil {
		t.Fatalf("cloudformation.yaml: %v", err)
	}
	want := map[string]string{
		"JobsQueue":                    "AWS::SQS::Queue",
		"JobsDeadLetterQueue":          "AWS::SQS::Queue",
		"ContactEventsQueue":           "AWS::SQS::Queue",
		"ContactEventsDeadLetterQueue": "AWS::SQS::Queue",
		"ContactEventsRule":            "AWS::Events::Rule",
		"ContactEventsQueuePolicy":     "AWS::SQS::QueuePolicy",
	}
	for name, typ := range want {
		if r, ok := tmpl.Resources[name]; !ok || r.Type != typ {
			t.Errorf("resource %s: got %q want %s", name, r.Type, typ)
		}
	}
	if len(tmpl.Resources) != len(want) {
		t.Errorf("%d resources, want %d", len(tmpl.Resources), len(want))
	}
	var refs []ref
	cfnRefs(&doc, &refs)
	if len(refs) < 10 {
		t.Fatalf("found %d references; the tag handling is not reading the template", len(refs))
	}
	for _, r := range refs {
		_, isParam := tmpl.Parameters[r.target]
		_, isRes := tmpl.Resources[r.target]
		pseudo := strings.HasPrefix(r.target, "AWS::")
		if !isRes && !(r.kind != "GetAtt" && (isParam || pseudo)) {
			t.Errorf("line %d: !%s %s names nothing in the template", r.line, r.kind, r.target)
		}
	}
	// The rule must send Connect contact events to the contact-events queue.
	var rule struct {
		EventPattern struct {
			Source     []string `yaml:"source"`
			DetailType []string `yaml:"detail-type"`
		} `yaml:"EventPattern"`
	}
	rp := tmpl.Resources["ContactEventsRule"].Properties
	if err := rp.Decode(&rule); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rule.EventPattern.Source, "aws.connect") || !slices.Contains(rule.EventPattern.DetailType, "Amazon Connect Contact Event") {
		t.Errorf("rule pattern %+v does not match Connect contact events", rule.EventPattern)
	}
	var jobs struct {
		RedrivePolicy struct {
			MaxReceiveCount int `yaml:"maxReceiveCount"`
		} `yaml:"RedrivePolicy"`
		VisibilityTimeout int `yaml:"VisibilityTimeout"`
	}
	jp := tmpl.Resources["JobsQueue"].Properties
	if err := jp.Decode(&jobs); err != nil {
		t.Fatal(err)
	}
	def := config.Default()
	if jobs.RedrivePolicy.MaxReceiveCount != def.Queue.MaxReceives {
		t.Errorf("maxReceiveCount %d, want serve's queue.max_receives %d", jobs.RedrivePolicy.MaxReceiveCount, def.Queue.MaxReceives)
	}
	if got, want := time.Duration(jobs.VisibilityTimeout)*time.Second, def.EffectiveVisibility(); got != want {
		t.Errorf("VisibilityTimeout %v, want serve's default visibility %v", got, want)
	}
}

// TestECSTaskDefinition checks the sketch: JSON, non-root, read-only root
// file system, and every TOLLGATE_ variable a real serve setting.
func TestECSTaskDefinition(t *testing.T) {
	var td struct {
		ContainerDefinitions []struct {
			User                   string `json:"user"`
			ReadonlyRootFilesystem bool   `json:"readonlyRootFilesystem"`
			Environment            []struct{ Name, Value string }
			Secrets                []struct{ Name, ValueFrom string }
			PortMappings           []struct{ ContainerPort int }
		} `json:"containerDefinitions"`
	}
	dec := json.NewDecoder(bytes.NewReader(read(t, "ecs-task-definition.json")))
	if err := dec.Decode(&td); err != nil || len(td.ContainerDefinitions) != 1 {
		t.Fatalf("ecs-task-definition.json: %v (%d containers)", err, len(td.ContainerDefinitions))
	}
	c := td.ContainerDefinitions[0]
	if c.User == "" || strings.HasPrefix(c.User, "0") || !c.ReadonlyRootFilesystem {
		t.Errorf("user %q, read-only root %v: want non-root and read-only", c.User, c.ReadonlyRootFilesystem)
	}
	cfg := config.Default()
	known := map[string]bool{}
	for _, f := range cfg.Fields() {
		if e := f.Env(); e != "" {
			known[e] = true
		}
	}
	var names []string
	for _, e := range c.Environment {
		names = append(names, e.Name)
	}
	for _, s := range c.Secrets {
		names = append(names, s.Name)
	}
	for _, n := range names {
		if strings.HasPrefix(n, "TOLLGATE_") && !known[n] {
			t.Errorf("%s is not a serve setting", n)
		}
	}
	if len(c.PortMappings) != 1 || c.PortMappings[0].ContainerPort != 8787 {
		t.Errorf("port mappings %+v", c.PortMappings)
	}
}

// TestPrometheusConfig checks the scrape configuration reads the bearer
// token from a file and scrapes serve's default address.
func TestPrometheusConfig(t *testing.T) {
	var pc struct {
		ScrapeConfigs []struct {
			JobName        string `yaml:"job_name"`
			ScrapeInterval string `yaml:"scrape_interval"`
			Scheme         string `yaml:"scheme"`
			MetricsPath    string `yaml:"metrics_path"`
			Authorization  struct {
				Type            string `yaml:"type"`
				Credentials     string `yaml:"credentials"`
				CredentialsFile string `yaml:"credentials_file"`
			} `yaml:"authorization"`
			StaticConfigs []struct {
				Targets []string          `yaml:"targets"`
				Labels  map[string]string `yaml:"labels"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(read(t, "prometheus.yml")))
	dec.KnownFields(true)
	if err := dec.Decode(&pc); err != nil || len(pc.ScrapeConfigs) != 1 {
		t.Fatalf("prometheus.yml: %v", err)
	}
	sc := pc.ScrapeConfigs[0]
	if sc.Authorization.Type != "Bearer" || sc.Authorization.CredentialsFile == "" || sc.Authorization.Credentials != "" {
		t.Errorf("authorization %+v: want a Bearer token from credentials_file only", sc.Authorization)
	}
	_, port, _ := net.SplitHostPort(config.DefaultListen)
	if sc.MetricsPath != "/metrics" || len(sc.StaticConfigs) != 1 || !slices.Contains(sc.StaticConfigs[0].Targets, fmt.Sprintf("127.0.0.1:%s", port)) {
		t.Errorf("scrape %s %+v, want /metrics at serve's default 127.0.0.1:%s", sc.MetricsPath, sc.StaticConfigs, port)
	}
}
