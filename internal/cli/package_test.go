package cli

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPackageLayerRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	notELF := filepath.Join(dir, "tollgate")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"package", "lambda-layer", "--arch", "i386", "-o", "x.zip"}, "--arch"},
		{[]string{"package", "lambda-layer", "--arch", "arm64"}, "-o"},
		{[]string{"package", "lambda-layer", "--arch", "arm64", "-o", filepath.Join(dir, "x.zip"), "--binary", notELF}, "not a Linux binary"},
		{[]string{"package", "lambda-layer", "--arch", "arm64", "-o", filepath.Join(dir, "x.zip"), "--source", dir}, "no github.com/tollgatehq/tollgate module"},
	}
	for i, st := range steps {
		code, out, errs := runQuotaCLI(st.args...)
		if code != ExitUsage || !strings.Contains(errs, st.want) {
			t.Errorf("step %d: exit %d, stderr %q, want usage error naming %q (%s)", i, code, errs, st.want, out)
		}
	}
}

func TestLambdaArgs(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	inLambda := env(map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"})
	steps := []struct {
		argv0 string
		args  []string
		env   func(string) string
		want  string
	}{
		{"/opt/extensions/tollgate", nil, inLambda, "extension"},
		{"/opt/extensions/tollgate", []string{"version"}, inLambda, "version"},
		{"/usr/local/bin/tollgate", nil, inLambda, ""},
		{"/opt/extensions/tollgate", nil, env(nil), ""},
	}
	for i, st := range steps {
		if got := strings.Join(LambdaArgs(st.argv0, st.args, st.env), " "); got != st.want {
			t.Errorf("step %d: got %q want %q", i, got, st.want)
		}
	}
}

func TestWriteLayer(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "layer.zip")
	if err := writeLayer(out, bin); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name+" "+f.Mode().String())
	}
	if strings.Join(names, ",") != "extensions/ drwxr-xr-x,extensions/tollgate -rwxr-xr-x" {
		t.Fatalf("layer holds %v", names)
	}
}
