package cli

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tollgatehq/tollgate/internal/client"
	"github.com/tollgatehq/tollgate/internal/server"
)

func newQueueSubmitCmd(cf *queueClientFlags) *cobra.Command {
	var file, format string
	var chunk, chunkJobs int
	var noIDs, wait bool
	var progress progressFlags
	cmd := &cobra.Command{
		Use:   "submit --file jobs.jsonl",
		Short: "Submit any number of jobs from a file (JSON Lines, a JSON array, or one JSON object; - for stdin)",
		Long: `Submit jobs. Each job is {"op": "...", "input": {...}} with optional id,
priority, not_after, not_before (RFC 3339), client_token and group_key.

A request is all or nothing: if any job is invalid, none is stored and the
error names the job, its line and the field. Files of any size are sent in
requests of at most --chunk-jobs jobs and --chunk-bytes bytes, cut at line
boundaries; if a later request fails, the earlier ones stay stored and the
exit code is 3.

Jobs without an id get one made of the file's content and the job's line
(f<hash>-<line>), and the server derives each job's ClientToken from its id:
running the same submit again — after a timeout, say — stores nothing twice
and can never call a customer twice. --no-ids turns this off.

--wait follows the submitted jobs until each has ended, with a progress bar
on a terminal, then prints a summary: succeeded (connected), ended without
connecting and dead-lettered, by reason.`,
		Example: `  tollgate queue submit --file campaign.jsonl
  tollgate queue submit --file campaign.jsonl --wait
  echo '{"op":"StartOutboundVoiceContact","input":{"InstanceId":"…","ContactFlowId":"…","DestinationPhoneNumber":"+12065550100"}}' | tollgate queue submit --file -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			if file == "" {
				return usageError("--file is required (- for stdin)")
			}
			if chunk < 1024 {
				return usageError("--chunk-bytes: must be at least 1024, got %d", chunk)
			}
			if chunkJobs < 1 || chunkJobs > server.MaxJobsPerRequest {
				return usageError("--chunk-jobs: must be 1-%d, got %d", server.MaxJobsPerRequest, chunkJobs)
			}
			var data []byte
			var err error
			if file == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return usageError("--file: %v", err)
			}
			c, err := cf.newClient()
			if err != nil {
				return err
			}
			if !noIDs {
				if data, err = assignIDs(data); err != nil {
					return usageError("--file %s: %v", file, err)
				}
			}
			chunks, starts, err := splitJobs(data, chunk, chunkJobs)
			if err != nil {
				return usageError("--file %s: %v", file, err)
			}
			out := cmd.OutOrStdout()
			total := 0
			var ids []string
			for i, body := range chunks {
				res, err := c.SubmitRaw(cmd.Context(), body)
				if err != nil {
					var ae *client.APIError
					if errors.As(err, &ae) && ae.Jobs != nil {
						for _, j := range ae.Jobs {
							if j.Error == "" {
								total++
							}
						}
						return &ExitError{Code: ExitPartial, Err: fmt.Errorf("%d jobs stored; the server stored part of the request that starts at line %d: %w — run the same submit again: jobs already stored are not stored twice", total, starts[i], err)}
					}
					if errors.As(err, &ae) && starts[i] > 1 {
						err = fmt.Errorf("%w (line numbers are counted from line %d of the file)", err, starts[i])
					}
					if total > 0 {
						return &ExitError{Code: ExitPartial, Err: fmt.Errorf("%d jobs stored from the lines before %d; the rest failed: %w", total, starts[i], err)}
					}
					return &ExitError{Code: ExitFailure, Err: err}
				}
				total += res.Accepted
				for _, j := range res.Jobs {
					ids = append(ids, j.ID)
				}
				if format == "json" && !wait {
					if err := printJSON(out, res); err != nil {
						return err
					}
				}
			}
			if format == "text" {
				fmt.Fprintf(out, "accepted %d job(s)\n", total)
			}
			if !wait {
				return nil
			}
			return waitJobs(cmd, c, ids, format, progress)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "jobs file (JSON Lines, a JSON array or one object); - reads stdin")
	f.StringVar(&format, "format", "text", "output: text or json (the stored ids and tokens; with --wait the summary)")
	f.IntVar(&chunk, "chunk-bytes", 3<<20, "largest request body; larger files are split at line boundaries")
	f.IntVar(&chunkJobs, "chunk-jobs", server.MaxJobsPerRequest, "most jobs in one request (the server accepts at most 10000)")
	f.BoolVar(&noIDs, "no-ids", false, "do not give jobs without an id one made of the file's content and line (a repeated submit then stores them again)")
	f.BoolVar(&wait, "wait", false, "follow the jobs until each has ended, then print the outcome summary")
	progress.register(f)
	return cmd
}

// assignIDs gives every job without an id one made of the content's hash
// and the job's line (or, in a JSON array, its position), so submitting the
// same content again names the same jobs. A JSON array becomes JSON Lines.
func assignIDs(data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	prefix := "f" + hex.EncodeToString(sum[:5]) + "-"
	withID := func(raw []byte, n int) ([]byte, error) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return raw, nil // the server names the problem
		}
		if _, ok := obj["id"]; ok {
			return raw, nil
		}
		obj["id"] = json.RawMessage(strconv.Quote(prefix + strconv.Itoa(n)))
		return json.Marshal(obj)
	}
	t := bytes.TrimSpace(data)
	if len(t) > 0 && t[0] == '{' && json.Valid(t) { // one job, perhaps over several lines
		return withID(t, 1)
	}
	if len(t) > 0 && t[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(t, &items); err != nil {
			return data, nil // sent as is; the server names the problem
		}
		var b bytes.Buffer
		for i, it := range items {
			line, err := withID(it, i+1)
			if err != nil {
				return nil, err
			}
			var c bytes.Buffer
			if json.Compact(&c, line) == nil {
				line = c.Bytes()
			}
			b.Write(line)
			b.WriteByte('\n')
		}
		return b.Bytes(), nil
	}
	var b bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), len(data)+1)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) > 0 {
			var err error
			if line, err = withID(line, n); err != nil {
				return nil, err
			}
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), sc.Err()
}

// splitJobs cuts a JSON Lines body into bodies of at most max bytes and
// maxJobs jobs (non-blank lines) at line boundaries; starts holds each
// chunk's first line number. A JSON array or object is sent whole.
func splitJobs(data []byte, max, maxJobs int) (chunks [][]byte, starts []int, err error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return [][]byte{data}, []int{1}, nil
	}
	if t[0] == '{' && json.Valid(t) {
		return [][]byte{data}, []int{1}, nil
	}
	if t[0] == '[' {
		if len(data) > max {
			return nil, nil, fmt.Errorf("a JSON array of %d bytes is over the %d-byte request limit; use JSON Lines, which is sent in parts", len(data), max)
		}
		return [][]byte{data}, []int{1}, nil
	}
	if len(data) <= max && bytes.Count(data, []byte("\n")) < maxJobs {
		return [][]byte{data}, []int{1}, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), max)
	var cur bytes.Buffer
	line, start, jobs := 0, 1, 0
	for sc.Scan() {
		line++
		blank := len(bytes.TrimSpace(sc.Bytes())) == 0
		if cur.Len() > 0 && (cur.Len()+len(sc.Bytes())+1 > max || (!blank && jobs == maxJobs)) {
			chunks, starts = append(chunks, bytes.Clone(cur.Bytes())), append(starts, start)
			cur.Reset()
			start, jobs = line, 0
		}
		if !blank {
			jobs++
		}
		cur.Write(sc.Bytes())
		cur.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("line %d: %v (a job line may be at most %d bytes)", line+1, err, max)
	}
	if cur.Len() > 0 {
		chunks, starts = append(chunks, cur.Bytes()), append(starts, start)
	}
	return chunks, starts, nil
}
