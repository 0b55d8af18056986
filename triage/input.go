package triage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Input is one stream of log data: a file, an object, standard input.
type Input struct {
	Name string                        // shown in problems and progress
	Size int64                         // bytes as stored (compressed), -1 if unknown
	Open func() (io.ReadCloser, error) // opened once, by one worker
	// Stream is the CloudWatch Logs stream the data came from, when known
	// (the directory of an export object); it names the caller of SDK
	// errors found in the data.
	Stream string
}

// FileInputs expands paths into inputs: files as they are, directories
// walked recursively (hidden entries, CloudTrail digest and Insights folders
// and the export marker "aws-logs-write-test" are skipped). "-" is standard
// input. The result is sorted by name so that runs are reproducible.
func FileInputs(paths []string, stdin io.Reader) ([]Input, error) {
	var out []Input
	for _, p := range paths {
		if p == "-" {
			if stdin == nil {
				stdin = os.Stdin
			}
			out = append(out, ReaderInput("<stdin>", stdin))
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, fileInput(p, st.Size()))
			continue
		}
		var files []Input
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if path != p && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if name == "CloudTrail-Digest" || name == "CloudTrail-Insight" {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || name == "aws-logs-write-test" {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			files = append(files, fileInput(path, info.Size()))
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
		out = append(out, files...)
	}
	if len(out) == 0 {
		return nil, errors.New("no input files")
	}
	return out, nil
}

func fileInput(path string, size int64) Input {
	return Input{
		Name:   path,
		Size:   size,
		Open:   func() (io.ReadCloser, error) { return os.Open(path) },
		Stream: exportStream(path),
	}
}

// exportStream returns the log stream of a CloudWatch Logs export object
// (<prefix>/<task>/<stream>/000000.gz): the name of its directory, when the
// file name is all digits.
func exportStream(path string) string {
	base := filepath.Base(path)
	stem := strings.TrimSuffix(base, ".gz")
	if stem == "" || strings.Trim(stem, "0123456789") != "" {
		return ""
	}
	return filepath.Base(filepath.Dir(path))
}

// ReaderInput wraps an already open stream (standard input, a pipe).
func ReaderInput(name string, r io.Reader) Input {
	used := false
	return Input{Name: name, Size: -1, Open: func() (io.ReadCloser, error) {
		if used {
			return nil, fmt.Errorf("%s: already read", name)
		}
		used = true
		return io.NopCloser(r), nil
	}}
}

// BytesInput is an in-memory input, handy in tests and examples.
func BytesInput(name string, data []byte) Input {
	return Input{Name: name, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}}
}
