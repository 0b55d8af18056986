package triage_test

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgatehq/tollgate/triage"
	"github.com/tollgatehq/tollgate/triage/triagegen"
)

// benchData generates the mixed data set with extra background traffic,
// as gzip files and, when plain is set, decompressed .json copies.
func benchData(b *testing.B, plain bool) string {
	b.Helper()
	dir := b.TempDir()
	res, err := triagegen.Generate(dir, triagegen.GenerateOptions{Cause: "mixed", Seed: 1, Background: 30})
	if err != nil {
		b.Fatal(err)
	}
	if !plain {
		return dir
	}
	out := b.TempDir()
	for _, f := range res.Files {
		in, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			b.Fatal(err)
		}
		zr, err := gzip.NewReader(in)
		if err != nil {
			b.Fatal(err)
		}
		dst := filepath.Join(out, strings.TrimSuffix(f, ".gz"))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		w, err := os.Create(dst)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(w, zr); err != nil {
			b.Fatal(err)
		}
		w.Close()
		in.Close()
	}
	return out
}

func benchAnalyze(b *testing.B, dir string) {
	inputs, err := triage.FileInputs([]string{dir}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var records int64
	for b.Loop() {
		r, err := triage.Analyze(context.Background(), inputs, triage.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(r.Bytes) // uncompressed CloudTrail JSON
		records = r.Records
	}
	b.ReportMetric(float64(records*int64(b.N))/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAnalyzeGzip measures throughput in MB/s of uncompressed JSON
// read from .json.gz files (CloudTrail's delivery format).
func BenchmarkAnalyzeGzip(b *testing.B) { benchAnalyze(b, benchData(b, false)) }

// BenchmarkAnalyzeJSON measures the same data as plain .json files.
func BenchmarkAnalyzeJSON(b *testing.B) { benchAnalyze(b, benchData(b, true)) }
